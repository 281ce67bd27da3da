import type { BrowserWindowConstructorOptions } from 'electron';
import { describe, expect, it, vi } from 'vitest';
import type { Log } from '../../main/electron/types.js';
import {
  contentSecurityPolicy,
  createMainWindow,
  externalLinkPolicy,
  hardenSession,
  hardenWebContents,
  webPreferences,
} from '../../main/electron/window.js';

const URLS = {
  rtmp: 'rtmp://192.168.1.20:1935/',
  origin: 'http://192.168.1.20:8080/',
  admin: 'http://192.168.1.20:8081/',
};
const fakeLog = () => ({ debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() });

describe('window web preferences', () => {
  it('follow the security checklist', () => {
    expect(webPreferences('/app/dist/preload/preload.cjs')).toMatchObject({
      preload: '/app/dist/preload/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
    });
  });

  it('are what the window is created with; it shows once painted', () => {
    const created: BrowserWindowConstructorOptions[] = [];
    const once = new Map<string, () => void>();
    class FakeBrowserWindow {
      show = vi.fn();
      constructor(options: BrowserWindowConstructorOptions) {
        created.push(options);
      }
      once(event: string, l: () => void) {
        once.set(event, l);
        return this;
      }
    }
    const win = createMainWindow({
      BrowserWindow: FakeBrowserWindow as never,
      preload: '/app/dist/preload/preload.cjs',
      icon: '/app/resources/icons/app.png',
      devTools: false,
    }) as unknown as FakeBrowserWindow;
    expect(created).toHaveLength(1);
    expect(created[0]?.show).toBe(false);
    expect(created[0]?.webPreferences).toEqual({ ...webPreferences('/app/dist/preload/preload.cjs', false) });
    expect(created[0]?.webPreferences?.devTools).toBe(false);
    once.get('ready-to-show')?.();
    expect(win.show).toHaveBeenCalled();
  });
});

function fakeContents() {
  const listeners = new Map<string, (event: { url: string; preventDefault(): void }) => void>();
  let openHandler: ((d: { url: string }) => { action: string }) | undefined;
  const contents = {
    on: (event: string, l: (event: { url: string; preventDefault(): void }) => void) => {
      listeners.set(event, l);
      return contents;
    },
    setWindowOpenHandler: (h: (d: { url: string }) => { action: string }) => (openHandler = h),
  };
  const fire = (event: string, url = '') => {
    const preventDefault = vi.fn();
    listeners.get(event)?.({ url, preventDefault });
    return preventDefault;
  };
  return { contents, listeners, fire, open: (url: string) => openHandler?.({ url }) };
}

function hardened() {
  const c = fakeContents();
  const openExternal = vi.fn(async (_url: string) => undefined);
  const log = fakeLog();
  hardenWebContents(c.contents as never, {
    canOpenExternally: externalLinkPolicy(() => URLS),
    openExternal,
    log: log as unknown as Log,
  });
  return { ...c, openExternal, log };
}

describe('webContents hardening', () => {
  it('prevents every navigation; https links open in the browser instead', () => {
    const h = hardened();
    expect(h.fire('will-navigate', 'https://evil.example/')).toHaveBeenCalled();
    expect(h.openExternal).toHaveBeenCalledWith('https://evil.example/');
    expect(h.fire('will-navigate', 'file:///etc/passwd')).toHaveBeenCalled();
    expect(h.openExternal).toHaveBeenCalledTimes(1);
  });

  it('prevents redirects and webviews', () => {
    const h = hardened();
    expect(h.fire('will-redirect', 'https://elsewhere.example/')).toHaveBeenCalled();
    expect(h.fire('will-attach-webview')).toHaveBeenCalled();
    expect(h.openExternal).not.toHaveBeenCalled();
  });

  it('denies every new window; opens https and the appliance’s own listeners externally, nothing else', () => {
    const h = hardened();
    const cases: Array<[string, boolean]> = [
      ['https://www.kaltura.com/docs', true],
      ['http://192.168.1.20:8080/portal/', true],
      ['http://192.168.1.20:8081/api/v1/status', true],
      ['http://127.0.0.1:8080/hls/0_a/master.m3u8', true],
      ['http://evil.example/', false],
      ['http://192.168.1.20:9999/', false],
      ['file:///etc/passwd', false],
      ['javascript:alert(1)', false],
      ['smb://server/share', false],
      ['not a url', false],
    ];
    for (const [url] of cases) expect(h.open(url)).toEqual({ action: 'deny' });
    expect(h.openExternal.mock.calls.map((c) => c[0])).toEqual(cases.filter(([, ok]) => ok).map(([u]) => u));
  });
});

describe('session hardening', () => {
  function hardenedSession() {
    let request: ((wc: unknown, permission: string, cb: (granted: boolean) => void) => void) | undefined;
    let check: ((...args: unknown[]) => boolean) | undefined;
    let headers:
      | ((
          d: { responseHeaders?: Record<string, string[]> },
          cb: (r: { responseHeaders: Record<string, string[]> }) => void,
        ) => void)
      | undefined;
    const session = {
      setPermissionRequestHandler: (h: typeof request) => (request = h),
      setPermissionCheckHandler: (h: typeof check) => (check = h),
      webRequest: { onHeadersReceived: (h: typeof headers) => (headers = h) },
    };
    hardenSession(session as never, {
      csp: () => contentSecurityPolicy(URLS),
      log: fakeLog() as unknown as Log,
    });
    return { request: request!, check: check!, headers: headers! };
  }

  it('denies every permission request and check', () => {
    const s = hardenedSession();
    for (const permission of [
      'media',
      'geolocation',
      'notifications',
      'fullscreen',
      'openExternal',
      'clipboard-read',
    ]) {
      const cb = vi.fn();
      s.request({}, permission, cb);
      expect(cb).toHaveBeenCalledWith(false);
      expect(s.check({}, permission, 'file://', {})).toBe(false);
    }
  });

  it('adds the CSP to every response, keeping the other headers', () => {
    const s = hardenedSession();
    const cb = vi.fn();
    s.headers({ responseHeaders: { 'Content-Type': ['text/html'] } }, cb);
    const out = cb.mock.calls[0]?.[0] as { responseHeaders: Record<string, string[]> };
    expect(out.responseHeaders['Content-Type']).toEqual(['text/html']);
    expect(out.responseHeaders['Content-Security-Policy']).toEqual([contentSecurityPolicy(URLS)]);
    s.headers({}, cb);
    expect((cb.mock.calls[1]?.[0] as typeof out).responseHeaders['Content-Security-Policy']).toHaveLength(1);
  });
});

describe('contentSecurityPolicy', () => {
  it('allows only the app’s files for scripts, and the listeners for media and connections', () => {
    const csp = contentSecurityPolicy(URLS);
    const directive = (name: string) => csp.split('; ').find((d) => d.startsWith(`${name} `)) ?? '';
    expect(directive('script-src')).toBe("script-src 'self'");
    expect(directive('object-src')).toBe("object-src 'none'");
    expect(directive('frame-ancestors')).toBe("frame-ancestors 'none'");
    expect(directive('media-src')).toContain('http://192.168.1.20:8080');
    expect(directive('media-src')).toContain('blob:');
    expect(directive('connect-src')).toContain('http://127.0.0.1:8080');
    expect(directive('connect-src')).toContain('ws://192.168.1.20:8081');
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).not.toContain('*');
  });

  it('is self-only before the core has started', () => {
    const csp = contentSecurityPolicy();
    expect(csp).not.toContain('http');
    expect(csp).toContain("connect-src 'self'");
  });
});
