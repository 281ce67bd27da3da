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
}

export type SetDraft = (patch: Partial<SettingsDraft>) => void;

/** What every group of settings fields gets: the draft, its setter, and the settings in effect. */
export interface SettingsGroupProps {
  draft: SettingsDraft;
  set: SetDraft;
  current: SettingsView;
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

/** The changes as lines for a summary ("RTMP port: 1935 → 1936"); secrets are never shown. */
export function describeChanges(input: SettingsInput, current: SettingsView): string[] {
  const lines: string[] = [];
  for (const [k, v] of Object.entries(input) as Array<[SettingKey, unknown]>) {
    const label = LABELS[k] ?? k;
    if (k === 'partnerSecret' || k === 'adminToken') lines.push(`${label}: a new one is set`);
    else {
      const before = (current as unknown as Record<string, unknown>)[k];
      lines.push(
        before === v ? `${label}: ${String(v)} (unchanged)` : `${label}: ${String(before)} → ${String(v)}`,
      );
    }
  }
  return lines;
}
