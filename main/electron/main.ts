/**
 * The Electron shell: composition only. The only module that imports 'electron' at run time; everything it
 * wires is a small module in main/electron/ that receives the Electron APIs it uses (tested under Node).
 * One instance; the core (ApplianceHost, the same as `npm run serve`) starts with the app and stops before
 * it exits; one hardened window on the dashboard, hidden to the tray when closed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  Menu,
  nativeImage,
  safeStorage,
  session,
  shell,
  Tray,
} from 'electron';
import Store from 'electron-store';
import { appRoot } from '../lib/app-root.js';
import { ApplianceHost } from '../app/host.js';
import { createLogger } from '../lib/logger.js';
import { ElectronSettingsStore } from './electron-settings-store.js';
import { installControlBridge } from './ipc-bridge.js';
import { AppLifecycle } from './lifecycle.js';
import { applianceArgs, shellDefaults, shellPaths } from './shell-options.js';
import { listLiveChannels, TrayController } from './tray.js';
import {
  contentSecurityPolicy,
  createMainWindow,
  externalLinkPolicy,
  hardenSession,
  hardenWebContents,
} from './window.js';

/** JSON lines on stdout when run from the sources (`npm start`), in the OS's log directory when packaged. */
function logDestination(): NodeJS.WritableStream {
  if (!app.isPackaged) return process.stdout;
  try {
    const dir = app.getPath('logs');
    fs.mkdirSync(dir, { recursive: true });
    return fs.createWriteStream(path.join(dir, 'main.log'), { flags: 'a' });
  } catch {
    return process.stdout;
  }
}

const log = createLogger(process.env.ECDN_LOG_LEVEL || 'info', logDestination());
const paths = shellPaths(appRoot());
const rendererUrl = pathToFileURL(paths.indexHtml).href;

let host: ApplianceHost | undefined;
let starting: Promise<ApplianceHost | undefined> | undefined;
let win: BrowserWindow | undefined;
let tray: Tray | undefined;
let trayController: TrayController | undefined;

function openWindow(): BrowserWindow | undefined {
  if (!host) return undefined;
  const w = createMainWindow({
    BrowserWindow,
    preload: paths.preload,
    icon: paths.appIcon,
    devTools: !app.isPackaged,
  });
  w.on('closed', () => {
    if (win === w) win = undefined;
  });
  w.webContents.on('render-process-gone', (_event, details) =>
    log.error({ reason: details.reason, exitCode: details.exitCode }, 'the dashboard renderer is gone'),
  );
  w.loadFile(paths.indexHtml).catch((err: Error) =>
    log.error({ err: err.message }, 'could not load the dashboard'),
  );
  win = w;
  return w;
}

const lifecycle = new AppLifecycle({
  app,
  dialog,
  window: () => win,
  createWindow: openWindow,
  liveChannels: () => (host ? listLiveChannels(host.control, log) : Promise.resolve([])),
  stopCore: async () => {
    trayController?.stop();
    const h = host ?? (await starting);
    await h?.stop();
  },
  log,
});

async function startApp(): Promise<void> {
  app.enableSandbox();
  const canOpenExternally = externalLinkPolicy(() => host?.urls);
  app.on('web-contents-created', (_event, contents) =>
    hardenWebContents(contents, { canOpenExternally, openExternal: (url) => shell.openExternal(url), log }),
  );
  lifecycle.install();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void lifecycle.shutdown());

  await app.whenReady();
  hardenSession(session.defaultSession, { csp: () => contentSecurityPolicy(host?.urls), log });

  const { args, ignored } = applianceArgs(process.argv.slice(1));
  if (ignored.length > 0) log.debug({ ignored }, 'command-line arguments that are not appliance options');
  const settings = new ElectronSettingsStore({ store: new Store({ name: 'settings' }), safeStorage, log });
  starting = ApplianceHost.start({
    argv: args,
    env: process.env,
    settings,
    log,
    defaults: shellDefaults({
      isPackaged: app.isPackaged,
      resourcesPath: process.resourcesPath,
      userData: app.getPath('userData'),
      platform: process.platform,
      env: process.env,
      exists: (file) => fs.existsSync(file),
    }),
    dataDirEditable: true,
    // Secrets only in the keychain: a generated admin token is never written in plain text.
    generatedAdminToken: 'memory',
    onStarted: (appliance) => log.info({ urls: appliance.urls }, 'appliance core started'),
  }).catch((err: Error) => {
    log.fatal({ err: err.message }, 'the appliance core could not start');
    dialog.showErrorBox('eCDN Appliance could not start', err.message);
    app.exit(1);
    return undefined;
  });
  host = await starting;
  if (!host) return;

  installControlBridge({ ipcMain, control: host.control, window: () => win, rendererUrl, log });
  const first = openWindow();
  if (first) lifecycle.attachWindow(first);

  tray = new Tray(nativeImage.createFromPath(paths.trayIcons.idle));
  trayController = new TrayController({
    tray,
    buildMenu: (template) => Menu.buildFromTemplate(template),
    icons: {
      idle: nativeImage.createFromPath(paths.trayIcons.idle),
      live: nativeImage.createFromPath(paths.trayIcons.live),
    },
    control: host.control,
    openDashboard: () => lifecycle.showWindow(),
    quit: () => app.quit(),
    log,
  });
  await trayController.start();
}

if (!app.requestSingleInstanceLock()) {
  // Another instance runs: it shows its window (second-instance) and this one leaves.
  app.quit();
} else {
  startApp().catch((err: Error) => {
    log.fatal({ err: err.message, stack: err.stack }, 'the desktop shell failed');
    app.exit(1);
  });
}
