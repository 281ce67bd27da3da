/**
 * A real player for tests: a throwaway page server with hls.js (from node_modules, no internet) and a player
 * page in headless Chromium, whose state the test polls.
 */
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import type net from 'node:net';
import type { Browser, Page } from 'playwright-core';

const HLS_JS = createRequire(import.meta.url).resolve('hls.js/dist/hls.min.js');

/** The player page: hls.js on a muted autoplaying video; the master URL comes in `?src=`. */
export const PLAYER_HTML = `<!doctype html>
<html>
<head><meta charset="utf-8"><title>eCDN playback test</title>
<style>html,body{margin:0;background:#000}video{display:block;width:640px;height:360px}</style></head>
<body>
<video id="video" muted autoplay playsinline width="640" height="360"></video>
<script src="/hls.js"></script>
<script>
  const src = new URLSearchParams(location.search).get('src');
  const video = document.getElementById('video');
  window.__errors = [];
  window.__events = [];
  window.__playError = null;
  const t0 = performance.now();
  const note = (what) => window.__events.push(Math.round(performance.now() - t0) + 'ms ' + what);
  for (const e of ['loadedmetadata', 'playing', 'waiting', 'stalled', 'ended', 'error']) {
    video.addEventListener(e, () => note('video ' + e + ' @' + video.currentTime.toFixed(2)));
  }
  // ?config= (JSON): hls.js settings over the defaults (e.g. a longer playlist retry policy).
  const hls = new Hls(Object.assign({ lowLatencyMode: false }, JSON.parse(new URLSearchParams(location.search).get('config') || '{}')));
  window.__hls = hls;
  hls.on(Hls.Events.ERROR, (_event, data) => {
    window.__errors.push({
      type: String(data.type),
      details: String(data.details),
      fatal: Boolean(data.fatal),
      url: (data.frag && data.frag.url) || (data.context && data.context.url) || (data.url) || null,
      reason: data.reason || (data.error && String(data.error)) || null,
    });
    note('hls error ' + data.details + (data.fatal ? ' (fatal)' : ''));
  });
  hls.on(Hls.Events.MANIFEST_PARSED, (_event, data) => {
    note('manifest parsed: ' + data.levels.length + ' levels');
    video.play().catch((err) => { window.__playError = String(err); });
  });
  hls.on(Hls.Events.LEVEL_SWITCHED, (_event, data) => note('level switched to ' + data.level));
  hls.loadSource(src);
  hls.attachMedia(video);
  window.__state = () => {
    const buffered = [];
    for (let i = 0; i < video.buffered.length; i++) buffered.push([video.buffered.start(i), video.buffered.end(i)]);
    return {
      currentTime: video.currentTime,
      paused: video.paused,
      ended: video.ended,
      readyState: video.readyState,
      videoWidth: video.videoWidth,
      videoHeight: video.videoHeight,
      levels: hls.levels.map((l) => ({ height: l.height, bitrate: l.bitrate, codecs: l.codecSet })),
      currentLevel: hls.currentLevel,
      errors: window.__errors,
      playError: window.__playError,
      buffered,
      events: window.__events,
    };
  };
</script>
</body>
</html>
`;

export interface HlsError {
  type: string;
  details: string;
  fatal: boolean;
  url: string | null;
  reason: string | null;
}

export interface PlayerState {
  currentTime: number;
  paused: boolean;
  ended: boolean;
  readyState: number;
  videoWidth: number;
  videoHeight: number;
  levels: Array<{ height: number; bitrate: number; codecs: string }>;
  currentLevel: number;
  errors: HlsError[];
  playError: string | null;
  buffered: Array<[number, number]>;
  events: string[];
}

export interface PlayerPage {
  page: Page;
  log: string[];
  state(): Promise<PlayerState>;
  /** Polls until `ok` holds; fails at once on a fatal hls.js error, and with the state and page log on timeout. */
  until(what: string, ok: (s: PlayerState) => boolean, timeoutMs: number): Promise<PlayerState>;
  describe(s: PlayerState | undefined): string;
}

export interface PlayerServer {
  origin: string;
  /** Opens the player page on `src`; `config` is passed to hls.js over its defaults. */
  open(browser: Browser, src: string, config?: Record<string, unknown>): Promise<PlayerPage>;
  close(): Promise<void>;
}

export async function startPlayerServer(): Promise<PlayerServer> {
  const hlsJs = fs.readFileSync(HLS_JS);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(PLAYER_HTML);
    } else if (url.pathname === '/hls.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
      res.end(hlsJs);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const origin = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return {
    origin,
    async open(browser, src, config) {
      const page = await browser.newPage({ viewport: { width: 640, height: 360 } });
      const log: string[] = [];
      page.on('console', (m) => log.push(`console.${m.type()}: ${m.text()}`));
      page.on('pageerror', (err) => log.push(`pageerror: ${err.message}`));
      page.on('requestfailed', (r) => log.push(`requestfailed: ${r.url()} ${r.failure()?.errorText}`));
      const extra = config ? `&config=${encodeURIComponent(JSON.stringify(config))}` : '';
      await page.goto(`${origin}/?src=${encodeURIComponent(src)}${extra}`);
      const state = () => page.evaluate<PlayerState>('window.__state()');
      const describe = (s: PlayerState | undefined) => JSON.stringify({ state: s, log }, null, 2);
      return {
        page,
        log,
        state,
        describe,
        async until(what, ok, timeoutMs) {
          const end = Date.now() + timeoutMs;
          for (;;) {
            const s = await state();
            if (s.errors.some((e) => e.fatal))
              throw new Error(`fatal hls.js error while waiting for ${what}:\n${describe(s)}`);
            if (ok(s)) return s;
            if (Date.now() > end) throw new Error(`timed out waiting for ${what}:\n${describe(s)}`);
            await new Promise((r) => setTimeout(r, 250));
          }
        },
      };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
