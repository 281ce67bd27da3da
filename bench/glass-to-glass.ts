/**
 * Glass-to-glass latency: a realtime (-re) lavfi encoder publishes, so its timestamps follow the wall clock and
 * the origin's EXT-X-PROGRAM-DATE-TIME (the encoder's RTMP clock mapped onto the arrival wall time) is the
 * moment a frame was made; headless Chromium plays the channel with hls.js, and the page's wall clock minus
 * hls.playingDate is how far behind "glass" the viewer's picture is. Once for regular HLS, once with the
 * publishing point option hls.low_latency=true and lowLatencyMode (n/a while the origin writes no LL-HLS).
 */
import type { Browser, Page } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';
import {
  createChannel,
  ROOT,
  startAppliance,
  waitFor,
  type RunningAppliance,
} from '../test/helpers/appliance.js';
import { launchChromium } from '../test/helpers/browser.js';
import { ffmpegUrl, publish } from '../test/helpers/encoder.js';
import { DEFAULT_PP_OPTIONS } from '../main/origin/publishing-point-options.js';
import { channelStats, LIVE_SOURCE } from './live-common.js';
import { startGlassPageServer, type GlassPageServer, type GlassSample } from './lib/glass-page.js';
import { firstVariantUrl, parseMediaPlaylist } from './lib/hls.js';
import { fmt, progress, type SectionResult, type SectionRow } from './lib/section.js';
import { max, median, percentile, sleep } from './lib/stats.js';
import { check } from './lib/table.js';

const SAMPLE_SECONDS = Number(process.env.BENCH_GLASS_SECONDS ?? 20);
const SAMPLE_MS = 500;
/** Seconds of playback before sampling starts (hls.js settles on its live sync point). */
const SETTLE_SECONDS = 2;
export const GLASS_TARGET = { regular: 6, lowLatency: 2 };
/** The publishing point options of the LL-HLS run (SMIL head metas). */
export const LL_OPTIONS = { 'hls.low_latency': 'true', 'hls.part_duration': '0.5' };
/**
 * hls.js maxLiveSyncPlaybackRate of the LL run with catch-up, as the portal and the dashboard preview play: the
 * player may play this much faster to reach its target latency (hls.js's default is 1: never).
 */
const CATCH_UP_RATE = 1.5;

export interface GlassRun {
  mode: 'regular' | 'low-latency' | 'low-latency-catch-up';
  entryId?: string;
  /** False when the LL run's playlist has no EXT-X-PART-INF (the origin writes no LL-HLS yet). */
  available: boolean;
  /** The publishing point's server manifest as read back after setting the options (LL run). */
  serverManifest?: string;
  playlistHead?: string;
  /** Encoder spawn -> video playing with a playingDate. */
  startupSeconds?: number;
  /** Seconds: page wall clock - hls.playingDate, every SAMPLE_MS. */
  latencies: number[];
  /** hls.latency (seconds behind the playlist's live edge) at the same instants. */
  hlsLatencies: number[];
  targetLatency: number | null;
  partTarget: number;
  stalls: number;
  errors: Array<{ details: string; fatal: boolean }>;
  heights: number[];
}

export interface GlassResult {
  regular: GlassRun;
  lowLatency: GlassRun;
  /** LL-HLS again, with hls.js allowed to catch up (only when LL-HLS is there). */
  catchUp?: GlassRun;
  hlsJs: string;
  chromium: string;
}

function smil(options: Record<string, string>): string {
  const metas = Object.entries(options)
    .map(([name, content]) => `    <meta name="${name}" content="${content}" />`)
    .join('\n');
  return (
    `<?xml version="1.0" encoding="utf-8"?>\n<smil xmlns="http://www.w3.org/2001/SMIL20/Language">\n` +
    `  <head>\n${metas}\n  </head>\n  <body>\n    <switch>\n    </switch>\n  </body>\n</smil>\n`
  );
}

/**
 * Sets a channel's publishing point options before its first publish, through Unified Streaming's REST API on
 * the admin listener: POST creates `/<entry>/<entry>.isml` with them (a channel's publishing point is created
 * on the first publish only if none exists); PUT when it exists (allowed only while idle and fully purged).
 */
async function setPpOptions(
  a: RunningAppliance,
  entryId: string,
  options: Record<string, string>,
): Promise<string> {
  const route = `/${entryId}/${entryId}.isml`;
  const body = smil({ ...DEFAULT_PP_OPTIONS, restart_on_encoder_reconnect: 'true', ...options });
  let r = await a.api('POST', route, body, { 'content-type': 'application/smil+xml' });
  if (r.status === 409) r = await a.api('PUT', route, body, { 'content-type': 'application/smil+xml' });
  if (r.status !== 201 && r.status !== 200)
    throw new Error(`set options of ${route}: ${r.status} ${await r.text()}`);
  const read = await a.api('GET', route);
  const text = await read.text();
  for (const name of Object.keys(options))
    if (!text.includes(`name="${name}"`)) throw new Error(`option ${name} not kept by ${route}:\n${text}`);
  return text;
}

