/**
 * A thousand viewers: 4 live channels fed by real ffmpeg encoders (640x360@30), and 1000 simulated players
 * (bench/load/viewers-worker.ts, in child processes) spread over them, each following its variant's and the
 * audio's live playlists and fetching every new fragment for 60 s. Reported: errors, fragments completed more
 * than 1 s after the player saw them listed, fragment fetch times, the core's CPU and peak memory.
 * Environment: BENCH_VIEWERS (1000) and BENCH_VIEWER_SECONDS (60) shorten runs while developing;
 * BENCH_VIEWER_PROFILE picks the conversion profile (default | passthrough); BENCH_VIEWER_WORKERS (2) the number
 * of load processes; BENCH_VIEWER_AUDIO=0 makes players follow only their variant's playlist.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  createChannel,
  ROOT,
  startAppliance,
  waitFor,
  type ChannelJson,
  type RunningAppliance,
} from '../test/helpers/appliance.js';
import { ffmpegUrl, publish, type Publisher } from '../test/helpers/encoder.js';
import { channelStats, type ChannelStats } from './live-common.js';
import { startWorker, type Worker } from './lib/child.js';
import { machineBusySeconds, processCpuSeconds, threadSchedSeconds } from './lib/cpu.js';
import { firstVariantUrl, parseMediaPlaylist } from './lib/hls.js';
import { childrenOf, MemorySampler, readMem } from './lib/proc-mem.js';
import { applianceStartEnv, fmt, progress, type SectionResult, type SectionRow } from './lib/section.js';
import { median, percentile, sleep } from './lib/stats.js';
import { check } from './lib/table.js';
import type { ViewersJob, ViewersWorkerResult } from './load/viewers-worker.js';

const VIEWERS = Number(process.env.BENCH_VIEWERS ?? 1000);
const SECONDS = Number(process.env.BENCH_VIEWER_SECONDS ?? 60);
const WORKERS = Number(process.env.BENCH_VIEWER_WORKERS ?? 2);
const PROFILE = (process.env.BENCH_VIEWER_PROFILE ?? 'default') as 'default' | 'passthrough';
/** BENCH_VIEWER_AUDIO=0: players follow only their variant's playlist, not the audio rendition's. */
const FOLLOW_AUDIO = process.env.BENCH_VIEWER_AUDIO !== '0';
const CHANNELS = 4;
const SOURCE = { size: '640x360', rate: 30 } as const;
/** Players join spread over this many seconds (a live event's audience does not arrive in one millisecond). */
const RAMP_SECONDS = Math.round(Math.min(10, SECONDS / 6));
const LATE_MS = 1000;
export const VIEWERS_TARGET = { errors: 0, late: 0, coreRssMB: 300 };

export interface ViewersResult {
  viewers: number;
  channels: number;
  profile: string;
  followAudio: boolean;
  seconds: number;
  rampSeconds: number;
  workers: number;
  totals: {
    joined: number;
    playlistRequests: number;
    fragmentRequests: number;
    bytes: number;
    errors: number;
    late: number;
    fragments: number;
  };
  fragmentFetchMs: { p50: number; p99: number; max: number };
  listedToDoneMs: { p50: number; p99: number; max: number };
  playlistFetchMs: { p50: number; p99: number; max: number };
  errorSamples: string[];
  lateSamples: string[];
  /** CPU in cores (CPU seconds / wall seconds) from all players joined to the end. */
  cpuCores: {
    core: number;
    ingest: number;
    transcoders: number;
    generators: number;
    /** Every process of the machine (encoders, other users' work included), of os.cpus().length. */
    machine: number;
    /** The core's main thread (its event loop): share of the wall time on a CPU, and runnable but waiting for one. */
    mainThreadRun: number;
    mainThreadWait: number;
    window: number;
  };
  /**
   * GET /api/v1/health on the admin listener every 200 ms during the run, ms: it shares the core's event loop with
   * the origin, so a slow answer is the core (or the machine) being busy, not the network.
   */
  coreProbeMs: { p50: number; p99: number; max: number; samples: number };
  memory: { coreHwmMB: number; coreRssEndMB: number; ingestHwmMB: number; transcoderHwmMB: number };
  generatorLoopDelayMs: { p99: number; max: number };
  /** The transcoders' own statistics near the end of the run (speed < 1 = falling behind). */
  transcoders: Array<{ entryId: string; statistics: ChannelStats['statistics'] }>;
  /** Concurrent viewers the appliance itself counted per channel (its viewer statistics). */
  applianceViewers: number[];
}

