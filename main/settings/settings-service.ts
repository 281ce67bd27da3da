/**
 * The settings the dashboard reads and writes (first-run wizard, settings page): what flags and environment
 * variables leave open, stored in a `SettingsStore`, applied by restarting the core. Secrets are write-only.
 */
import fs from 'node:fs';
import {
  SETTING_KEYS,
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
  update(
    input: SettingsInput,
  ): Promise<{ settings: SettingsView; restartRequired: boolean; restarting: boolean }>;
  testConnection(
    body: TestConnectionBody,
  ): Promise<{ ok: true; partnerId: number; partnerName?: string; message: string }>;
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
}

/** How options come about, from the composition root: flags and environment over stored settings over defaults. */
export interface OptionsSource<O extends SettingsOptions> {
  /** The options with these stored settings under the flags; throws a 400 ControlFailure with the reason. */
  load(stored: StoredSettings): O;
  /** Option keys a flag or an environment variable fixes, with which (`--http-port flag`). */
  fixed(): Partial<Record<string, string>>;
  /** The server node name when none is configured. */
  defaultServerNodeName(): string;
}

export interface SettingsServiceOptions<O extends SettingsOptions = SettingsOptions> {
  store: SettingsStore;
  options: OptionsSource<O>;
  /** The options the running core uses. */
  current: () => O;
  /** Restarts the core with these options (the saved settings), after the response has gone out. */
  restart: (next: O) => void;
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
    return settingsView(
      options,
      this.fixed(),
      this.o.store.describe(),
      this.o.options.defaultServerNodeName(),
    );
  }

  async update(
    input: SettingsInput,
  ): Promise<{ settings: SettingsView; restartRequired: boolean; restarting: boolean }> {
    const fixed = this.fixed();
    for (const k of Object.keys(input) as SettingKey[]) {
      if (fixed[k]) throw new ControlFailure(409, 'SETTING_FIXED', `${k} is set by the ${fixed[k]}`);
    }
    const stored: StoredSettings = { ...(this.o.store.load() ?? {}) };
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
    this.o.store.save(stored);
    const changed = SETTING_KEYS.filter((k) => String(next[k] ?? '') !== String(current[k] ?? ''));
    const restartRequired = changed.length > 0;
    if (restartRequired) this.o.restart(next);
    return { settings: this.view(next), restartRequired, restarting: restartRequired };
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

/** The settings as the dashboard sees them: the options in effect, secrets only as "set". */
export function settingsView(
  options: SettingsOptions,
  fixed: SettingsView['fixed'],
  storage: string,
  defaultServerNodeName: string,
): SettingsView {
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
  };
}
