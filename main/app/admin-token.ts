/**
 * The admin listener's bearer token: configured (flag, environment or settings), or generated. Headless, a
 * generated token is kept in the data directory (mode 0600) so it survives restarts. The desktop app keeps secrets
 * only in the OS keychain: there a generated token lives in memory for this run (the app's own window needs none),
 * and a token file left by an earlier version is removed. The file follows a token change: once a token is
 * configured (flag, environment, or the settings page), a token file in the data directory holds that token, so
 * `cat <data dir>/admin-token` never shows one that no longer works.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomToken } from '../lib/random-id.js';

export const ADMIN_TOKEN_FILE = 'admin-token';

/** Where a generated token is kept: the data directory's file (headless) or nowhere (desktop). */
export type GeneratedTokenKeeping = 'file' | 'memory';

export interface AdminToken {
  token: string;
  generated: boolean;
  /** Where a generated token is kept (absent when it was configured). */
  keptIn?: GeneratedTokenKeeping;
}

export function resolveAdminToken(
  configured: string | undefined,
  dataDir: string,
  keeping: GeneratedTokenKeeping = 'file',
): AdminToken {
  const file = path.join(dataDir, ADMIN_TOKEN_FILE);
  if (configured) {
    followAdminToken(configured, dataDir, keeping);
    return { token: configured, generated: false };
  }
  if (keeping === 'memory') {
    fs.rmSync(file, { force: true });
    return { token: randomToken(24), generated: true, keptIn: 'memory' };
  }
  try {
    const stored = fs.readFileSync(file, 'utf8').trim();
    if (stored.length >= 16) return { token: stored, generated: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const token = randomToken(24);
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return { token, generated: true, keptIn: 'file' };
}

/**
 * The token file follows a new token: headless, an existing `admin-token` file is rewritten with it (mode 0600);
 * none is created for a configured token, and the desktop app never keeps one.
 */
export function followAdminToken(
  token: string,
  dataDir: string,
  keeping: GeneratedTokenKeeping = 'file',
): void {
  const file = path.join(dataDir, ADMIN_TOKEN_FILE);
  if (keeping !== 'file' || !fs.existsSync(file)) return;
  if (fs.readFileSync(file, 'utf8').trim() === token) return;
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${token}\n`, { mode: 0o600 });
  fs.renameSync(tmp, file);
}