function summarize(values: number[]): { p50: number; p99: number; max: number } {
  if (values.length === 0) return { p50: NaN, p99: NaN, max: NaN };
  return {
    p50: median(values),
    p99: percentile(values, 99),
    max: values.reduce((m, v) => Math.max(m, v), 0),
  };
}

/** CPU seconds of the appliance, its ingest child, its ffmpeg children and the whole machine, read now. */
function cpuNow(pid: number): {
  core: number;
  ingest: number;
  transcoders: number;
  machine: number;
  mainRun: number;
  mainWait: number;
} {
  const kids = childrenOf(pid);
  const sum = (comm: string) =>
    kids.filter((k) => k.comm === comm).reduce((s, k) => s + (processCpuSeconds(k.pid) ?? 0), 0);
  return {
    core: processCpuSeconds(pid) ?? 0,
    ingest: sum('node'),
    transcoders: sum('ffmpeg'),
    machine: machineBusySeconds(),
    mainRun: threadSchedSeconds(pid)?.run ?? 0,
    mainWait: threadSchedSeconds(pid)?.wait ?? 0,
  };
}

/** Times GET /api/v1/health every `everyMs` until stopped. */
function startProbe(a: RunningAppliance, everyMs: number): { stop: () => Promise<number[]> } {
  const ms: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const t0 = performance.now();
      try {
        const r = await a.api('GET', '/api/v1/health');
        await r.arrayBuffer();
        ms.push(performance.now() - t0);
      } catch {
        ms.push(performance.now() - t0);
      }
      await sleep(Math.max(0, t0 + everyMs - performance.now()));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return ms;
    },
  };
}

async function waitPlayable(c: ChannelJson, encoder: Publisher): Promise<void> {
  await waitFor(
    `channel ${c.entryId} playable`,
    async () => {
      if (encoder.proc.exitCode !== null) throw new Error(`the encoder of ${c.entryId} exited`);
      const m = await fetch(c.playback.hls);
      if (m.status !== 200) return false;
      const master = await m.text();
      const variant = firstVariantUrl(master, c.playback.hls);
      if (!variant) return false;
      const text = await (await fetch(variant)).text();
      return parseMediaPlaylist(text, variant).length >= 2;
    },
    60_000,
    250,
  );
}

