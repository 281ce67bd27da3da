/**
 * The Electron shell: thin and typed. It starts the same core as `npm run serve` and opens one
 * hardened window on the dashboard. (The dashboard, tray and first-run wizard come with issue 6.)
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, session, shell } from 'electron';
import { Appliance } from '../core/appliance.js';
import { createLogger } from '../core/logger.js';
import { loadOptions } from '../core/options.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; media-src 'self' blob: http://127.0.0.1:*; connect-src 'self' http://127.0.0.1:* ws://127.0.0.1:*; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

let core: Appliance | undefined;

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => BrowserWindow.getAllWindows()[0]?.focus());
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (e) => e.preventDefault());
    contents.on('will-attach-webview', (e) => e.preventDefault());
    contents.setWindowOpenHandler(({ url }) => {
      if (url.startsWith('https://')) void shell.openExternal(url);
      return { action: 'deny' };
    });
  });
  void app.whenReady().then(async () => {
    session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
    session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
      callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } });
    });
    const options = loadOptions([], {
      ...process.env,
      ECDN_DATA_DIR: process.env.ECDN_DATA_DIR ?? path.join(app.getPath('userData'), 'data'),
    });
    core = await Appliance.start(options, createLogger(options.logLevel));
    const win = new BrowserWindow({
      width: 1280,
      height: 800,
      webPreferences: {
        preload: path.join(here, '../../preload/preload.cjs'),
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        webSecurity: true,
      },
    });
    await win.loadFile(path.join(here, '../../../renderer/dist/index.html'));
  });
  app.on('before-quit', (e) => {
    if (core?.isReady) {
      e.preventDefault();
      const c = core;
      core = undefined;
      void c.stop().finally(() => app.quit());
    }
  });
}