async function sample(page: Page): Promise<GlassSample> {
  return page.evaluate<GlassSample>('window.__sample()');
}

async function play(
  a: RunningAppliance,
  browser: Browser,
  pages: GlassPageServer,
  mode: GlassRun['mode'],
): Promise<GlassRun> {
  const lowLatency = mode !== 'regular';
  const catchUp = mode === 'low-latency-catch-up' ? CATCH_UP_RATE : 1;
  const channel = await createChannel(a, `bench glass ${mode}`);
  const run: GlassRun = {
    mode,
    entryId: channel.entryId,
    available: true,
    latencies: [],
    hlsLatencies: [],
    targetLatency: null,
    partTarget: 0,
    stalls: 0,
    errors: [],
    heights: [],
  };
  if (lowLatency) run.serverManifest = await setPpOptions(a, channel.entryId, LL_OPTIONS);
  const spawnedAt = performance.now();
  const publisher = publish(ffmpegUrl(channel.broadcastUrl, channel.streamName), {
    seconds: SAMPLE_SECONDS + SETTLE_SECONDS + 45,
    ...LIVE_SOURCE,
  });
  let page: Page | undefined;
  try {
    const master = channel.playback.hls;
    const playlist = await waitFor(
      'a media playlist with 2 fragments',
      async () => {
        if (publisher.proc.exitCode !== null) throw new Error('the encoder exited early');
        const m = await fetch(master);
        if (m.status !== 200) return false;
        const variant = firstVariantUrl(await m.text(), master);
        if (!variant) return false;
        const text = await (await fetch(variant)).text();
        return parseMediaPlaylist(text, variant).length >= 2 && text;
      },
      40_000,
      200,
    );
    run.playlistHead = playlist.split('\n').slice(0, 8).join('\n');
    if (lowLatency && !playlist.includes('#EXT-X-PART-INF')) {
      run.available = false;
      progress('glass: the low-latency playlist has no #EXT-X-PART-INF: LL-HLS is n/a on this build');
      return run;
    }
    page = await browser.newPage({ viewport: { width: 640, height: 360 } });
    await page.goto(pages.url(master, lowLatency, catchUp));
    const first = await waitFor(
      `${mode} playback`,
      async () => {
        const s = await sample(page as Page);
        const fatal = s.errors.find((e) => e.fatal);
        if (fatal) throw new Error(`fatal hls.js error ${fatal.details}`);
        return !s.paused && s.currentTime > 0 && s.playingDate !== null && s;
      },
      30_000,
      100,
    );
    run.startupSeconds = (performance.now() - spawnedAt) / 1000;
    await sleep(SETTLE_SECONDS * 1000);
    const start = performance.now();
    let last: GlassSample = first;
    for (let i = 0; i < (SAMPLE_SECONDS * 1000) / SAMPLE_MS; i++) {
      await sleep(Math.max(0, start + i * SAMPLE_MS - performance.now()));
      if (publisher.proc.exitCode !== null) throw new Error('the encoder exited while sampling');
      const s = await sample(page);
      last = s;
      if (s.playingDate === null) continue;
      run.latencies.push((s.wall - s.playingDate) / 1000);
      run.hlsLatencies.push(s.latency);
      if (!run.heights.includes(s.height)) run.heights.push(s.height);
    }
    run.targetLatency = last.targetLatency;
    run.partTarget = last.partTarget;
    run.stalls = last.stalls - first.stalls;
    run.errors = last.errors;
    if (run.latencies.length === 0) throw new Error(`${mode}: no sample had a playingDate`);
    progress(
      `glass ${mode}: median ${fmt(median(run.latencies))} s, p95 ${fmt(percentile(run.latencies, 95))} s`,
    );
    return run;
  } finally {
    await page?.close();
    await publisher.stop();
    await waitFor(
      'channel stopped',
      async () => ['stopped', 'idle'].includes((await channelStats(a, channel.entryId)).state),
      20_000,
      100,
    ).catch(() => undefined);
    await a.api('DELETE', `/api/v1/channels/${channel.entryId}`);
  }
}

export async function measureGlassToGlass(): Promise<GlassResult> {
  let a: RunningAppliance | undefined;
  let browser: Browser | undefined;
  let pages: GlassPageServer | undefined;
  try {
    progress('glass: starting the appliance and Chromium');
    a = await startAppliance();
    pages = await startGlassPageServer();
    browser = await launchChromium();
    const regular = await play(a, browser, pages, 'regular');
    const lowLatency = await play(a, browser, pages, 'low-latency');
    const catchUp = lowLatency.available ? await play(a, browser, pages, 'low-latency-catch-up') : undefined;
    return {
      regular,
      lowLatency,
      ...(catchUp ? { catchUp } : {}),
      hlsJs: hlsJsVersion(),
      chromium: browser.version(),
    };
  } finally {
    await browser?.close();
    await pages?.close();
    if (a) {
      await a.stop();
      fs.rmSync(a.dataDir, { recursive: true, force: true });
    }
  }
}