export async function measureViewers(): Promise<ViewersResult> {
  let a: RunningAppliance | undefined;
  const encoders: Publisher[] = [];
  const workers: Worker<ViewersWorkerResult>[] = [];
  const sampler: { s?: MemorySampler } = {};
  let probe: { stop: () => Promise<number[]> } | undefined;
  try {
    progress(`viewers: starting the appliance (${PROFILE} profile) and ${CHANNELS} channels`);
    a = await startAppliance({
      ...applianceStartEnv(),
      extraArgs:
        PROFILE === 'passthrough'
          ? ['--conversion-profile', path.join(ROOT, 'resources/conversion-profiles/passthrough.xml')]
          : [],
    });
    const pid = a.proc.pid as number;
    sampler.s = new MemorySampler(pid, 500);
    sampler.s.start();
    const channels: ChannelJson[] = [];
    for (let i = 0; i < CHANNELS; i++) {
      const c = await createChannel(a, `bench viewers ${i + 1}`);
      channels.push(c);
      encoders.push(
        publish(ffmpegUrl(c.broadcastUrl, c.streamName), { seconds: SECONDS + RAMP_SECONDS + 90, ...SOURCE }),
      );
    }
    for (const [i, c] of channels.entries()) await waitPlayable(c, encoders[i] as Publisher);
    // Let every channel fill a few fragments of its window before the audience arrives.
    await sleep(4000);

    const perWorker = Math.ceil(VIEWERS / WORKERS);
    const startAt = Date.now() + 4000; // tsx workers need a moment to start
    const rampMs = RAMP_SECONDS * 1000;
    const endAt = startAt + rampMs + SECONDS * 1000;
    progress(
      `viewers: ${VIEWERS} players in ${WORKERS} processes for ${SECONDS} s (+${RAMP_SECONDS} s ramp)`,
    );
    for (let first = 0; first < VIEWERS; first += perWorker) {
      const job: ViewersJob = {
        masters: channels.map((c) => c.playback.hls),
        players: Math.min(perWorker, VIEWERS - first),
        firstPlayer: first,
        totalPlayers: VIEWERS,
        startAt,
        rampMs,
        endAt,
        lateMs: LATE_MS,
        timeoutMs: 10_000,
        maxSocketsPerPlayer: 2,
        followAudio: FOLLOW_AUDIO,
      };
      workers.push(
        startWorker<ViewersWorkerResult>('bench/load/viewers-worker.ts', job, endAt - Date.now() + 40_000),
      );
    }
    const gen = () => workers.reduce((s, w) => s + (processCpuSeconds(w.pid) ?? 0), 0);
    probe = startProbe(a, 200);
    // The steady state: from the last player's join to the end.
    await sleep(startAt + rampMs - Date.now());
    const cpu0 = { ...cpuNow(pid), generators: gen(), at: performance.now() };
    let transcoders: ViewersResult['transcoders'] = [];
    let applianceViewers: number[] = [];
    let cpu1 = cpu0;
    await sleep(endAt - Date.now() - 3000);
    // Near the end, while everyone still watches: the transcoders' speed and the appliance's own viewer count.
    transcoders = await Promise.all(
      channels.map(async (c) => ({
        entryId: c.entryId,
        statistics: (await channelStats(a!, c.entryId)).statistics,
      })),
    );
    applianceViewers = await Promise.all(
      channels.map(async (c) => {
        const r = await a!.api('GET', `/api/v1/channels/${c.entryId}/viewers`);
        return ((await r.json()) as { viewers: number }).viewers;
      }),
    );
    await sleep(endAt - Date.now());
    cpu1 = { ...cpuNow(pid), generators: gen(), at: performance.now() };
    const coreRssEndMB = (readMem(pid)?.rssKb ?? 0) / 1024;
    const probeMs = await probe.stop();
    const results = await Promise.all(workers.map((w) => w.result));
    sampler.s.stop();
    const window = (cpu1.at - cpu0.at) / 1000;
    const all = <K extends keyof ViewersWorkerResult>(k: K) =>
      results.flatMap((r) => r[k] as unknown as number[]);
    const total = (k: keyof ViewersWorkerResult) => results.reduce((s, r) => s + (r[k] as number), 0);
    const peaks = sampler.s.peaks;
    return {
      viewers: VIEWERS,
      channels: CHANNELS,
      profile: PROFILE,
      followAudio: FOLLOW_AUDIO,
      seconds: SECONDS,
      rampSeconds: RAMP_SECONDS,
      workers: workers.length,
      totals: {
        joined: total('joined'),
        playlistRequests: total('playlistRequests'),
        fragmentRequests: total('fragmentRequests'),
        bytes: total('bytes'),
        errors: total('errors'),
        late: total('late'),
        fragments: all('fragmentFetchMs').length,
      },
      fragmentFetchMs: summarize(all('fragmentFetchMs')),
      listedToDoneMs: summarize(all('listedToDoneMs')),
      playlistFetchMs: summarize(all('playlistFetchMs')),
      errorSamples: results.flatMap((r) => r.errorSamples).slice(0, 10),
      lateSamples: results.flatMap((r) => r.lateSamples).slice(0, 10),
      cpuCores: {
        core: (cpu1.core - cpu0.core) / window,
        ingest: (cpu1.ingest - cpu0.ingest) / window,
        transcoders: (cpu1.transcoders - cpu0.transcoders) / window,
        generators: (cpu1.generators - cpu0.generators) / window,
        machine: (cpu1.machine - cpu0.machine) / window,
        mainThreadRun: (cpu1.mainRun - cpu0.mainRun) / window,
        mainThreadWait: (cpu1.mainWait - cpu0.mainWait) / window,
        window,
      },
      coreProbeMs: { ...summarize(probeMs), samples: probeMs.length },
      memory: {
        coreHwmMB: peaks.core.peakHwmKb / 1024,
        coreRssEndMB,
        ingestHwmMB: peaks.ingest.peakHwmKb / 1024,
        transcoderHwmMB: peaks.transcoder.peakHwmKb / 1024,
      },
      generatorLoopDelayMs: {
        p99: Math.max(...results.map((r) => r.loopDelayMs.p99)),
        max: Math.max(...results.map((r) => r.loopDelayMs.max)),
      },
      transcoders,
      applianceViewers,
    };
  } finally {
    await probe?.stop();
    sampler.s?.stop();
    await Promise.all(workers.map((w) => w.kill()));
    await Promise.all(encoders.map((e) => e.stop()));
    if (a) {
      await a.stop();
      fs.rmSync(a.dataDir, { recursive: true, force: true });
    }
  }
}

