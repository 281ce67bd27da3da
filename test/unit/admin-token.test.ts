import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN_FILE, followAdminToken, resolveAdminToken } from '../../main/app/admin-token.js';

const dirs: string[] = [];
const dataDir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ecdn-token-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('the admin token', () => {
  it('headless: generated once into the data directory (mode 0600) and reused', () => {
    const d = dataDir();
    const first = resolveAdminToken(undefined, d);
    expect(first).toMatchObject({ generated: true, keptIn: 'file' });
    const file = path.join(d, ADMIN_TOKEN_FILE);
    expect(fs.readFileSync(file, 'utf8').trim()).toBe(first.token);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(resolveAdminToken(undefined, d)).toEqual({ token: first.token, generated: false });
  });

  it('desktop: a generated token is never written, and a plain-text file left by an earlier run is removed', () => {
    const d = dataDir();
    const file = path.join(d, ADMIN_TOKEN_FILE);
    fs.writeFileSync(file, 'an-old-plain-text-token-0123456789\n');
    const t = resolveAdminToken(undefined, d, 'memory');
    expect(t).toMatchObject({ generated: true, keptIn: 'memory' });
    expect(t.token.length).toBeGreaterThanOrEqual(16);
    expect(fs.existsSync(file)).toBe(false);
    // A new one each run: nothing on disk to read it back from.
    expect(resolveAdminToken(undefined, d, 'memory').token).not.toBe(t.token);
    expect(fs.readdirSync(d)).toEqual([]);
  });

  it('a configured token (flag, environment or the keychain-backed settings) wins and is never written', () => {
    const d = dataDir();
    expect(resolveAdminToken('configured-token-0123456789', d, 'memory')).toEqual({
      token: 'configured-token-0123456789',
      generated: false,
    });
    expect(resolveAdminToken('configured-token-0123456789', d)).toEqual({
      token: 'configured-token-0123456789',
      generated: false,
    });
    expect(fs.readdirSync(d)).toEqual([]);
  });

  it('the token file follows a token change: it never shows a token that no longer works', () => {
    const d = dataDir();
    const file = path.join(d, ADMIN_TOKEN_FILE);
    const generated = resolveAdminToken(undefined, d);
    // Changed in the settings page (applied live)...
    followAdminToken('changed-in-settings-0123456789', d);
    expect(fs.readFileSync(file, 'utf8').trim()).toBe('changed-in-settings-0123456789');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    // ...and at the next start, a configured token rewrites it too.
    resolveAdminToken('configured-token-0123456789', d);
    expect(fs.readFileSync(file, 'utf8').trim()).toBe('configured-token-0123456789');
    expect(fs.readdirSync(d)).toEqual([ADMIN_TOKEN_FILE]);
    expect(generated.token).not.toBe('configured-token-0123456789');
    // The desktop app never keeps one.
    followAdminToken('desktop-token-0123456789', d, 'memory');
    expect(fs.readFileSync(file, 'utf8').trim()).toBe('configured-token-0123456789');
  });
});