function hlsJsVersion(): string {
  return (
    JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules/hls.js/package.json'), 'utf8')) as {
      version: string;
    }
  ).version;
}

export function glassRows(r: GlassResult): SectionResult {
  const rows: SectionRow[] = [];
  const add = (run: GlassRun, label: string, target: number, key: string, note: number) => {
    if (!run.available) {
      rows.push({
        key: `${key}_median`,
        figure: `${label}, median`,
        value: null,
        display: 'n/a (no LL-HLS)',
        unit: 's',
        target: `<= ${target}`,
        verdict: 'n/a',
        note,
      });
      return;
    }
    const med = median(run.latencies);
    const p95 = percentile(run.latencies, 95);
    rows.push(
      {
        key: `${key}_median`,
        figure: `${label}, median`,
        value: med,
        unit: 's',
        target: `<= ${target}`,
        verdict: check(med, '<=', target),
        note,
      },
      {
        key: `${key}_p95`,
        figure: `${label}, p95`,
        value: p95,
        unit: 's',
        target: `<= ${target}`,
        verdict: check(p95, '<=', target),
        note,
      },
      {
        key: `${key}_hls_latency_median`,
        figure: `  of which behind the playlist's live edge (hls.latency)`,
        value: median(run.hlsLatencies),
        unit: 's',
        target: '',
        verdict: 'info',
      },
    );
  };
  add(r.regular, 'Glass-to-glass, HLS 2 s fragments', GLASS_TARGET.regular, 'glass_regular', 0);
  // The target row plays as the appliance's own pages do (portal, dashboard preview): lowLatencyMode with
  // catch-up (maxLiveSyncPlaybackRate); hls.js's defaults (no catch-up) are shown beside it.
  add(
    r.catchUp ?? r.lowLatency,
    `Glass-to-glass, LL-HLS (hls.js as the portal plays: catch-up ${CATCH_UP_RATE}x)`,
    GLASS_TARGET.lowLatency,
    'glass_ll',
    0,
  );
  if (r.catchUp)
    rows.push({
      key: 'glass_ll_no_catch_up_median',
      figure: `  LL-HLS with hls.js defaults (no catch-up), median`,
      value: median(r.lowLatency.latencies),
      unit: 's',
      target: '',
      verdict: 'info',
      note: 0,
    });
  const describe = (run: GlassRun) =>
    run.available
      ? `${run.mode}: ${run.latencies.length} samples, max ${fmt(max(run.latencies))} s, start-up ` +
        `${fmt(run.startupSeconds ?? NaN)} s from encoder spawn, hls.js targetLatency ` +
        `${run.targetLatency === null ? '-' : fmt(run.targetLatency)} s, ${run.stalls} stall(s), ` +
        `${run.errors.length} non-fatal hls.js error(s), heights played ${run.heights.join('/')}`
      : `${run.mode}: the media playlist had no #EXT-X-PART-INF after setting ` +
        `${Object.entries(LL_OPTIONS)
          .map(([k, v]) => `${k}=${v}`)
          .join(', ')} on the publishing point (POST /<entry>/<entry>.isml before the first publish), so ` +
        `the origin writes no LL-HLS yet`;
  const notes = [
    `A ${LIVE_SOURCE.size}@${LIVE_SOURCE.rate} realtime (-re) lavfi encoder (x264 zerolatency, GOP 2 s) ` +
      `publishes to a new channel (default ladder); headless Chromium plays the master with hls.js ` +
      `${r.hlsJs} in Chromium ${r.chromium} (defaults; for LL-HLS lowLatencyMode: true, and the target row with ` +
      `maxLiveSyncPlaybackRate ${CATCH_UP_RATE} as the portal and the dashboard preview play) and, every ${SAMPLE_MS} ms for ` +
      `${SAMPLE_SECONDS} s after ${SETTLE_SECONDS} s of playback, the page's Date.now() - hls.playingDate ` +
      `(the PDT of the playing position; PDT = the encoder's clock mapped onto the arrival wall time, so ` +
      `encoding and RTMP transport count, up to the least-delayed packet). ` +
      `${describe(r.regular)}. ${describe(r.lowLatency)}.` +
      (r.catchUp
        ? ` ${describe(r.catchUp)} (the player may play up to ${CATCH_UP_RATE}x to reach its ` +
          `target latency; hls.js does not by default).`
        : '') +
      ` Targets: regular <= ${GLASS_TARGET.regular} s, ` +
      `LL-HLS <= ${GLASS_TARGET.lowLatency} s.`,
  ];
  return { rows, notes, details: r };
}
