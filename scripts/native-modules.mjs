#!/usr/bin/env node
/**
 * Switches the native module (better-sqlite3) between the two runtimes that load it:
 *   node scripts/native-modules.mjs node       before `npm test` / `npm run serve` (pretest, preserve)
 *   node scripts/native-modules.mjs electron   before `npm start` / `npm run dist` (prestart, predist)
 * Options: --dry-run (say what would happen, change nothing), --verbose.
 *
 * Node: loads better-sqlite3 in a child Node process; only when that fails because the binary was built for
 * another ABI (Electron's) does it run `npm rebuild better-sqlite3`. A no-op (one quick probe) when the module
 * already loads, so it never gets in the way of `npm ci && npm test`.
 * Electron: rebuilds with `electron-builder install-app-deps` (electron-builder ships @electron/rebuild) unless
 * the marker says the current binary was built for this Electron version.
 * The marker, node_modules/.native-runtime, records the runtime and the binary's hash (a reinstall of
 * better-sqlite3 changes the hash, so a stale marker is never trusted).
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MODULE = 'better-sqlite3';
const binary = path.join(root, 'node_modules', MODULE, 'build', 'Release', 'better_sqlite3.node');
const markerFile = path.join(root, 'node_modules', '.native-runtime');
const isWindows = process.platform === 'win32';

const args = process.argv.slice(2);
const target = args.find((a) => !a.startsWith('--'));
const dryRun = args.includes('--dry-run');
const verbose = args.includes('--verbose') || dryRun;

const say = (msg) => console.log(`native-modules: ${msg}`);

function binaryHash() {
  try {
    return createHash('sha256').update(fs.readFileSync(binary)).digest('hex');
  } catch {
    return undefined;
  }
}

function readMarker() {
  try {
    return JSON.parse(fs.readFileSync(markerFile, 'utf8'));
  } catch {
    return undefined;
  }
}

function writeMarker(record) {
  if (dryRun) return;
  try {
    fs.writeFileSync(
      markerFile,
      `${JSON.stringify({ ...record, binary: binaryHash(), at: new Date().toISOString() })}\n`,
    );
  } catch (err) {
    say(`warning: could not write ${markerFile}: ${err.message}`);
  }
}

function run(command, commandArgs) {
  say(`${dryRun ? 'would run' : 'running'}: ${command} ${commandArgs.join(' ')}`);
  if (dryRun) return true;
  const r = spawnSync(command, commandArgs, { cwd: root, stdio: 'inherit', shell: isWindows });
  return r.status === 0;
}

/** Loads the module in a child Node process: 'ok', 'abi' (built for another runtime), 'missing' or 'error'. */
function probeNode() {
  const code = `const D = require(${JSON.stringify(MODULE)}); new D(':memory:').close();`;
  const r = spawnSync(process.execPath, ['-e', code], { cwd: root, encoding: 'utf8' });
  if (r.status === 0) return { state: 'ok' };
  const detail = `${r.stderr ?? ''}${r.error?.message ?? ''}`;
  if (/Cannot find module/.test(detail)) return { state: 'missing', detail };
  if (
    /NODE_MODULE_VERSION|different Node\.js version|did not self-register|ERR_DLOPEN_FAILED|invalid ELF|not a valid Win32/.test(
      detail,
    )
  )
    return { state: 'abi', detail };
  return { state: 'error', detail };
}

function toNode() {
  const probe = probeNode();
  if (probe.state === 'ok') {
    if (verbose) say(`${MODULE} loads in Node ${process.versions.node}: nothing to do`);
    if (readMarker()?.runtime !== 'node' || readMarker()?.binary !== binaryHash())
      writeMarker({ runtime: 'node', modules: process.versions.modules });
    return 0;
  }
  if (probe.state !== 'abi') {
    // Not a runtime switch problem: leave it to the tests (or the server) to report.
    say(
      `warning: ${MODULE} does not load (${probe.state}); not rebuilding. ${probe.detail.split('\n').find((l) => l.trim()) ?? ''}`,
    );
    return 0;
  }
  say(`${MODULE} is built for another runtime (Electron?); rebuilding it for Node ${process.versions.node}`);
  if (!run(isWindows ? 'npm.cmd' : 'npm', ['rebuild', MODULE])) {
    say(`error: npm rebuild ${MODULE} failed; run it by hand and see its output`);
    return 1;
  }
  if (dryRun) return 0;
  const again = probeNode();
  if (again.state !== 'ok') {
    say(`error: ${MODULE} still does not load in Node after the rebuild:\n${again.detail}`);
    return 1;
  }
  writeMarker({ runtime: 'node', modules: process.versions.modules });
  say(`${MODULE} rebuilt for Node`);
  return 0;
}

function toElectron() {
  let electronVersion;
  try {
    electronVersion = JSON.parse(
      fs.readFileSync(path.join(root, 'node_modules', 'electron', 'package.json'), 'utf8'),
    ).version;
  } catch {
    say('error: electron is not installed (npm install)');
    return 1;
  }
  const marker = readMarker();
  const hash = binaryHash();
  if (
    marker?.runtime === 'electron' &&
    marker.electron === electronVersion &&
    hash &&
    marker.binary === hash
  ) {
    if (verbose) say(`${MODULE} is built for Electron ${electronVersion}: nothing to do`);
    return 0;
  }
  say(`rebuilding ${MODULE} for Electron ${electronVersion}`);
  const bin = path.join(
    root,
    'node_modules',
    '.bin',
    isWindows ? 'electron-builder.cmd' : 'electron-builder',
  );
  if (!run(bin, ['install-app-deps'])) {
    say(
      `error: electron-builder install-app-deps failed (it needs Electron's headers or a prebuilt ${MODULE} for Electron ${electronVersion} from the network)`,
    );
    return 1;
  }
  writeMarker({ runtime: 'electron', electron: electronVersion });
  return 0;
}

if (target === 'node') process.exitCode = toNode();
else if (target === 'electron') process.exitCode = toElectron();
else {
  console.error('usage: node scripts/native-modules.mjs node|electron [--dry-run] [--verbose]');
  process.exitCode = 2;
}
