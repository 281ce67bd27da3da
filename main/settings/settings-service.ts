/**
 * The settings the dashboard reads and writes (first-run wizard, settings page): what flags and environment
 * variables leave open, stored in a `SettingsStore`. The admin token and the webhook URLs apply to the running
 * core at once; anything else restarts the core, which never silently cuts a live event: while a channel is live
 * a restart happens only when asked for (`apply: "now"`), or the change waits for the next restart
 * (`apply: "later"`). Secrets are write-only.
 */
import fs from 'node:fs';
import {
  LIVE_SETTING_KEYS,
  SETTING_KEYS,
  type SettingsApply,
  type SettingKey,
  type SettingsInput,
  type SettingsView,
  type TestConnectionBody,
} from '../contract/contract.js';
import { ControlFailure } from '../contract/contract.js';
import { KalturaClient, serviceUrlProblem } from '../partner/kaltura/client.js';
import { checkBinding, type BindingCheck } from '../partner/kaltura-partner.js';
import type { SettingsStore, StoredSettings } from './settings-store.js';

export interface SettingsPort {
  view(): SettingsView;
  /** No settings were ever saved. */
  firstRun(): boolean;
  update(input: SettingsInput, apply?: SettingsApply): Promise<SettingsUpdateResult>;
  testConnection(
    body: TestConnectionBody,
  ): Promise<{ ok: true; partnerId: number; partnerName?: string; message: string }>;
}

export interface SettingsUpdateResult {
  settings: SettingsView;
  restartRequired: boolean;
  restarting: boolean;
  /** Settings applied to the running core without a restart. */
  applied: SettingKey[];
}

/** What a restart would cut now. */
export interface LiveNowView {
  channels: Array<{ name: string; viewers: number }>;
  viewers: number;
}

export type CheckBinding = (cfg: {
  serviceUrl: string;
  partnerId: number;
  adminSecret: string;
}) => Promise<BindingCheck>;

/** The options the settings read (the appliance's options have these, and more). */
export interface SettingsOptions {
  mode: 'standalone' | 'ecdn';
  serviceUrl?: string | undefined;
  partnerId: number;
  partnerSecret?: string | undefined;
  partnerSecretFile?: string | undefined;
  serverNodeName?: string | undefined;
  rtmpPort: number;
  httpPort: number;
  adminPort: number;
  dataDir: string;
  adminToken?: string | undefined;
  bind?: string;
  publicHost?: string | undefined;
  webhookUrl?: string;
  webhookSecret?: string | undefined;
}

/** How options come about, from the composition root: flags and environment over stored settings over defaults. */
export interface OptionsSource<O extends SettingsOptions> {
  /** The options with these stored settings under the flags; throws a 400 ControlFailure with the reason. */
  load(stored: StoredSettings): O;
  /** Option keys a flag or an environment variable fixes, with which (`--http-port flag`). */
  fixed(): Partial<Record<string, string>>;
  /** The server node name when none is configured. */
  defaultServerNodeName(): string;
  /** The address written into URLs when no public host is configured (the first LAN address). */
  defaultPublicHost?(bind: string): string;
}

export interface SettingsServiceOptions<O extends SettingsOptions = SettingsOptions> {
  store: SettingsStore;
  options: OptionsSource<O>;
  /** The options the running core uses. */
  current: () => O;
  /** Restarts the core with these options (the saved settings), after the response has gone out. */
  restart: (next: O) => void;
  /** Applies these settings (of LIVE_SETTING_KEYS) to the running core, without a restart. */
  applyLive?: (next: O, keys: SettingKey[]) => void;
  /** The channels live now, with their viewers (a restart would cut them). */
  liveNow?: () => LiveNowView;
  /** Where a generated admin token is kept (headless: the data directory's file; desktop: memory). */
  generatedToken?: 'file' | 'memory';
  /** Headless, the settings file lives in the data directory, so the data directory is a flag. */
  dataDirEditable: boolean;
  checkBinding?: CheckBinding;
}

/** The same check as the running binding's (partner.getInfo, then the Hybrid eCDN permission probe). */
const kalturaCheck: CheckBinding = (cfg) =>
  checkBinding(
    new KalturaClient({ ...cfg, timeoutMs: 10_000, serverNodeName: 'connection-test' }),
    cfg.partnerId,
  );

