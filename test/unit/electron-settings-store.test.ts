import { describe, expect, it, vi } from 'vitest';
import {
  ElectronSettingsStore,
  SecretStorageUnavailableError,
  STORE_KEY,
  type KeyValueStore,
  type SafeStorageLike,
} from '../../main/electron/electron-settings-store.js';
import type { Log } from '../../main/electron/types.js';

const PARTNER_SECRET = 'partner-secret-0123456789abcdef';
const ADMIN_TOKEN = 'admin-token-fedcba9876543210';

/** electron-store's surface, kept as JSON text like the real file. */
function fakeStore(): KeyValueStore & { text: string; sets: number } {
  return {
    path: '/home/u/.config/eCDN Appliance/settings.json',
    text: '{}',
    sets: 0,
    get(key) {
      return (JSON.parse(this.text) as Record<string, unknown>)[key];
    },
    set(key, value) {
      this.sets++;
      this.text = JSON.stringify({ ...(JSON.parse(this.text) as object), [key]: value });
    },
  };
}

/** Like Chromium's OSCrypt: a version prefix and a keyed transform (XOR here), so the plain text never shows. */
function fakeSafeStorage(o: { available?: boolean; backend?: string } = {}) {
  const xor = (b: Buffer) => Buffer.from(b.map((x) => x ^ 0x5a));
  return {
    isEncryptionAvailable: vi.fn(() => o.available ?? true),
    encryptString: vi.fn((plain: string) =>
      Buffer.concat([Buffer.from('v10'), xor(Buffer.from(plain, 'utf8'))]),
    ),
    decryptString: vi.fn((enc: Buffer) => {
      if (enc.subarray(0, 3).toString() !== 'v10') throw new Error('Error while decrypting the ciphertext');
      return xor(enc.subarray(3)).toString('utf8');
    }),
    getSelectedStorageBackend: vi.fn(() => (o.backend ?? 'gnome_libsecret') as never),
  } satisfies SafeStorageLike;
}

const fakeLog = () => ({ debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() });

function make(o: { available?: boolean; backend?: string; platform?: NodeJS.Platform } = {}) {
  const store = fakeStore();
  const safeStorage = fakeSafeStorage(o);
  const log = fakeLog();
  const settings = new ElectronSettingsStore({
    store,
    safeStorage,
    platform: o.platform ?? 'linux',
    log: log as unknown as Log,
  });
  return { store, safeStorage, settings, log };
}

describe('ElectronSettingsStore', () => {
  it('is a first run until something is saved', () => {
    expect(make().settings.load()).toBeUndefined();
  });

  it('encrypts the partner secret and admin token with safeStorage, never storing them plain', () => {
    const { store, safeStorage, settings } = make();
    settings.save({
      mode: 'ecdn',
      serviceUrl: 'https://www.kaltura.com',
      partnerId: '123',
      partnerSecret: PARTNER_SECRET,
      adminToken: ADMIN_TOKEN,
    });
    expect(safeStorage.encryptString).toHaveBeenCalledWith(PARTNER_SECRET);
    expect(safeStorage.encryptString).toHaveBeenCalledWith(ADMIN_TOKEN);
    for (const secret of [PARTNER_SECRET, ADMIN_TOKEN]) {
      expect(store.text).not.toContain(secret);
      expect(store.text).not.toContain(Buffer.from(secret).toString('base64'));
    }
    const record = store.get(STORE_KEY) as {
      values: Record<string, string>;
      encrypted: Record<string, string>;
    };
    expect(record.values).toEqual({ mode: 'ecdn', serviceUrl: 'https://www.kaltura.com', partnerId: '123' });
    // base64 of safeStorage's ciphertext
    expect(
      Buffer.from(record.encrypted.partnerSecret as string, 'base64')
        .subarray(0, 3)
        .toString(),
    ).toBe('v10');
    expect(Object.keys(record.encrypted).sort()).toEqual(['adminToken', 'partnerSecret']);
  });

  it('loads what it saved, decrypting the secrets', () => {
    const { settings, safeStorage } = make();
    const saved = {
      mode: 'ecdn',
      partnerId: '123',
      rtmpPort: '1936',
      partnerSecret: PARTNER_SECRET,
      adminToken: ADMIN_TOKEN,
    };
    settings.save(saved);
    expect(settings.load()).toEqual(saved);
    expect(safeStorage.decryptString).toHaveBeenCalledTimes(2);
  });

  it('refuses to store secrets when encryption is unavailable, with a clear error, writing nothing', () => {
    const { store, settings } = make({ available: false });
    let error: unknown;
    try {
      settings.save({ mode: 'ecdn', partnerSecret: PARTNER_SECRET });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SecretStorageUnavailableError);
    expect(error).toMatchObject({ code: 'SECRET_STORAGE_UNAVAILABLE', status: 409 });
    expect((error as Error).message).toMatch(
      /cannot store the partner secret: the OS keychain is not available/,
    );
    expect((error as Error).message).toMatch(/never stored in plain text/);
    expect(store.sets).toBe(0);
    expect(store.text).not.toContain(PARTNER_SECRET);
    // Settings without secrets still save.
    settings.save({ rtmpPort: '1936' });
    expect(settings.load()).toEqual({ rtmpPort: '1936' });
  });

  it("refuses on Linux's basic_text backend (a fixed key is no keychain), but not elsewhere", () => {
    expect(() => make({ backend: 'basic_text' }).settings.save({ adminToken: ADMIN_TOKEN })).toThrow(
      SecretStorageUnavailableError,
    );
    const mac = make({ backend: 'basic_text', platform: 'darwin' });
    mac.settings.save({ adminToken: ADMIN_TOKEN });
    expect(mac.safeStorage.getSelectedStorageBackend).not.toHaveBeenCalled();
    expect(mac.settings.load()).toEqual({ adminToken: ADMIN_TOKEN });
  });

  it('drops a secret it cannot decrypt (keychain changed) with a warning, keeping the rest', () => {
    const { store, settings, log } = make();
    settings.save({ httpPort: '8090', partnerSecret: PARTNER_SECRET });
    const record = store.get(STORE_KEY) as { encrypted: Record<string, string> };
    store.set(STORE_KEY, {
      ...record,
      encrypted: { partnerSecret: Buffer.from('garbage').toString('base64') },
    });
    expect(settings.load()).toEqual({ httpPort: '8090' });
    expect(log.warn).toHaveBeenCalledTimes(1);
    expect(JSON.stringify(log.warn.mock.calls)).not.toContain(PARTNER_SECRET);
  });

  it('ignores unknown keys, non-string values and plain-text secrets in the file', () => {
    const { store, settings } = make();
    store.set(STORE_KEY, {
      version: 1,
      values: { mode: 'standalone', rtmpPort: 1935, bogus: 'x', partnerSecret: 'planted-plain' },
      encrypted: {},
    });
    expect(settings.load()).toEqual({ mode: 'standalone' });
  });

  it('describes where settings live, and whether secrets can be kept', () => {
    expect(make().settings.describe()).toBe(
      'electron-store (/home/u/.config/eCDN Appliance/settings.json); the partner secret and admin token ' +
        'encrypted with the OS keychain (safeStorage, gnome_libsecret)',
    );
    expect(make({ available: false }).settings.describe()).toMatch(
      /secrets are not stored: the OS keychain is not available/,
    );
  });
});
