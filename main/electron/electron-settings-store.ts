/**
 * The desktop app's `SettingsStore`: electron-store (a JSON file in the app's userData directory), with the
 * partner secret and the admin token encrypted by the OS keychain through Electron's safeStorage and stored
 * as base64. Where no keychain is available (safeStorage says so, or Linux falls back to its fixed-key
 * `basic_text` backend), secrets are refused with a clear error instead of being written in plain text.
 * The store and safeStorage are injected (main.ts passes `new Store()` and `safeStorage`).
 */
import type { SafeStorage } from 'electron';
import { SETTING_KEYS, type SettingKey } from '../contract/contract.js';
import { ControlFailure } from '../contract/contract.js';
import type { SettingsStore, StoredSettings } from '../settings/settings-store.js';
import type { Log } from './types.js';

/** The part of electron-store (conf) this uses. */
export interface KeyValueStore {
  get(key: string): unknown;
  set(key: string, value: unknown): void;
  readonly path: string;
}

export type SafeStorageLike = Pick<SafeStorage, 'isEncryptionAvailable' | 'encryptString' | 'decryptString'> &
  Partial<Pick<SafeStorage, 'getSelectedStorageBackend'>>;

/** Settings that are secrets: only ever stored encrypted. */
export const SECRET_KEYS = ['partnerSecret', 'adminToken'] as const satisfies readonly SettingKey[];
type SecretKey = (typeof SECRET_KEYS)[number];

/** The key in electron-store; its value is a {@link StoredRecord}. */
export const STORE_KEY = 'settings';

/** What is written: plain values, and secrets as base64 of safeStorage's ciphertext. */
interface StoredRecord {
  version: 1;
  values: Partial<Record<Exclude<SettingKey, SecretKey>, string>>;
  encrypted: Partial<Record<SecretKey, string>>;
}

const SECRET_LABEL: Record<SecretKey, string> = {
  partnerSecret: 'the partner secret',
  adminToken: 'the admin token',
};

/** A ControlFailure, so the dashboard shows its message (settings.update answers 409 with it). */
export class SecretStorageUnavailableError extends ControlFailure {
  constructor(message: string) {
    super(409, 'SECRET_STORAGE_UNAVAILABLE', message);
  }
}

function isSecret(key: SettingKey): key is SecretKey {
  return (SECRET_KEYS as readonly string[]).includes(key);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export interface ElectronSettingsStoreOptions {
  store: KeyValueStore;
  safeStorage: SafeStorageLike;
  /** process.platform (injected for tests): the `basic_text` check applies on Linux only. */
  platform?: NodeJS.Platform;
  log?: Log;
}

export class ElectronSettingsStore implements SettingsStore {
  private readonly platform: NodeJS.Platform;

  constructor(private readonly o: ElectronSettingsStoreOptions) {
    this.platform = o.platform ?? process.platform;
  }

  /** Why secrets cannot be stored here, or undefined when the OS keychain is there. */
  private keychainProblem(): string | undefined {
    if (!this.o.safeStorage.isEncryptionAvailable())
      return 'the OS keychain is not available (Electron safeStorage)';
    if (this.platform === 'linux' && this.o.safeStorage.getSelectedStorageBackend?.() === 'basic_text')
      return 'no OS keychain was found (no Secret Service or KWallet: safeStorage would only obfuscate with a fixed key)';
    return undefined;
  }

  load(): StoredSettings | undefined {
    const raw = this.o.store.get(STORE_KEY);
    if (raw === undefined) return undefined;
    const out: StoredSettings = {};
    if (!isRecord(raw)) {
      this.o.log?.warn({ file: this.o.store.path }, 'stored settings are malformed; ignoring them');
      return out;
    }
    const values = isRecord(raw.values) ? raw.values : {};
    for (const key of SETTING_KEYS) {
      const v = values[key];
      if (!isSecret(key) && typeof v === 'string') out[key] = v;
    }
    const encrypted = isRecord(raw.encrypted) ? raw.encrypted : {};
    for (const key of SECRET_KEYS) {
      const v = encrypted[key];
      if (typeof v !== 'string') continue;
      try {
        out[key] = this.o.safeStorage.decryptString(Buffer.from(v, 'base64'));
      } catch (err) {
        // The keychain changed (another user, a reinstalled OS): the secret has to be entered again.
        this.o.log?.warn(
          { setting: key, err: (err as Error).message },
          `could not decrypt ${SECRET_LABEL[key]}; enter it again in the settings`,
        );
      }
    }
    return out;
  }

  save(settings: StoredSettings): void {
    const record: StoredRecord = { version: 1, values: {}, encrypted: {} };
    const secrets = SECRET_KEYS.filter((k) => settings[k] !== undefined && settings[k] !== '');
    if (secrets.length > 0) {
      const problem = this.keychainProblem();
      if (problem)
        throw new SecretStorageUnavailableError(
          `cannot store ${secrets.map((k) => SECRET_LABEL[k]).join(' and ')}: ${problem}, and secrets are ` +
            'never stored in plain text. Give them through the environment instead (ECDN_PARTNER_SECRET or ' +
            '--partner-secret-file, ECDN_ADMIN_TOKEN).',
        );
    }
    for (const key of SETTING_KEYS) {
      const v = settings[key];
      if (v === undefined) continue;
      if (isSecret(key)) {
        if (v !== '') record.encrypted[key] = this.o.safeStorage.encryptString(v).toString('base64');
      } else {
        record.values[key] = v;
      }
    }
    this.o.store.set(STORE_KEY, record);
  }

  describe(): string {
    const problem = this.keychainProblem();
    const where = `electron-store (${this.o.store.path})`;
    if (problem) return `${where}; secrets are not stored: ${problem}`;
    const backend = this.platform === 'linux' ? this.o.safeStorage.getSelectedStorageBackend?.() : undefined;
    return `${where}; the partner secret and admin token encrypted with the OS keychain (safeStorage${
      backend && backend !== 'unknown' ? `, ${backend}` : ''
    })`;
  }
}