export class SettingsService<O extends SettingsOptions = SettingsOptions> implements SettingsPort {
  constructor(private readonly o: SettingsServiceOptions<O>) {}

  firstRun(): boolean {
    return this.o.store.load() === undefined;
  }

  private fixed(): Partial<Record<SettingKey, string>> {
    const byFlag = this.o.options.fixed();
    const out: Partial<Record<SettingKey, string>> = {};
    for (const k of SETTING_KEYS) if (byFlag[k]) out[k] = byFlag[k];
    if (!out.partnerSecret && byFlag.partnerSecretFile) out.partnerSecret = byFlag.partnerSecretFile;
    if (!this.o.dataDirEditable && !out.dataDir)
      out.dataDir = 'the settings file lives in the data directory: start with --data-dir to change it';
    return out;
  }

  view(options: O = this.o.current()): SettingsView {
    const fixed = this.fixed();
    return settingsView(options, fixed, this.o.store.describe(), this.o.options.defaultServerNodeName(), {
      detectedPublicHost: this.o.options.defaultPublicHost?.(options.bind ?? '0.0.0.0'),
      adminTokenSource: this.adminTokenSource(options, fixed),
    });
  }

  /** Where the admin token in effect comes from, in words (also the sign-in page's hint). */
  private adminTokenSource(options: O, fixed: Partial<Record<SettingKey, string>>): string {
    if (fixed.adminToken) return `the ${fixed.adminToken}`;
    if (options.adminToken) return `the settings (${this.o.store.describe()})`;
    return this.o.generatedToken === 'memory'
      ? 'generated for this run of the desktop app (set one here to sign in from a browser)'
      : `generated, in ${options.dataDir}/admin-token`;
  }

  async update(input: SettingsInput, apply: SettingsApply = 'ifIdle'): Promise<SettingsUpdateResult> {
    const fixed = this.fixed();
    for (const k of Object.keys(input) as SettingKey[]) {
      if (fixed[k]) throw new ControlFailure(409, 'SETTING_FIXED', `${k} is set by the ${fixed[k]}`);
    }
    const previous: StoredSettings = this.o.store.load() ?? {};
    const stored: StoredSettings = { ...previous };
    const current = this.o.current();
    const retargeted =
      (input.serviceUrl !== undefined && input.serviceUrl !== (current.serviceUrl ?? '')) ||
      (input.partnerId !== undefined && input.partnerId !== current.partnerId);
    if (retargeted && input.partnerSecret === undefined && this.storedSecret() !== undefined) {
      // The stored secret stays with the service and partner it was given for.
      delete stored.partnerSecret;
      if (fixed.partnerSecret)
        throw new ControlFailure(
          409,
          'SETTING_FIXED',
          `the partner secret is set by the ${fixed.partnerSecret}: change the service URL and partner there too`,
        );
    }
    for (const [k, v] of Object.entries(input)) if (v !== undefined) stored[k as SettingKey] = String(v);
    const next = this.o.options.load(stored);
    const ports = [next.rtmpPort, next.httpPort, next.adminPort];
    if (new Set(ports).size !== ports.length)
      throw new ControlFailure(400, 'BAD_REQUEST', 'the RTMP, HTTP and admin ports must differ');
    const differs = (a: O, b: O) => SETTING_KEYS.filter((k) => String(a[k] ?? '') !== String(b[k] ?? ''));
    const needsRestart = (keys: SettingKey[]) =>
      keys.some((k) => !this.o.applyLive || !LIVE_SETTING_KEYS.includes(k));
    // What differs from the running core (changes saved "for later" included), and what this save changes.
    const pending = differs(next, current);
    const changedNow = differs(next, this.loadOr(previous, current));
    const live = this.o.applyLive ? pending.filter((k) => LIVE_SETTING_KEYS.includes(k)) : [];
    const restartRequired = needsRestart(pending);
    // Only a save that changes something needing a restart (or says "now") restarts, or asks first.
    const wantsRestart = restartRequired && (apply === 'now' || needsRestart(changedNow));
    if (wantsRestart && apply === 'ifIdle') {
      const now = this.o.liveNow?.();
      if (now && now.channels.length > 0) throw channelsLive(now);
    }
    this.o.store.save(stored);
    if (live.length > 0) this.o.applyLive?.(next, live);
    const restarting = wantsRestart && apply !== 'later';
    if (restarting) this.o.restart(next);
    // Without a restart, the view is the running core's: what applied live, and what waits for the restart.
    const inEffect = restarting ? next : this.o.current();
    return { settings: this.view(inEffect), restartRequired, restarting, applied: live };
  }

