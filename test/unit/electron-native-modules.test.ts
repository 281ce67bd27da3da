/**
 * scripts/native-modules.mjs in a throw-away project: a fake better-sqlite3 that fails like a binary built for
 * Electron, a fake `npm` (rebuild for Node) and a fake `electron-builder` (install-app-deps).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const SCRIPT = path.resolve(import.meta.dirname, '../../scripts/native-modules.mjs');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function project(o: { runtime: 'node' | 'electron'; npmFails?: boolean }) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'native-modules-'));
  dirs.push(root);
  const write = (file: string, text: string, mode = 0o644) => {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text, { mode });
  };
  write('scripts/native-modules.mjs', fs.readFileSync(SCRIPT, 'utf8'));
  write('package.json', '{"name":"fake","private":true}');
  write('node_modules/electron/package.json', '{"name":"electron","version":"39.0.0"}');
  const mod = 'node_modules/better-sqlite3';
  write(`${mod}/package.json`, '{"name":"better-sqlite3","main":"index.js"}');
  write(
    `${mod}/index.js`,
    `const fs = require('fs');
const built = fs.readFileSync(__dirname + '/build/Release/better_sqlite3.node', 'utf8');
if (built.startsWith('electron')) {
  const err = new Error("The module was compiled against a different Node.js version using NODE_MODULE_VERSION 140. This version of Node.js requires NODE_MODULE_VERSION 115.");
  err.code = 'ERR_DLOPEN_FAILED';
  throw err;
}
module.exports = class Database { close() {} };`,
  );
  write(`${mod}/build/Release/better_sqlite3.node`, `${o.runtime} binary`);
  const log = path.join(root, 'calls.log');
  // electron-builder install-app-deps: builds for Electron
  write(
    'node_modules/.bin/electron-builder',
    `#!/bin/sh\necho "electron-builder $*" >> "${log}"\necho "electron binary $(date +%s%N)" > "${root}/${mod}/build/Release/better_sqlite3.node"\n`,
    0o755,
  );
  // npm rebuild better-sqlite3: builds for Node
  write(
    'bin/npm',
    o.npmFails
      ? `#!/bin/sh\necho "npm $*" >> "${log}"\nexit 1\n`
      : `#!/bin/sh\necho "npm $*" >> "${log}"\necho "node binary" > "${root}/${mod}/build/Release/better_sqlite3.node"\n`,
    0o755,
  );
  const run = (...args: string[]) => {
    const r = spawnSync(process.execPath, [path.join(root, 'scripts/native-modules.mjs'), ...args], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, PATH: `${path.join(root, 'bin')}${path.delimiter}${process.env.PATH ?? ''}` },
    });
    return { status: r.status, out: `${r.stdout}${r.stderr}` };
  };
  const calls = () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n') : []);
  const marker = () =>
    JSON.parse(fs.readFileSync(path.join(root, 'node_modules/.native-runtime'), 'utf8')) as Record<
      string,
      string
    >;
  const setBinary = (text: string) => write(`${mod}/build/Release/better_sqlite3.node`, text);
  return { root, run, calls, marker, setBinary };
}

describe.skipIf(process.platform === 'win32')('scripts/native-modules.mjs', () => {
  it('node: a no-op (one probe) when the module loads, silent, marker written', () => {
    const p = project({ runtime: 'node' });
    const r = p.run('node');
    expect(r).toEqual({ status: 0, out: '' });
    expect(p.calls()).toEqual([]);
    expect(p.marker()).toMatchObject({ runtime: 'node', modules: process.versions.modules });
  });

  it('electron: rebuilds once with electron-builder install-app-deps, then trusts the marker', () => {
    const p = project({ runtime: 'node' });
    expect(p.run('electron').status).toBe(0);
    expect(p.calls()).toEqual(['electron-builder install-app-deps']);
    expect(p.marker()).toMatchObject({ runtime: 'electron', electron: '39.0.0' });
    const again = p.run('electron');
    expect(again.status).toBe(0);
    expect(p.calls()).toHaveLength(1);
  });

  it('electron: rebuilds again when the binary changed under the marker (a reinstall)', () => {
    const p = project({ runtime: 'node' });
    p.run('electron');
    p.setBinary('node binary, reinstalled');
    p.run('electron');
    expect(p.calls()).toEqual(['electron-builder install-app-deps', 'electron-builder install-app-deps']);
  });

  it('node after electron: npm rebuild better-sqlite3, then it loads', () => {
    const p = project({ runtime: 'electron' });
    const r = p.run('node');
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/rebuilding it for Node/);
    expect(p.calls()).toEqual(['npm rebuild better-sqlite3']);
    expect(p.marker()).toMatchObject({ runtime: 'node' });
    expect(p.run('node').out).toBe('');
  });

  it('node: fails clearly when the rebuild fails', () => {
    const p = project({ runtime: 'electron', npmFails: true });
    const r = p.run('node');
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/npm rebuild better-sqlite3 failed/);
  });

  it('node: never fails for a module that is simply not installed (the tests report that)', () => {
    const p = project({ runtime: 'node' });
    fs.rmSync(path.join(p.root, 'node_modules/better-sqlite3'), { recursive: true });
    const r = p.run('node');
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/does not load \(missing\)/);
    expect(p.calls()).toEqual([]);
  });

  it('--dry-run says what it would do and changes nothing', () => {
    const p = project({ runtime: 'node' });
    const r = p.run('electron', '--dry-run');
    expect(r.out).toMatch(/would run: .*electron-builder install-app-deps/);
    expect(p.calls()).toEqual([]);
    expect(fs.existsSync(path.join(p.root, 'node_modules/.native-runtime'))).toBe(false);
  });

  it('rejects an unknown runtime', () => {
    expect(project({ runtime: 'node' }).run('bun').status).toBe(2);
  });
});