export function viewersRows(r: ViewersResult): SectionResult {
  const t = r.totals;
  const n = `${r.viewers} viewers`;
  const rows: SectionRow[] = [
    {
      key: 'viewers_errors',
      figure: `${n}: errors`,
      value: t.errors,
      unit: '',
      target: `${VIEWERS_TARGET.errors}`,
      verdict: check(t.errors, '<=', VIEWERS_TARGET.errors),
      digits: 0,
      note: 0,
    },
    {
      key: 'viewers_late_fragments',
      figure: `${n}: fragments done > 1 s after listed`,
      value: t.late,
      unit: `of ${t.fragments}`,
      target: `${VIEWERS_TARGET.late}`,
      verdict: check(t.late, '<=', VIEWERS_TARGET.late),
      digits: 0,
      note: 0,
    },
    {
      key: 'viewers_fragment_fetch_p99',
      figure: `  fragment fetch time, p99`,
      value: r.fragmentFetchMs.p99,
      unit: 'ms',
      target: '',
      verdict: 'info',
      digits: 1,
    },
    {
      key: 'viewers_listed_to_done_p99',
      figure: `  listed -> fragment done, p99`,
      value: r.listedToDoneMs.p99,
      unit: 'ms',
      target: '',
      verdict: 'info',
      digits: 1,
    },
    {
      key: 'viewers_core_cpu',
      figure: `${n}: core CPU`,
      value: r.cpuCores.core,
      unit: 'cores',
      target: '',
      verdict: 'info',
      note: 0,
    },
    {
      key: 'viewers_core_event_loop',
      figure: `  core main thread: on a CPU | waiting for one`,
      value: r.cpuCores.mainThreadRun * 100,
      display: `${fmt(r.cpuCores.mainThreadRun * 100, 0)} | ${fmt(r.cpuCores.mainThreadWait * 100, 0)}`,
      unit: '% time',
      target: '',
      verdict: 'info',
    },
    {
      key: 'viewers_core_rss_peak',
      figure: `${n}: core peak RSS, ${r.channels} live channels`,
      value: r.memory.coreHwmMB,
      unit: 'MB',
      target: `< ${VIEWERS_TARGET.coreRssMB}`,
      verdict: r.memory.coreHwmMB < VIEWERS_TARGET.coreRssMB ? 'PASS' : 'MISS',
      digits: 1,
      note: 0,
    },
  ];
  const behind = r.transcoders.flatMap((c) => c.statistics.filter((s) => s.speed !== null && s.speed < 0.98));
  const notes = [
    `${r.channels} channels, each fed by a realtime ffmpeg encoder (${SOURCE.size}@${SOURCE.rate}, x264 ` +
      `veryfast/zerolatency, GOP 2 s, AAC), ${r.profile === 'default' ? 'default ladder (on a 360p source: source passthrough + 360p H.264; 720p dropped)' : 'passthrough profile'}; ` +
      `${r.viewers} players in ${r.workers} child processes (node:http, one keep-alive agent of at most 2 ` +
      `connections per player, user agent per player) join over ${r.rampSeconds} s and watch ${r.seconds} s: ` +
      `master once, then the variant's${r.followAudio ? " and the audio's" : ''} live playlist` +
      `${r.followAudio ? 's' : ''} every half target duration (+-10 %), ` +
      `each fragment not seen before fetched at once (at join: the newest one). Late = response complete more ` +
      `than ${LATE_MS} ms after the player first saw the fragment listed. ${t.joined} of ${r.viewers} players ` +
      `got their master (10 s timeout per request) and played. ${t.playlistRequests} playlist and ` +
      `${t.fragmentRequests} fragment requests, ${fmt(t.bytes / 2 ** 30, 2)} GiB; fetch p50/p99/max ` +
      `${fmt(r.fragmentFetchMs.p50, 1)}/${fmt(r.fragmentFetchMs.p99, 1)}/${fmt(r.fragmentFetchMs.max, 0)} ms, ` +
      `playlists p99 ${fmt(r.playlistFetchMs.p99, 1)} ms. CPU (cores, from all joined to the end, /proc ` +
      `utime+stime): core ${fmt(r.cpuCores.core)}, ingest child ${fmt(r.cpuCores.ingest)}, transcoders ` +
      `${fmt(r.cpuCores.transcoders)}, load generators ${fmt(r.cpuCores.generators)}, whole machine ` +
      `${fmt(r.cpuCores.machine)} of ${os.cpus().length} (the 4 encoders and anything else running); the core's ` +
      `main thread (event loop) ran ${fmt(r.cpuCores.mainThreadRun * 100, 0)} % of the time and waited for a ` +
      `CPU ${fmt(r.cpuCores.mainThreadWait * 100, 0)} % (/proc schedstat). The core's ` +
      `admin health answered in p50/p99/max ${fmt(r.coreProbeMs.p50, 1)}/${fmt(r.coreProbeMs.p99, 1)}/` +
      `${fmt(r.coreProbeMs.max, 0)} ms meanwhile (same event loop as the origin). Peak RSS = VmHWM of the core process (TypeScript through tsx), from start to end ` +
      `of the run; RSS at the end ${fmt(r.memory.coreRssEndMB, 0)} MB. The appliance counted ` +
      `${r.applianceViewers.join('/')} concurrent viewers per channel. Generator event-loop delay p99 ` +
      `${fmt(r.generatorLoopDelayMs.p99, 1)} ms (max ${fmt(r.generatorLoopDelayMs.max, 0)}).` +
      (behind.length > 0 ? ` ${behind.length} transcoder(s) ran below realtime near the end.` : '') +
      (t.errors > 0 ? ` First errors: ${r.errorSamples.slice(0, 3).join('; ')}.` : '') +
      (t.late > 0 ? ` First late: ${r.lateSamples.slice(0, 3).join('; ')}.` : ''),
  ];
  return { rows, notes, details: r };
}