  /** The options these stored settings make, or `fallback` when they do not load. */
  private loadOr(stored: StoredSettings, fallback: O): O {
    try {
      return this.o.options.load(stored);
    } catch {
      return fallback;
    }
  }

  async testConnection(
    body: TestConnectionBody,
  ): Promise<{ ok: true; partnerId: number; partnerName?: string; message: string }> {
    const urlProblem = serviceUrlProblem(body.serviceUrl);
    if (urlProblem) throw new ControlFailure(400, 'BAD_REQUEST', urlProblem);
    let adminSecret = body.partnerSecret;
    if (adminSecret === undefined) {
      // The stored secret is used only with the stored service and partner: it never signs a KS for anyone else.
      const current = this.o.current();
      if (body.serviceUrl !== (current.serviceUrl ?? '') || body.partnerId !== current.partnerId)
        throw new ControlFailure(
          400,
          'BAD_REQUEST',
          "give the partner's admin secret again to test another service URL or partner",
        );
      adminSecret = this.storedSecret();
    }
    if (!adminSecret)
      throw new ControlFailure(400, 'BAD_REQUEST', "give the partner's admin secret to test the connection");
    const r = await (this.o.checkBinding ?? kalturaCheck)({
      serviceUrl: body.serviceUrl,
      partnerId: body.partnerId,
      adminSecret,
    });
    if (!r.ok) throw new ControlFailure(502, 'CONNECTION_FAILED', `${r.message}. ${r.fix}`);
    return {
      ok: true,
      partnerId: r.partnerId,
      ...(r.name !== undefined ? { partnerName: r.name } : {}),
      message: `connected: ${r.message}`,
    };
  }

  private storedSecret(): string | undefined {
    const o = this.o.current();
    if (o.partnerSecret) return o.partnerSecret;
    if (o.partnerSecretFile) {
      try {
        return fs.readFileSync(o.partnerSecretFile, 'utf8').trim() || undefined;
      } catch {
        return undefined;
      }
    }
    return this.o.store.load()?.partnerSecret;
  }
}

/** The 409 of a change that would restart the core while channels are live: how many, and how many watch. */
export function channelsLive(now: LiveNowView): ControlFailure {
  const n = now.channels.length;
  const names = now.channels.map((c) => `“${c.name}”`).join(', ');
  return new ControlFailure(
    409,
    'CHANNELS_LIVE',
    `${n === 1 ? '1 channel is' : `${n} channels are`} live (${names}) with ` +
      `${now.viewers === 1 ? '1 viewer' : `${now.viewers} viewers`}: applying these settings restarts the ` +
      'appliance and cuts them. Save them for the next restart, or interrupt the live channels and save now.',
  );
}

/** The settings as the dashboard sees them: the options in effect, secrets only as "set". */
export function settingsView(
  options: SettingsOptions,
  fixed: SettingsView['fixed'],
  storage: string,
  defaultServerNodeName: string,
  extra: { detectedPublicHost?: string | undefined; adminTokenSource?: string } = {},
): SettingsView {
  const detected = extra.detectedPublicHost ?? options.publicHost ?? '';
  return {
    mode: options.mode,
    serviceUrl: options.serviceUrl ?? '',
    partnerId: options.partnerId,
    hasPartnerSecret: Boolean(options.partnerSecret || options.partnerSecretFile),
    serverNodeName: options.serverNodeName ?? defaultServerNodeName,
    rtmpPort: options.rtmpPort,
    httpPort: options.httpPort,
    adminPort: options.adminPort,
    dataDir: options.dataDir,
    fixed,
    storage,
    publicHost: options.publicHost ?? detected,
    detectedPublicHost: detected,
    webhookUrl: options.webhookUrl ?? '',
    hasWebhookSecret: Boolean(options.webhookSecret),
    adminTokenSource:
      extra.adminTokenSource ?? (fixed.adminToken ? `the ${fixed.adminToken}` : 'the appliance start'),
  };
}
