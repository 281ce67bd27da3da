/**
 * The dashboard window and Electron's security checklist: hardened web preferences, a CSP header on every
 * response, no navigation, no new windows (https links and the appliance's own listeners open in the
 * browser), no webviews, and every permission denied. Electron is injected, so all of it runs under Node in
 * tests; main.ts passes the real modules.
 */
import type {
  BrowserWindow,
  BrowserWindowConstructorOptions,
  Session,
  WebContents,
  WebPreferences,
} from 'electron';
import type { ListenerUrls, Log } from './types.js';

/** The web preferences of every window of the app (checklist items 2-6, 8, 10 and 11). */
export function webPreferences(preload: string, devTools = true): WebPreferences {
  return {
    preload,
    devTools,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    safeDialogs: true,
    spellcheck: false,
  };
}

export interface MainWindowOptions {
  /** Electron's BrowserWindow class (injected). */
  BrowserWindow: new (options: BrowserWindowConstructorOptions) => BrowserWindow;
  /** Absolute path of the compiled preload (dist/preload/preload.cjs). */
  preload: string;
  /** Window icon (Linux and Windows; macOS uses the bundle's). */
  icon?: string;
  /** DevTools (off in a packaged app). */
  devTools?: boolean;
}

/** Creates the dashboard window, hidden until its first paint. The caller loads the renderer file into it. */
export function createMainWindow(o: MainWindowOptions): BrowserWindow {
  const win = new o.BrowserWindow({
    width: 1280,
    height: 800,
    minWidth: 800,
    minHeight: 560,
    title: 'eCDN Appliance',
    show: false,
    backgroundColor: '#111827',
    ...(o.icon ? { icon: o.icon } : {}),
    webPreferences: webPreferences(o.preload, o.devTools ?? true),
  });
  win.once('ready-to-show', () => win.show());
  return win;
}

/** http(s) and ws origins of the origin and admin listeners, plus their loopback forms. */
function listenerOrigins(urls: Pick<ListenerUrls, 'origin' | 'admin'> | undefined): {
  http: string[];
  ws: string[];
} {
  const http = new Set<string>();
  const ws = new Set<string>();
  for (const raw of urls ? [urls.origin, urls.admin] : []) {
    let u: URL;
    try {
      u = new URL(raw);
    } catch {
      continue;
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') continue;
    const wsProtocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    const port = u.port ? `:${u.port}` : '';
    for (const host of [
      u.hostname.includes(':') ? `[${u.hostname}]` : u.hostname,
      '127.0.0.1',
      'localhost',
    ]) {
      http.add(`${u.protocol}//${host}${port}`);
      ws.add(`${wsProtocol}//${host}${port}`);
    }
  }
  return { http: [...http], ws: [...ws] };
}

/**
 * The Content-Security-Policy of the app: its own files, plus the appliance's origin and admin listeners for
 * the preview (hls.js fetches manifests and fragments, plays through MSE blobs, may run a blob worker).
 */
export function contentSecurityPolicy(urls?: Pick<ListenerUrls, 'origin' | 'admin'>): string {
  const { http, ws } = listenerOrigins(urls);
  const join = (...sources: string[]) => sources.join(' ');
  return [
    `default-src 'self'`,
    `script-src 'self'`,
    `style-src 'self' 'unsafe-inline'`,
    `img-src ${join("'self'", 'data:', 'blob:', ...http)}`,
    `media-src ${join("'self'", 'blob:', ...http)}`,
    `connect-src ${join("'self'", ...http, ...ws)}`,
    `worker-src 'self' blob:`,
    `font-src 'self' data:`,
    `object-src 'none'`,
    `base-uri 'none'`,
    `form-action 'none'`,
    `frame-ancestors 'none'`,
  ].join('; ');
}

/**
 * Which URLs a link may open in the user's browser: https anywhere, and http only on the appliance's own
 * listeners (the viewer portal, playback links). Everything else (file:, javascript:, custom schemes) is
 * never handed to the OS.
 */
export function externalLinkPolicy(urls: () => ListenerUrls | undefined): (url: string) => boolean {
  return (raw) => {
    let u: URL;
    try {
      u = new URL(raw);
    } catch {
      return false;
    }
    if (u.protocol === 'https:') return true;
    if (u.protocol !== 'http:') return false;
    return listenerOrigins(urls()).http.includes(u.origin);
  };
}

export interface WebContentsPolicy {
  /** Whether `url` may be opened in the user's browser (see {@link externalLinkPolicy}). */
  canOpenExternally(url: string): boolean;
  /** shell.openExternal (injected). */
  openExternal(url: string): Promise<void>;
  log: Log;
}

type HardenableContents = Pick<WebContents, 'on' | 'setWindowOpenHandler'>;

/**
 * Hardens one webContents (main.ts calls it from `web-contents-created`, so every one is covered): navigation
 * and redirects are prevented, webviews are refused, new windows are denied (allowed links open in the
 * browser instead).
 */
export function hardenWebContents(contents: HardenableContents, policy: WebContentsPolicy): void {
  const openOutside = (url: string, why: string) => {
    if (!policy.canOpenExternally(url)) {
      policy.log.warn({ url: url.slice(0, 200), why }, 'blocked a link the app does not open');
      return;
    }
    policy
      .openExternal(url)
      .catch((err: Error) =>
        policy.log.warn({ url: url.slice(0, 200), err: err.message }, 'could not open a link in the browser'),
      );
  };
  contents.on('will-navigate', (event) => {
    event.preventDefault();
    openOutside(event.url, 'navigation');
  });
  contents.on('will-redirect', (event) => {
    event.preventDefault();
    policy.log.warn({ url: event.url.slice(0, 200) }, 'blocked a redirect');
  });
  contents.on('will-attach-webview', (event) => {
    event.preventDefault();
    policy.log.warn('blocked a webview');
  });
  contents.setWindowOpenHandler(({ url }) => {
    openOutside(url, 'new window');
    return { action: 'deny' };
  });
}

type HardenableSession = Pick<Session, 'setPermissionRequestHandler' | 'setPermissionCheckHandler'> & {
  webRequest: Pick<Session['webRequest'], 'onHeadersReceived'>;
};

/**
 * Hardens the session: every permission request and check is denied, and every response carries the CSP
 * (computed per response, so it follows the listeners after a core restart).
 */
export function hardenSession(session: HardenableSession, o: { csp: () => string; log: Log }): void {
  session.setPermissionRequestHandler((_contents, permission, callback) => {
    o.log.warn({ permission }, 'denied a permission request');
    callback(false);
  });
  session.setPermissionCheckHandler(() => false);
  session.webRequest.onHeadersReceived((details, callback) => {
    const headers: Record<string, string | string[]> = { ...details.responseHeaders };
    headers['Content-Security-Policy'] = [o.csp()];
    callback({ responseHeaders: headers });
  });
}
