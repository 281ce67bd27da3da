/**
 * A real player plays a live channel: the headless appliance, a real ffmpeg encoder, and hls.js in
 * headless Chromium (playwright-core) loading the channel's master playlist from the origin.
 */
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import type net from 'node:net';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ROOT,
  createChannel,
  startAppliance,
  waitFor,
  type ChannelJson,
  type RunningAppliance,
} from '../helpers/appliance.js';
import { launchChromium } from '../helpers/browser.js';
import { ffmpegUrl, publish, type Publisher } from '../helpers/encoder.js';

const HLS_JS = createRequire(import.meta.url).resolve('hls.js/dist/hls.min.js');
const SCREENSHOT = path.join(ROOT, 'test-artifacts', 'playback.png');

/** The player page: hls.js on a muted autoplaying video; the master URL comes in `?src=`. */
const PLAYER_HTML = `<!doctype html>
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
  const hls = new Hls({ lowLatencyMode: false });
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

interface HlsError {
  type: string;
  details: string;
  fatal: boolean;
  url: string | null;
  reason: string | null;
}

interface PlayerState {
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

let a: RunningAppliance | undefined;
let channel: ChannelJson;
let encoder: Publisher | undefined;
let pageServer: http.Server | undefined;
let pageOrigin: string;
let browser: Browser | undefined;
let page: Page | undefined;
const pageLog: string[] = [];
const started = Date.now();

function elapsed(): string {
  return `${((Date.now() - started) / 1000).toFixed(1)}s`;
}

async function startPageServer(): Promise<http.Server> {
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
  return server;
}

async function playerState(): Promise<PlayerState> {
  if (!page) throw new Error('no page');
  return page.evaluate<PlayerState>('window.__state()');
}

function describeState(s: PlayerState | undefined): string {
  return JSON.stringify({ state: s, pageLog }, null, 2);
}

/**
 * Polls the player until `ok` holds; fails at once on a fatal hls.js error, and with the player's
 * state and the page log when `timeoutMs` passes.
 */
async function untilPlayer(
  what: string,
  ok: (s: PlayerState) => boolean,
  timeoutMs: number,
): Promise<PlayerState> {
  const end = Date.now() + timeoutMs;
  let s: PlayerState | undefined;
  for (;;) {
    s = await playerState();
    if (s.errors.some((e) => e.fatal))
      throw new Error(`fatal hls.js error while waiting for ${what}:\n${describeState(s)}`);
    if (ok(s)) return s;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}:\n${describeState(s)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  a = await startAppliance();
  channel = await createChannel(a, 'Playback');
  encoder = publish(ffmpegUrl(channel.broadcastUrl, channel.streamName), { seconds: 25 });
  pageServer = await startPageServer();
  pageOrigin = `http://127.0.0.1:${(pageServer.address() as net.AddressInfo).port}`;
  browser = await launchChromium();
});

afterAll(async () => {
  const steps: Array<[string, () => Promise<unknown>]> = [
    ['page', async () => page?.close()],
    ['browser', async () => browser?.close()],
    [
      'page server',
      async () => {
        if (!pageServer) return;
        pageServer.closeAllConnections();
        await new Promise<void>((resolve) => pageServer?.close(() => resolve()));
      },
    ],
    ['encoder', async () => encoder?.stop()],
    ['appliance', async () => a?.stop()],
    ['data dir', async () => a && fs.rmSync(a.dataDir, { recursive: true, force: true })],
  ];
  const failures: string[] = [];
  for (const [name, step] of steps) {
    try {
      await step();
    } catch (err) {
      failures.push(`${name}: ${(err as Error).message}`);
    }
  }
  if (failures.length) throw new Error(`cleanup failed: ${failures.join('; ')}`);
});

describe('playback in a real player', () => {
  it('offers the master playlist once every track has its first fragment', async () => {
    await waitFor(
      'master playlist 200',
      async () => {
        const r = await fetch(channel.playback.hls);
        await r.arrayBuffer();
        return r.status === 200;
      },
      30_000,
    );
    console.log(`[playback] master playlist 200 at ${elapsed()}`);
  });

  it('plays the live stream in hls.js in Chromium', async () => {
    page = await browser!.newPage({ viewport: { width: 640, height: 360 } });
    page.on('console', (m) => pageLog.push(`console.${m.type()}: ${m.text()}`));
    page.on('pageerror', (err) => pageLog.push(`pageerror: ${err.message}`));
    page.on('requestfailed', (r) => pageLog.push(`requestfailed: ${r.url()} ${r.failure()?.errorText}`));
    await page.goto(`${pageOrigin}/?src=${encodeURIComponent(channel.playback.hls)}`);

    const first = await untilPlayer('playback to start', (s) => !s.paused && s.currentTime > 0, 30_000);
    console.log(`[playback] playing at ${elapsed()}, currentTime ${first.currentTime.toFixed(2)}`);
    const later = await untilPlayer(
      'currentTime to advance by 3 s',
      (s) => s.currentTime - first.currentTime >= 3,
      20_000,
    );
    console.log(
      `[playback] advanced ${(later.currentTime - first.currentTime).toFixed(2)}s at ${elapsed()}; ` +
        `levels ${JSON.stringify(later.levels)}; events ${JSON.stringify(later.events)}; ` +
        `errors ${JSON.stringify(later.errors)}`,
    );

    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT });
    console.log(`[playback] screenshot: ${SCREENSHOT}`);

    expect(later.currentTime - first.currentTime).toBeGreaterThanOrEqual(3);
    expect(later.videoHeight, describeState(later)).toBe(360);
    expect(later.playError, describeState(later)).toBeNull();
    expect(later.errors.filter((e) => e.fatal)).toEqual([]);
    expect(later.levels.length, describeState(later)).toBeGreaterThanOrEqual(2);
  });
});
