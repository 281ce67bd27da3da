/** The settings form's state, and what to send: only what changed and is not fixed by a flag. */
import { settingsInput, type SettingKey, type SettingsInput, type SettingsView } from '@contract';

export interface SettingsDraft {
  mode: 'standalone' | 'ecdn';
  serviceUrl: string;
  partnerId: string;
  partnerSecret: string;
  serverNodeName: string;
  rtmpPort: string;
  httpPort: string;
  adminPort: string;
  dataDir: string;
  adminToken: string;
  adminTokenRepeat: string;
  publicHost: string;
  webhookUrl: string;
}

/** A problem with one field of the draft, shown inline on it. */
export type FieldProblems = Partial<Record<keyof SettingsDraft, string>>;

export type SetDraft = (patch: Partial<SettingsDraft>) => void;

/**
 * The field problems left after `patch`: a field's problem goes when it changes (the repeated token's with the
 * token); a new mode asks different questions, so none is left.
 */
export function problemsAfter(problems: FieldProblems, patch: Partial<SettingsDraft>): FieldProblems {
  if ('mode' in patch) return {};
  const next = { ...problems };
  for (const k of Object.keys(patch) as Array<keyof SettingsDraft>) delete next[k];
  if ('adminToken' in patch) delete next.adminTokenRepeat;
  return next;
}

/** What every group of settings fields gets: the draft, its setter, and the settings in effect. */
export interface SettingsGroupProps {
  draft: SettingsDraft;
  set: SetDraft;
  current: SettingsView;
  /** Problems found on Next or Save, shown on their fields. */
  errors?: FieldProblems;
}

export function draftFrom(s: SettingsView): SettingsDraft {
  return {
    mode: s.mode,
    serviceUrl: s.serviceUrl,
    partnerId: String(s.partnerId),
    partnerSecret: '',
    serverNodeName: s.serverNodeName,
    rtmpPort: String(s.rtmpPort),
    httpPort: String(s.httpPort),
    adminPort: String(s.adminPort),
    dataDir: s.dataDir,
    adminToken: '',
    adminTokenRepeat: '',
    publicHost: s.publicHost,
    webhookUrl: s.webhookUrl,
  };
}

export const LABELS: Record<SettingKey, string> = {
  mode: 'Mode',
  serviceUrl: 'Service URL',
  partnerId: 'Partner id',
  partnerSecret: 'Partner secret',
  serverNodeName: 'Server node name',
  rtmpPort: 'RTMP port',
  httpPort: 'Origin (HTTP) port',
  adminPort: 'Admin port',
  dataDir: 'Data directory',
  adminToken: 'Admin token',
  publicHost: 'Address for encoders and viewers',
  webhookUrl: 'Webhook URLs',
};

const num = (v: string) => (v.trim() === '' ? Number.NaN : Number(v));

/**
 * The settings.update request for a draft: the fields that differ from the current settings and are not
 * fixed (the mode always, when not fixed, so that a first run with every default still saves). Problems are
 * what the contract's schema (and the token repeat) say about it.
 */
export function inputFrom(
  draft: SettingsDraft,
  current: SettingsView,
): { input: SettingsInput; problems: string[] } {
  const out: Record<string, unknown> = {};
  const free = (k: SettingKey) => current.fixed[k] === undefined;
  if (free('mode')) out.mode = draft.mode;
  if (draft.mode === 'ecdn') {
    if (free('serviceUrl') && draft.serviceUrl.trim() !== current.serviceUrl)
      out.serviceUrl = draft.serviceUrl.trim();
    if (free('partnerSecret') && draft.partnerSecret !== '') out.partnerSecret = draft.partnerSecret;
    if (free('serverNodeName') && draft.serverNodeName.trim() !== current.serverNodeName)
      out.serverNodeName = draft.serverNodeName.trim();
  }
  if (free('partnerId') && num(draft.partnerId) !== current.partnerId) out.partnerId = num(draft.partnerId);
  for (const k of ['rtmpPort', 'httpPort', 'adminPort'] as const)
    if (free(k) && num(draft[k]) !== current[k]) out[k] = num(draft[k]);
  if (free('dataDir') && draft.dataDir.trim() !== current.dataDir) out.dataDir = draft.dataDir.trim();
  if (free('adminToken') && draft.adminToken !== '') out.adminToken = draft.adminToken;
  if (free('publicHost') && draft.publicHost.trim() !== current.publicHost) {
    // Empty, or the detected address: no address of its own (the detected one follows the machine).
    const host = draft.publicHost.trim();
    out.publicHost = host === current.detectedPublicHost ? '' : host;
    if (out.publicHost === '' && current.publicHost === current.detectedPublicHost) delete out.publicHost;
  }
  if (free('webhookUrl') && normalUrls(draft.webhookUrl) !== normalUrls(current.webhookUrl))
    out.webhookUrl = normalUrls(draft.webhookUrl);

  const problems: string[] = [];
  if (draft.adminToken !== draft.adminTokenRepeat) problems.push('The two admin tokens differ.');
  if (draft.mode === 'ecdn' && free('mode')) {
    if (!draft.serviceUrl.trim()) problems.push('eCDN mode needs the service URL.');
    if (!draft.partnerSecret && !current.hasPartnerSecret && free('partnerSecret'))
      problems.push('eCDN mode needs the partner secret.');
  }
  const parsed = settingsInput.safeParse(out);
  if (!parsed.success)
    for (const issue of parsed.error.issues) {
      const key = issue.path[0];
      const label = typeof key === 'string' && key in LABELS ? LABELS[key as SettingKey] : String(key ?? '');
      problems.push(`${label}: ${issue.message}`);
    }
  return { input: parsed.success ? parsed.data : (out as SettingsInput), problems };
}

