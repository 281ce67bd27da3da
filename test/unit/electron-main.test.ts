/**
 * main/electron/main.ts, the composition, end to end under Node: a child `node --import tsx` process loads it
 * with 'electron' and 'electron-store' resolved to fakes (a module hook), and the real core (ApplianceHost on
 * ports 0, a temporary data directory). The driver plays the dashboard and the user, and reports as JSON.
 * (A child process, because the core's RTMP child needs tsx, which vitest's workers do not have.)
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

const HOOKS = `
export async function resolve(specifier, context, next) {
  if (specifier === 'electron') return { url: new URL('./fake-electron.mjs', import.meta.url).href, shortCircuit: true };
  if (specifier === 'electron-store') return { url: new URL('./fake-store.mjs', import.meta.url).href, shortCircuit: true };
  return next(specifier, context);
}`;

const REGISTER = `import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);`;

const FAKE_STORE = `
export default class Store {
  constructor(o) { this.data = {}; this.path = '/fake/userData/' + o.name + '.json'; globalThis.__t.store = this; }
  get(k) { return this.data[k]; }
  set(k, v) { this.data[k] = v; }
}`;

const FAKE_ELECTRON = `
import { EventEmitter } from 'node:events';
const t = (globalThis.__t = { sent: [], dialogs: [], errorBoxes: [], windows: [], trays: [], handlers: new Map(), calls: [] });
export const app = Object.assign(new EventEmitter(), {
  isPackaged: false,
  requestSingleInstanceLock: () => (t.calls.push('requestSingleInstanceLock'), true),
  enableSandbox: () => t.calls.push('enableSandbox'),
  whenReady: () => Promise.resolve(),
  getPath: (name) => process.env.FAKE_USER_DATA + '/' + name,
  quit: () => {
    let prevented = false;
    app.emit('before-quit', { preventDefault: () => (prevented = true) });
    if (!prevented) app.exit(0);
  },
  exit: (code) => { t.exitCode = code; t.onExit?.(code); },
});
export class BrowserWindow extends EventEmitter {
  constructor(options) {
    super();
    this.options = options;
    this.visible = false;
    this.mainFrame = { url: '', parent: null, processId: 3, routingId: 1 };
    this.webContents = Object.assign(new EventEmitter(), {
      id: 11, mainFrame: this.mainFrame, isDestroyed: () => false,
      send: (...args) => t.sent.push(args),
      setWindowOpenHandler: (h) => (this.openHandler = h),
    });
    t.windows.push(this);
    app.emit('web-contents-created', {}, this.webContents);
  }
  loadFile(file) { this.loaded = file; this.mainFrame.url = new URL('file://' + file).href; this.emit('ready-to-show'); return Promise.resolve(); }
  isDestroyed() { return false; }
  isMinimized() { return false; }
  restore() {}
  show() { this.visible = true; }
  hide() { this.visible = false; }
  focus() {}
  close() { let prevented = false; this.emit('close', { preventDefault: () => (prevented = true) }); return prevented; }
}
export class Tray {
  constructor(image) { this.image = image; t.trays.push(this); }
  setImage(i) { this.image = i; }
  setToolTip(s) { this.tooltip = s; }
  setContextMenu(m) { this.menu = m; }
  on() { return this; }
}
export const dialog = {
  showMessageBox: async (o) => (t.dialogs.push(o), { response: 0, checkboxChecked: false }),
  showErrorBox: (title, message) => t.errorBoxes.push(title + ': ' + message),
};
export const ipcMain = { handle: (c, h) => t.handlers.set(c, h), removeHandler: (c) => t.handlers.delete(c) };
export const Menu = { buildFromTemplate: (template) => template };
export const nativeImage = { createFromPath: (p) => ({ path: p }) };
export const safeStorage = {
  isEncryptionAvailable: () => true,
  encryptString: (s) => Buffer.from('v10' + [...s].reverse().join('')),
  decryptString: (b) => [...b.toString().slice(3)].reverse().join(''),
  getSelectedStorageBackend: () => 'gnome_libsecret',
};
export const session = { defaultSession: {
  setPermissionRequestHandler: (h) => (t.permissionRequest = h),
  setPermissionCheckHandler: (h) => (t.permissionCheck = h),
  webRequest: { onHeadersReceived: (h) => (t.onHeaders = h) },
} };
export const shell = { openExternal: async (url) => t.calls.push('openExternal ' + url) };
export default { app, BrowserWindow, Tray, dialog, ipcMain, Menu, nativeImage, safeStorage, session, shell };
`;

const DRIVER = `
const electron = await import('electron');
const t = globalThis.__t;
const report = {};
const wait = (ms) => new Promise((r) => setTimeout(r, ms));
await import(process.env.MAIN_TS);
for (let i = 0; i < 600 && t.trays.length === 0 && t.exitCode === undefined; i++) await wait(50);
report.startExit = t.exitCode ?? null;
report.errorBoxes = t.errorBoxes;
report.calls = [...t.calls];
const win = t.windows[0];
report.windows = t.windows.length;
report.webPreferences = win?.options.webPreferences;
report.loaded = win?.loaded;
report.windowOpenHandler = typeof win?.openHandler;
const cb = []; t.permissionRequest?.({}, 'media', (ok) => cb.push(ok));
report.permissionRequest = cb;
report.permissionCheck = t.permissionCheck?.({}, 'media', 'file://', {});
let headers = {}; t.onHeaders?.({ responseHeaders: {} }, (r) => (headers = r.responseHeaders));
report.csp = headers['Content-Security-Policy'];
const control = t.handlers.get('ecdn:control');
if (control) {
  const fromWindow = { sender: { id: 11 }, senderFrame: win.mainFrame };
  report.status = await control(fromWindow, 'status.get');
  report.foreign = await control({ sender: { id: 11 }, senderFrame: { ...win.mainFrame, url: 'https://x.example/' } }, 'status.get');
  report.unknown = await control(fromWindow, 'nope');
  report.created = await control(fromWindow, 'channels.create', { name: 'Smoke' });
  await wait(300);
  report.eventsSent = t.sent.filter(([c]) => c === 'ecdn:event').map(([, e]) => e.type);
  report.settings = await control(fromWindow, 'settings.get');
  report.tray = { tooltip: t.trays[0]?.tooltip, labels: (t.trays[0]?.menu ?? []).map((m) => m.label).filter(Boolean) };
  report.closePrevented = win.close();
  report.visibleAfterClose = win.visible;
  electron.app.emit('second-instance', {}, [], '/');
  report.visibleAfterSecondInstance = win.visible;
  const exited = new Promise((r) => (t.onExit = r));
  electron.app.quit();
  report.quitExit = await Promise.race([exited, wait(30000).then(() => 'timeout')]);
  report.dialogs = t.dialogs.length;
}
process.stdout.write('REPORT ' + JSON.stringify(report) + '\\n');
process.exit(0);
`;

let dir: string;
let report: Record<string, unknown> & {
  status: { ok: boolean; value: { mode: string } };
  webPreferences: Record<string, unknown>;
};
let output = '';

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecdn-electron-main-'));
  const files = {
    'hooks.mjs': HOOKS,
    'register.mjs': REGISTER,
    'fake-store.mjs': FAKE_STORE,
    'fake-electron.mjs': FAKE_ELECTRON,
    'driver.mjs': DRIVER,
  };
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--import',
      path.join(dir, 'register.mjs'),
      path.join(dir, 'driver.mjs'),
      '--no-sandbox',
      '--rtmp-port',
      '0',
      '--http-port',
      '0',
      '--admin-port',
      '0',
      '--data-dir',
      path.join(dir, 'data'),
    ],
    {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 90_000,
      env: {
        ...process.env,
        ECDN_LOG_LEVEL: 'error',
        FAKE_USER_DATA: path.join(dir, 'userData'),
        MAIN_TS: path.join(ROOT, 'main/electron/main.ts'),
      },
    },
  );
  output = `${r.stdout}${r.stderr}`;
  const line = r.stdout.split('\n').find((l) => l.startsWith('REPORT '));
  if (!line) throw new Error(`the driver reported nothing (status ${r.status}):\n${output.slice(-3000)}`);
  report = JSON.parse(line.slice('REPORT '.length)) as typeof report;
}, 120_000);

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('the Electron main process (fake electron, real core)', () => {
  it('starts: single-instance lock, sandbox, no error', () => {
    expect(report.startExit, output.slice(-2000)).toBeNull();
    expect(report.errorBoxes).toEqual([]);
    expect(report.calls).toEqual(expect.arrayContaining(['requestSingleInstanceLock', 'enableSandbox']));
  });

  it('hardens the session: permissions denied, a CSP on responses', () => {
    expect(report.permissionRequest).toEqual([false]);
    expect(report.permissionCheck).toBe(false);
    expect((report.csp as string[])[0]).toMatch(/^default-src 'self'; script-src 'self';/);
  });

  it('opens one hardened window on the renderer file, with the compiled preload', () => {
    expect(report.windows).toBe(1);
    expect(report.webPreferences).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
    });
    expect(String(report.webPreferences.preload)).toBe(path.join(ROOT, 'dist/preload/preload.cjs'));
    expect(report.loaded).toBe(path.join(ROOT, 'renderer/dist/index.html'));
    expect(report.windowOpenHandler).toBe('function');
  });

  it('answers the dashboard over IPC, refuses other senders and unknown operations', () => {
    expect(report.status).toMatchObject({ ok: true, value: { mode: 'standalone' } });
    expect(report.foreign).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect(report.unknown).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
  });

  it('forwards control events to the window', () => {
    expect(report.created).toMatchObject({ ok: true });
    expect(report.eventsSent).toContain('channels.changed');
  });

  it('keeps settings in electron-store with the secrets encrypted', () => {
    expect(report.settings).toMatchObject({
      ok: true,
      value: {
        storage: expect.stringMatching(
          /^electron-store \(.*\); the partner secret and admin token encrypted/,
        ),
      },
    });
  });

  it('never writes a generated admin token in plain text (secrets only in the keychain)', () => {
    expect(fs.readdirSync(path.join(dir, 'data'))).not.toContain('admin-token');
  });

  it('shows an idle tray', () => {
    expect(report.tray).toEqual({
      tooltip: 'eCDN Appliance: idle',
      labels: ['Open dashboard', 'No live channels', 'Quit eCDN Appliance'],
    });
  });

  it('hides the window on close; a second instance shows it again', () => {
    expect(report.closePrevented).toBe(true);
    expect(report.visibleAfterClose).toBe(false);
    expect(report.visibleAfterSecondInstance).toBe(true);
  });

  it('quits without asking when idle, after stopping the core', () => {
    expect(report.quitExit).toBe(0);
    expect(report.dialogs).toBe(0);
  });
});
