/**
 * The secrets behind signed playback URLs (secure streaming): kept in `<dataDir>/url-signing-keys.json`
 * (mode 0600). One key is current and signs; after a rotation the previous key is retired but still verifies
 * for `overlapMs`, so URLs handed out just before the rotation keep working until the overlap ends.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { randomHex, randomToken } from '../lib/random-id.js';

export const SIGNING_KEYS_FILE = 'url-signing-keys.json';

export interface SigningKey {
  /** Short, `[a-z0-9]{8}`; travels in the URL as `kid`. */
  id: string;
  /** base64url of 32 random bytes; never leaves the appliance. */
  secret: string;
  /** ms since the epoch. */
  createdAt: number;
  /** ms since the epoch; absent on the current key. */
  retiredAt?: number;
}

export class SigningKeysError extends Error {
  readonly code = 'INVALID_SIGNING_KEYS';
}

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const ID_RE = /^[a-z0-9]{8}$/;
const SECRET_RE = /^[A-Za-z0-9_-]{43}$/;

function newKey(createdAt: number, taken: ReadonlySet<string>): SigningKey {
  let id: string;
  do {
    id = '';
    for (let i = 0; i < 8; i++) id += ID_ALPHABET[crypto.randomInt(ID_ALPHABET.length)];
  } while (taken.has(id));
  return { id, secret: randomToken(32), createdAt };
}

function isTime(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}

function parseKeys(text: string, file: string): SigningKey[] {
  const fail = (why: string): never => {
    throw new SigningKeysError(`${file}: ${why}`);
  };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return fail('not valid JSON');
  }
  const raw = (doc as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(raw)) return fail('expected {"keys": [...]}');
  const keys: SigningKey[] = [];
  const seen = new Set<string>();
  for (const k of raw as unknown[]) {
    const o = (k ?? {}) as Record<string, unknown>;
    const { id, secret, createdAt, retiredAt } = o;
    if (typeof id !== 'string' || !ID_RE.test(id)) return fail('a key has a malformed id');
    if (seen.has(id)) return fail(`key id ${id} appears twice`);
    seen.add(id);
    if (typeof secret !== 'string' || !SECRET_RE.test(secret))
      return fail(`key ${id} has a malformed secret`);
    if (!isTime(createdAt)) return fail(`key ${id} has a malformed createdAt`);
    if (retiredAt !== undefined && !isTime(retiredAt)) return fail(`key ${id} has a malformed retiredAt`);
    keys.push(retiredAt === undefined ? { id, secret, createdAt } : { id, secret, createdAt, retiredAt });
  }
  if (keys.filter((k) => k.retiredAt === undefined).length > 1) return fail('more than one current key');
  return keys;
}

export class SigningKeys {
  private readonly file: string;
  private keys: SigningKey[];

  /** Loads `<dataDir>/url-signing-keys.json` (file mode 0600) or creates it with one key. Keys retired longer ago than `overlapMs` are dropped on load and on rotate. */
  constructor(
    dataDir: string,
    private readonly overlapMs: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!Number.isFinite(overlapMs) || overlapMs < 0) {
      throw new RangeError(`overlapMs must be a non-negative number, got ${overlapMs}`);
    }
    this.file = path.join(dataDir, SIGNING_KEYS_FILE);
    let loaded: SigningKey[] | undefined;
    try {
      loaded = parseKeys(fs.readFileSync(this.file, 'utf8'), this.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (loaded === undefined) {
      fs.mkdirSync(dataDir, { recursive: true });
      this.keys = [newKey(this.now(), new Set())];
      this.persist(this.keys);
      return;
    }
    const t = this.now();
    let keys = loaded.filter((k) => this.honoured(k, t));
    if (!keys.some((k) => k.retiredAt === undefined)) {
      keys = [...keys, newKey(t, new Set(keys.map((k) => k.id)))];
    }
    if (keys.length !== loaded.length) this.persist(keys);
    else this.tighten();
    this.keys = keys;
  }

  current(): SigningKey {
    const key = this.keys.find((k) => k.retiredAt === undefined);
    if (!key) throw new Error('signing keys: no current key'); // unreachable: the constructor ensures one
    return { ...key };
  }

  /** A key that may still verify signatures: the current one, or a retired one within the overlap. */
  find(id: string): SigningKey | undefined {
    const t = this.now();
    const key = this.keys.find((k) => k.id === id);
    return key && this.honoured(key, t) ? { ...key } : undefined;
  }

  /** A new current key; the previous one is retired now and still honoured for `overlapMs`. Persisted atomically. */
  rotate(): SigningKey {
    const t = this.now();
    const kept = this.keys
      .map((k) => (k.retiredAt === undefined ? { ...k, retiredAt: t } : k))
      .filter((k) => this.honoured(k, t));
    const fresh = newKey(t, new Set(this.keys.map((k) => k.id)));
    const next = [...kept, fresh];
    this.persist(next); // throws before anything changes in memory
    this.keys = next;
    return { ...fresh };
  }

  /**
   * Revokes a key at once (a signed URL leaked): every URL signed with it stops working now, without waiting for
   * its expiry. Revoking the current key rotates first, so signing goes on with a new one. Persisted atomically.
   */
  revoke(id: string): boolean {
    if (!this.keys.some((k) => k.id === id)) return false;
    if (this.current().id === id) this.rotate();
    const next = this.keys.filter((k) => k.id !== id);
    this.persist(next);
    this.keys = next;
    return true;
  }

  /** The keys that still verify, newest first; never the secrets. */
  list(): Array<{ id: string; createdAt: number; retiredAt?: number; current: boolean }> {
    const t = this.now();
    return this.keys
      .filter((k) => this.honoured(k, t))
      .sort(
        (a, b) =>
          b.createdAt - a.createdAt || Number(a.retiredAt !== undefined) - Number(b.retiredAt !== undefined),
      )
      .map((k) =>
        k.retiredAt === undefined
          ? { id: k.id, createdAt: k.createdAt, current: true }
          : { id: k.id, createdAt: k.createdAt, retiredAt: k.retiredAt, current: false },
      );
  }

  private honoured(k: SigningKey, t: number): boolean {
    return k.retiredAt === undefined || t - k.retiredAt <= this.overlapMs;
  }

  /** Write to a private temporary file, flush, then rename over the old file. */
  private persist(keys: SigningKey[]): void {
    const tmp = `${this.file}.${process.pid}.${randomHex(4)}.tmp`;
    const body = `${JSON.stringify({ keys }, null, 2)}\n`;
    try {
      const fd = fs.openSync(tmp, 'wx', 0o600);
      try {
        fs.writeFileSync(fd, body);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(tmp, this.file);
    } catch (err) {
      fs.rmSync(tmp, { force: true });
      throw err;
    }
    this.tighten();
  }

  /** An existing file left readable by others is narrowed to 0600 (a no-op where modes don't apply). */
  private tighten(): void {
    if (process.platform === 'win32') return;
    if ((fs.statSync(this.file).mode & 0o077) !== 0) fs.chmodSync(this.file, 0o600);
  }
}