/** Comma-separated URLs as saved: trimmed, one comma and space between. */
function normalUrls(text: string): string {
  return text
    .split(/[,\s]+/)
    .map((u) => u.trim())
    .filter(Boolean)
    .join(', ');
}

/** The draft's fields each setting is typed in. */
const FIELD_OF: Partial<Record<SettingKey, keyof SettingsDraft>> = {
  serviceUrl: 'serviceUrl',
  partnerId: 'partnerId',
  partnerSecret: 'partnerSecret',
  serverNodeName: 'serverNodeName',
  rtmpPort: 'rtmpPort',
  httpPort: 'httpPort',
  adminPort: 'adminPort',
  dataDir: 'dataDir',
  adminToken: 'adminToken',
  publicHost: 'publicHost',
  webhookUrl: 'webhookUrl',
};

/**
 * The problems of a draft, each on its field (what the contract's schema says, the token typed twice, what eCDN
 * mode needs, ports that collide, webhook URLs that are not http(s)).
 */
export function fieldProblems(draft: SettingsDraft, current: SettingsView): FieldProblems {
  const out: FieldProblems = {};
  const free = (k: SettingKey) => current.fixed[k] === undefined;
  const { input } = inputFrom(draft, current);
  const parsed = settingsInput.safeParse(input);
  if (!parsed.success)
    for (const issue of parsed.error.issues) {
      const field = FIELD_OF[issue.path[0] as SettingKey];
      if (field && out[field] === undefined) out[field] = issue.message;
    }
  if (draft.mode === 'ecdn' && free('mode')) {
    if (!draft.serviceUrl.trim() && free('serviceUrl')) out.serviceUrl = 'eCDN mode needs the service URL.';
    if (!draft.partnerSecret && !current.hasPartnerSecret && free('partnerSecret'))
      out.partnerSecret = 'eCDN mode needs the partner secret.';
  }
  for (const k of ['rtmpPort', 'httpPort', 'adminPort'] as const) {
    if (!free(k) || out[k]) continue;
    const v = num(draft[k]);
    if (!Number.isInteger(v) || v < 1 || v > 65535) out[k] = 'A port is a whole number from 1 to 65535.';
  }
  const ports = (['rtmpPort', 'httpPort', 'adminPort'] as const).map((k) => draft[k].trim());
  if (new Set(ports).size !== ports.length)
    for (const k of ['rtmpPort', 'httpPort', 'adminPort'] as const)
      if (ports.filter((p) => p === draft[k].trim()).length > 1)
        out[k] ??= 'The RTMP, HTTP and admin ports must differ.';
  for (const u of normalUrls(draft.webhookUrl).split(', ').filter(Boolean)) {
    if (!free('webhookUrl')) break;
    if (!/^https?:\/\/[^\s/]+/.test(u)) {
      out.webhookUrl = `${u} is not an http(s) URL.`;
      break;
    }
  }
  if (normalUrls(draft.webhookUrl) && !current.hasWebhookSecret && free('webhookUrl'))
    out.webhookUrl ??=
      'Webhooks are signed: start the appliance with ECDN_WEBHOOK_SECRET set (it is never stored here).';
  if (draft.adminToken !== draft.adminTokenRepeat) out.adminTokenRepeat = 'The two admin tokens differ.';
  return out;
}

/** The URLs encoders and viewers use with this address and these ports. */
export function urlsFor(
  draft: SettingsDraft,
  current: SettingsView,
): { rtmp: string; origin: string; admin: string } {
  const raw = draft.publicHost.trim() || current.detectedPublicHost;
  const host = raw.includes(':') && !raw.startsWith('[') ? `[${raw}]` : raw;
  return {
    rtmp: `rtmp://${host}:${draft.rtmpPort.trim()}/kLive`,
    origin: `http://${host}:${draft.httpPort.trim()}/`,
    admin: `http://${host}:${draft.adminPort.trim()}/`,
  };
}

/** The changes as lines for a summary ("RTMP port: 1935 → 1936"); secrets are never shown. */
export function describeChanges(input: SettingsInput, current: SettingsView): string[] {
  const lines: string[] = [];
  for (const [k, v] of Object.entries(input) as Array<[SettingKey, unknown]>) {
    const label = LABELS[k] ?? k;
    if (k === 'partnerSecret' || k === 'adminToken') lines.push(`${label}: a new one is set`);
    else if (k === 'publicHost' && v === '')
      lines.push(`${label}: the detected ${current.detectedPublicHost}`);
    else {
      const before = (current as unknown as Record<string, unknown>)[k];
      lines.push(
        before === v ? `${label}: ${String(v)} (unchanged)` : `${label}: ${String(before)} → ${String(v)}`,
      );
    }
  }
  return lines;
}
