import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signQuery, verifyRequest } from '../../main/access/signed-url.js';
import { SIGNING_KEYS_FILE, SigningKeys, SigningKeysError } from '../../main/access/signing-keys.js';

const HOUR = 3600_000;
const SCOPE = '/0_abcdefgh/0_abcdefgh.isml/';
const PATH = `${SCOPE}master.m3u8`;

let dir: string;
let clock: number;
const now = () => clock;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signing-keys-'));
  clock = 1_700_000_000_000;
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const file = () => path.join(dir, SIGNING_KEYS_FILE);
const stored = () => JSON.parse(fs.readFileSync(file(), 'utf8')) as { keys: Array<Record<string, unknown>> };

/** Signs with the store's current key and verifies against the store, at the store's clock. */
function signAndVerify(keys: SigningKeys, query?: string) {
  const qs =
    query ?? signQuery(keys.current(), { scope: SCOPE, expiresAt: Math.floor(clock / 1000) + 86_400 });
  const r = verifyRequest(
    keys,
    PATH,
    Object.fromEntries(new URLSearchParams(qs)),
    '10.0.0.5',
    Math.floor(clock / 1000),
  );
  return { qs, result: r.ok ? 'ok' : r.denial };
}

describe('SigningKeys', () => {
  it('creates the file with one well-formed key, mode 0600', () => {
    const keys = new SigningKeys(path.join(dir, 'nested'), HOUR, now);
    const k = keys.current();
    expect(k.id).toMatch(/^[a-z0-9]{8}$/);
    expect(k.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(k.secret, 'base64url')).toHaveLength(32);
    expect(k.createdAt).toBe(clock);
    expect(k.retiredAt).toBeUndefined();
    const f = path.join(dir, 'nested', SIGNING_KEYS_FILE);
    if (process.platform !== 'win32') expect(fs.statSync(f).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(path.join(dir, 'nested'))).toEqual([SIGNING_KEYS_FILE]);
  });

  it('loads the same key on restart', () => {
    const a = new SigningKeys(dir, HOUR, now);
    const b = new SigningKeys(dir, HOUR, now);
    expect(b.current()).toEqual(a.current());
    const { qs } = signAndVerify(a);
    expect(signAndVerify(b, qs).result).toBe('ok');
  });

  it('generates distinct secrets', () => {
    const a = new SigningKeys(dir, HOUR, now).current();
    const b = new SigningKeys(fs.mkdtempSync(path.join(dir, 'x')), HOUR, now).current();
    expect(a.secret).not.toBe(b.secret);
  });

  it('revoking a key stops its URLs at once, even within their expiry; the current key is replaced first', () => {
    const keys = new SigningKeys(dir, HOUR, now);
    const leaked = keys.current();
    const { qs } = signAndVerify(keys);
    expect(signAndVerify(keys, qs).result).toBe('ok');
    expect(keys.revoke(leaked.id)).toBe(true);
    expect(keys.current().id).not.toBe(leaked.id);
    expect(keys.find(leaked.id)).toBeUndefined();
    expect(signAndVerify(keys, qs).result).not.toBe('ok');
    // Persisted: a restart does not bring it back.
    expect(new SigningKeys(dir, HOUR, now).find(leaked.id)).toBeUndefined();
    expect(keys.revoke('no-such-key')).toBe(false);
  });

  it('rotation keeps the old key verifying within the overlap only', () => {
    const keys = new SigningKeys(dir, HOUR, now);
    const old = keys.current();
    const { qs } = signAndVerify(keys);

    clock += 1000;
    const fresh = keys.rotate();
    expect(fresh.id).not.toBe(old.id);
    expect(keys.current()).toEqual(fresh);
    expect(keys.find(old.id)).toEqual({ ...old, retiredAt: clock });
    expect(keys.find(fresh.id)).toEqual(fresh);
    expect(signAndVerify(keys, qs).result).toBe('ok');
    expect(signAndVerify(keys).result).toBe('ok');

    clock += HOUR; // exactly the overlap: still honoured
    expect(signAndVerify(keys, qs).result).toBe('ok');
    clock += 1;
    expect(keys.find(old.id)).toBeUndefined();
    expect(signAndVerify(keys, qs).result).toBe('unknown-key');
    expect(signAndVerify(keys).result).toBe('ok');
  });

  it('persists rotation atomically and reloads retired keys within the overlap', () => {
    const keys = new SigningKeys(dir, HOUR, now);
    const old = keys.current();
    const { qs } = signAndVerify(keys);
    clock += 1000;
    const fresh = keys.rotate();
    expect(fs.readdirSync(dir)).toEqual([SIGNING_KEYS_FILE]); // no temporary files left
    if (process.platform !== 'win32') expect(fs.statSync(file()).mode & 0o777).toBe(0o600);

    clock += HOUR / 2;
    const reloaded = new SigningKeys(dir, HOUR, now);
    expect(reloaded.current()).toEqual(fresh);
    expect(reloaded.find(old.id)?.retiredAt).toBe(clock - HOUR / 2);
    expect(signAndVerify(reloaded, qs).result).toBe('ok');
  });

  it('drops keys retired longer ago than the overlap, on load and on rotate', () => {
    const keys = new SigningKeys(dir, HOUR, now);
    const first = keys.current();
    const second = keys.rotate();
    expect(stored().keys.map((k) => k.id)).toEqual([first.id, second.id]);

    clock += 2 * HOUR;
    new SigningKeys(dir, HOUR, now); // load prunes and rewrites
    expect(stored().keys.map((k) => k.id)).toEqual([second.id]);

    clock += 1000;
    const third = keys.rotate(); // the in-memory store had `first`; rotate prunes it too
    expect(stored().keys.map((k) => k.id)).toEqual([second.id, third.id]);
    clock += 2 * HOUR;
    const fourth = keys.rotate();
    expect(stored().keys.map((k) => k.id)).toEqual([third.id, fourth.id]);
  });

  it('an overlap of zero still honours the old key at the instant of rotation only', () => {
    const keys = new SigningKeys(dir, 0, now);
    const old = keys.current();
    keys.rotate();
    expect(keys.find(old.id)).toBeDefined();
    clock += 1;
    expect(keys.find(old.id)).toBeUndefined();
  });

  it('list() describes the keys, newest first, without secrets', () => {
    const keys = new SigningKeys(dir, HOUR, now);
    const old = keys.current();
    clock += 1000;
    const fresh = keys.rotate();
    const listed = keys.list();
    expect(listed).toEqual([
      { id: fresh.id, createdAt: fresh.createdAt, current: true },
      { id: old.id, createdAt: old.createdAt, retiredAt: clock, current: false },
    ]);
    const text = JSON.stringify(listed);
    expect(text).not.toContain(old.secret);
    expect(text).not.toContain(fresh.secret);
    for (const entry of listed) expect(Object.keys(entry)).not.toContain('secret');
    clock += 2 * HOUR;
    expect(keys.list().map((k) => k.id)).toEqual([fresh.id]);
  });

  it('find() does not know unknown ids and returns copies', () => {
    const keys = new SigningKeys(dir, HOUR, now);
    expect(keys.find('zzzzzzzz')).toBeUndefined();
    const k = keys.find(keys.current().id);
    if (k) k.secret = 'tampered';
    expect(keys.current().secret).not.toBe('tampered');
  });

  it('narrows a file left readable by others to 0600', () => {
    if (process.platform === 'win32') return;
    new SigningKeys(dir, HOUR, now);
    fs.chmodSync(file(), 0o644);
    new SigningKeys(dir, HOUR, now);
    expect(fs.statSync(file()).mode & 0o777).toBe(0o600);
  });

  it('refuses a corrupt file rather than replacing the secrets', () => {
    fs.writeFileSync(file(), '{not json', { mode: 0o600 });
    expect(() => new SigningKeys(dir, HOUR, now)).toThrow(SigningKeysError);
    fs.writeFileSync(file(), JSON.stringify({ keys: [{ id: 'BAD', secret: 'x', createdAt: 1 }] }));
    expect(() => new SigningKeys(dir, HOUR, now)).toThrow(SigningKeysError);
    expect(fs.readFileSync(file(), 'utf8')).toContain('BAD');
  });

  it('creates a current key when the file only holds retired ones', () => {
    const keys = new SigningKeys(dir, HOUR, now);
    const old = keys.current();
    const doc = stored();
    doc.keys[0]!.retiredAt = clock;
    fs.writeFileSync(file(), JSON.stringify(doc));
    const reloaded = new SigningKeys(dir, HOUR, now);
    expect(reloaded.current().id).not.toBe(old.id);
    expect(reloaded.find(old.id)).toBeDefined();
    expect(stored().keys).toHaveLength(2);
  });

  it('rejects a negative overlap', () => {
    expect(() => new SigningKeys(dir, -1, now)).toThrow(RangeError);
  });
});
