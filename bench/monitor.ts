/**
 * What on-air confidence and SRT ingest cost. The content monitor (main/monitor/content-monitor.ts: one ffmpeg
 * per live channel decoding key frames for black, frozen and silence, and writing thumbnails) should take under
 * 5% of one core per channel (issue #15): measured over a steady window with 1, 2 and 4 live 720p30 channels,
 * beside each channel's transcoder. SRT (main/ingest/srt-child.ts: libsrt in a child process, one `ffmpeg -c copy`
 * per caller relaying into the RTMP ingest): the CPU of the SRT child and of its relay per caller over the same
 * window, and first playable of one SRT publish beside one RTMP publish of the same signal.
 * CPU is read from /proc/<pid>/stat (utime + stime) of the appliance's descendants, told apart by command line.
 * Environment: BENCH_MONITOR_SECONDS (30) the steady window; BENCH_MONITOR_CHANNELS (1,2,4) the channel counts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createChannel, startAppliance, waitFor, type RunningAppliance } from '../test/helpers/appliance.js';
import { ffmpegUrl, publish } from '../test/helpers/encoder.js';
import { freeUdpPort, publishSrt } from '../test/helpers/srt.js';
import { machineBusySeconds, ProcessCpu } from './lib/cpu.js';
import { firstVariantUrl, parseMediaPlaylist } from './lib/hls.js';
import { descendants, type TreeProcess } from './lib/proc-tree.js';
import { applianceStartEnv, fmt, progress, type SectionResult, type SectionRow } from './lib/section.js';
import { max, median, sleep } from './lib/stats.js';
import { check } from './lib/table.js';
import {
  assertPublishing,
  channelStats,
  endLive,
  eventDelay,
  LIVE_SOURCE,
  type ChannelEventJson,
  type LiveSession,
} from './live-common.js';
import { RESULTS } from './live-figures.js';

/** Issue #15: the content monitor under 5% of one core per channel. */
export const MONITOR_TARGET_PERCENT = 5;
/** After every channel's monitor has decoded key frames: let start-up work (probing, first thumbnail) pass. */
const SETTLE_SECONDS = 5;
const SAMPLE_MS = 1000;
const PLAYABLE_POLL_MS = 50;
const PLAYABLE_TIMEOUT_MS = 30_000;

function positiveInteger(name: string, fallback: string): number {
  const raw = process.env[name] ?? fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name}: a whole number of at least 1, not "${raw}"`);
  return n;
}

function channelCounts(): number[] {
  const raw = process.env.BENCH_MONITOR_CHANNELS ?? '1,2,4';
  const counts = raw.split(',').map((s) => Number(s.trim()));
  if (counts.length === 0 || counts.some((n) => !Number.isInteger(n) || n < 1 || n > 8))
    throw new Error(`BENCH_MONITOR_CHANNELS: channel counts from 1 to 8, comma-separated, not "${raw}"`);
  return counts;
}

/** Who a process of the appliance's tree is, by its command line. */
export type ProcRole = 'core' | 'rtmpIngest' | 'srtIngest' | 'srtRelay' | 'monitor' | 'transcoder' | 'other';

export interface ProcCpu {
  pid: number;
  comm: string;
  role: ProcRole;
  /** The channel the process works for, when its command line names it. */
  entryId?: string;
  cpuSeconds: number;
  /** cpuSeconds / window seconds x 100: % of one core. */
  percent: number;
}

/** One channel during a window: the media its encoder produced, the CPU of its monitor and its transcoder. */
export interface ChannelWindow {
  entryId: string;
  transport: 'rtmp' | 'srt';
  /** Media seconds the encoder produced during the window (its `-progress` out_time). */
  mediaSeconds: number;
  /** mediaSeconds / wall seconds: below 1, the machine could not keep the channel at real time. */
  ingestSpeed: number;
  monitorCpuSeconds: number;
  /** The content monitor (all its ffmpeg processes in the window), % of one core over wall time. */
  monitorPercent: number;
  /** monitorCpuSeconds / mediaSeconds x 100: % of one core for a channel that runs at real time. */
  monitorPercentRealtime: number;
  /** The channel's transcoding ffmpeg, % of one core over wall time. */
  transcoderPercent: number;
}

export interface CpuWindow {
  seconds: number;
  /** Busy cores of the whole machine (every process) during the window. */
  machineCores: number;
  channels: ChannelWindow[];
  /** Slowest `speed` of any rendition at the end of the window (below 1: the transcoder fell behind). */
  slowestSpeed: number | null;
  processes: ProcCpu[];
}

export interface PlayableRun {
  transport: 'rtmp' | 'srt';
  entryId: string;
  /** Encoder spawn -> master 200 and first fragment of the first variant 200. */
  seconds: number;
  /** Encoder spawn -> the appliance accepted the publish (PUBLISH_STARTED event). */
  publishStartedSeconds?: number;
}

export interface MonitorMeasured {
  windowSeconds: number;
  source: string;
  windows: CpuWindow[];
  srt: { rtmp: PlayableRun; srt: PlayableRun; window: CpuWindow };
}

function classify(p: TreeProcess, root: number, roles: ReadonlyMap<number, ProcRole>): ProcRole {
  if (p.comm === 'node' && p.cmdline.includes('srt-child')) return 'srtIngest';
  if (p.comm === 'node' && p.cmdline.includes('rtmp-child')) return 'rtmpIngest';
  if (p.comm !== 'ffmpeg') return 'other';
  if (roles.get(p.ppid) === 'srtIngest') return 'srtRelay';
  if (/blackdetect|silencedetect/.test(p.cmdline)) return 'monitor';
  return p.ppid === root ? 'transcoder' : 'other';
}

/** A live channel of the bench: its encoder writes its progress (media time) to `progressFile`. */
interface Feed extends LiveSession {
  transport: 'rtmp' | 'srt';
  progressFile: string;
}

/** The encoder's media time (s) from its `-progress` file: the last `out_time_us`; undefined before the first. */
function encoderMediaSeconds(f: Feed): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(f.progressFile, 'utf8');
  } catch {
    return undefined;
  }
  const all = [...text.matchAll(/^out_time_us=(\d+)$/gm)];
  const last = all[all.length - 1]?.[1];
  return last === undefined ? undefined : Number(last) / 1e6;
}

/** CPU of every process of the appliance's tree, and each channel's media and bytes, over `seconds`. */
async function measureWindow(
  a: RunningAppliance,
  feeds: readonly Feed[],
  seconds: number,
): Promise<CpuWindow> {
  const root = a.proc.pid;
  if (root === undefined) throw new Error('the appliance has no pid');
  const entryIds = feeds.map((f) => f.channel.entryId);
  const cpu = new ProcessCpu();
  const seen = new Map<number, { comm: string; role: ProcRole; entryId?: string }>();
  const roles = new Map<number, ProcRole>();
  const sample = () => {
    roles.clear();
    roles.set(root, 'core');
    const tree = descendants(root);
    for (const p of tree) {
      const role = classify(p, root, roles);
      roles.set(p.pid, role);
      if (seen.has(p.pid)) continue;
      const entryId = entryIds.find((e) => p.cmdline.includes(e));
      seen.set(p.pid, { comm: p.comm, role, ...(entryId !== undefined ? { entryId } : {}) });
    }
    seen.set(root, { comm: 'node', role: 'core' });
    cpu.sample([root, ...tree.map((p) => p.pid)]);
  };
  const media0 = feeds.map(encoderMediaSeconds);
  const busy0 = machineBusySeconds();
  const t0 = performance.now();
  sample();
  for (;;) {
    const left = t0 + seconds * 1000 - performance.now();
    if (left <= 0) break;
    await sleep(Math.min(SAMPLE_MS, left));
    sample();
  }
  const wall = (performance.now() - t0) / 1000;
  const machineCores = (machineBusySeconds() - busy0) / wall;
  const media1 = feeds.map(encoderMediaSeconds);
  const processes: ProcCpu[] = [...seen].map(([pid, s]) => {
    const cpuSeconds = cpu.seconds([pid]);
    return { pid, ...s, cpuSeconds, percent: (cpuSeconds / wall) * 100 };
  });
  const unattributed = processes.filter((p) => p.role === 'monitor' && p.entryId === undefined);
  if (unattributed.length > 0)
    throw new Error(`content monitor pid ${unattributed[0]?.pid} names none of the live channels`);
  const channels = feeds.map((f, i): ChannelWindow => {
    const entryId = f.channel.entryId;
    const pids = (role: ProcRole) =>
      processes.filter((p) => p.role === role && p.entryId === entryId).map((p) => p.pid);
    const monitors = pids('monitor');
    if (monitors.length === 0) throw new Error(`no content monitor ran for ${entryId}`);
    const from = media0[i];
    const to = media1[i];
    if (from === undefined || to === undefined || to <= from)
      throw new Error(`the encoder of ${entryId} reported no progress during the window`);
    const mediaSeconds = to - from;
    const monitorCpuSeconds = cpu.seconds(monitors);
    return {
      entryId,
      transport: f.transport,
      mediaSeconds,
      ingestSpeed: mediaSeconds / wall,
      monitorCpuSeconds,
      monitorPercent: (monitorCpuSeconds / wall) * 100,
      monitorPercentRealtime: (monitorCpuSeconds / mediaSeconds) * 100,
      transcoderPercent: (cpu.seconds(pids('transcoder')) / wall) * 100,
    };
  });
  const speeds: number[] = [];
  for (const e of entryIds)
    for (const s of (await channelStats(a, e)).statistics) if (s.speed !== null) speeds.push(s.speed);
  return {
    seconds: wall,
    machineCores,
    channels,
    slowestSpeed: speeds.length > 0 ? Math.min(...speeds) : null,
    processes,
  };
}

interface MonitorViewJson {
  monitor?: { running: boolean; keyFrameInterval: number | null };
}

/** Until each channel's content monitor runs and has measured its key frame interval (it decodes). */
async function waitMonitors(a: RunningAppliance, sessions: readonly LiveSession[]): Promise<void> {
  for (const s of sessions)
    await waitFor(
      `the content monitor of ${s.channel.entryId} decoding`,
      async () => {
        assertPublishing(s);
        const r = await a.api('GET', `/api/v1/channels/${s.channel.entryId}`);
        const m = ((await r.json()) as MonitorViewJson).monitor;
        return m?.running === true && m.keyFrameInterval !== null;
      },
      90_000,
      500,
    );
  await sleep(SETTLE_SECONDS * 1000);
}

/** Stops every encoder and deletes every channel; a failure to do so is reported, not thrown over the first. */
async function endAll(a: RunningAppliance, sessions: readonly LiveSession[]): Promise<void> {
  for (const s of sessions)
    await endLive(a, s).catch((err: Error) =>
      progress(`monitor: ending ${s.channel.entryId}: ${err.message}`),
    );
}

interface SrtChannelJson {
  srt?: { streamId: string; passphrase?: string; latencyMs: number };
}

/**
 * A new channel and a 720p30 encoder on it (as live-common's startLive), over RTMP or, with `srtPort`, over SRT
 * with the channel's stream id, passphrase and latency; the encoder writes its progress into `dir`.
 */
async function startFeed(
  a: RunningAppliance,
  name: string,
  dir: string,
  seconds: number,
  srtPort?: number,
): Promise<Feed> {
  const channel = await createChannel(a, name);
  const progressFile = path.join(dir, `${channel.entryId}.progress`);
  const options = { seconds, ...LIVE_SOURCE, extraOutputArgs: ['-progress', progressFile] };
  const spawnedAtWall = Date.now();
  const spawnedAt = performance.now();
  if (srtPort === undefined) {
    const publisher = publish(ffmpegUrl(channel.broadcastUrl, channel.streamName), options);
    return { channel, publisher, spawnedAtWall, spawnedAt, transport: 'rtmp', progressFile };
  }
  const srt = (channel as typeof channel & SrtChannelJson).srt;
  if (!srt) throw new Error('the channel has no SRT ingest (is --srt-port set?)');
  const publisher = publishSrt(srtPort, {
    ...options,
    streamId: srt.streamId,
    ...(srt.passphrase ? { passphrase: srt.passphrase } : {}),
    latencyMs: srt.latencyMs,
  });
  return { channel, publisher, spawnedAtWall, spawnedAt, transport: 'srt', progressFile };
}

async function windowOf(
  a: RunningAppliance,
  dir: string,
  channels: number,
  seconds: number,
): Promise<CpuWindow> {
  const feeds: Feed[] = [];
  try {
    for (let i = 1; i <= channels; i++)
      feeds.push(await startFeed(a, `bench monitor ${channels}.${i}`, dir, seconds + 120));
    await waitMonitors(a, feeds);
    progress(`monitor: ${channels} channel(s) live, measuring ${seconds} s`);
    const w = await measureWindow(a, feeds, seconds);
    for (const f of feeds) assertPublishing(f);
    progress(
      `monitor: ${channels} channel(s): monitor ${w.channels
        .map((c) => `${fmt(c.monitorPercentRealtime)}`)
        .join(', ')} % of a core per real-time channel (ingest at ${w.channels
        .map((c) => `${fmt(c.ingestSpeed)}x`)
        .join(', ')}), machine ${fmt(w.machineCores)} cores busy`,
    );
    return w;
  } finally {
    await endAll(a, feeds);
  }
}

/** Seconds from the encoder's spawn until the master and the first fragment of its first variant answer 200. */
async function secondsToPlayable(s: LiveSession): Promise<number> {
  const masterUrl = s.channel.playback.hls;
  for (;;) {
    if (performance.now() - s.spawnedAt > PLAYABLE_TIMEOUT_MS)
      throw new Error(`not playable after ${PLAYABLE_TIMEOUT_MS / 1000} s (${masterUrl})`);
    assertPublishing(s);
    const master = await fetch(masterUrl);
    const text = await master.text();
    const variant = master.status === 200 ? firstVariantUrl(text, masterUrl) : undefined;
    if (variant) {
      const media = await fetch(variant);
      const list = await media.text();
      const first = media.status === 200 ? parseMediaPlaylist(list, variant)[0] : undefined;
      if (first) {
        const fragment = await fetch(first.url);
        await fragment.arrayBuffer();
        if (fragment.status === 200) return (performance.now() - s.spawnedAt) / 1000;
      }
    }
    await sleep(PLAYABLE_POLL_MS);
  }
}

/** One RTMP publish, then one SRT publish of the same signal; the SRT one stays on for a CPU window. */
async function measureSrt(
  a: RunningAppliance,
  dir: string,
  srtPort: number,
  seconds: number,
): Promise<MonitorMeasured['srt']> {
  const viaRtmp = await startFeed(a, 'bench monitor rtmp', dir, 60);
  let rtmpSeconds: number;
  try {
    rtmpSeconds = await secondsToPlayable(viaRtmp);
  } catch (err) {
    await endAll(a, [viaRtmp]);
    throw err;
  }
  const rtmpEvents = await endLive(a, viaRtmp);
  progress(`monitor: first playable over RTMP ${fmt(rtmpSeconds)} s`);

  const viaSrt = await startFeed(a, 'bench monitor srt', dir, seconds + 120, srtPort);
  let srtSeconds: number;
  let window: CpuWindow;
  let srtEvents: ChannelEventJson[] = [];
  try {
    srtSeconds = await secondsToPlayable(viaSrt);
    progress(`monitor: first playable over SRT ${fmt(srtSeconds)} s; measuring the SRT caller ${seconds} s`);
    await waitMonitors(a, [viaSrt]);
    window = await measureWindow(a, [viaSrt], seconds);
    assertPublishing(viaSrt);
  } finally {
    srtEvents = await endLive(a, viaSrt).catch((err: Error) => {
      progress(`monitor: ending ${viaSrt.channel.entryId}: ${err.message}`);
      return [];
    });
  }
  if (!window.processes.some((p) => p.role === 'srtRelay')) throw new Error('no SRT relay ffmpeg was seen');
  const run = (f: Feed, secs: number, events: readonly ChannelEventJson[]): PlayableRun => {
    const accepted = eventDelay(events, 'PUBLISH_STARTED', f);
    return {
      transport: f.transport,
      entryId: f.channel.entryId,
      seconds: secs,
      ...(accepted !== undefined ? { publishStartedSeconds: accepted } : {}),
    };
  };
  return { rtmp: run(viaRtmp, rtmpSeconds, rtmpEvents), srt: run(viaSrt, srtSeconds, srtEvents), window };
}

export async function measureMonitor(): Promise<MonitorMeasured> {
  const seconds = positiveInteger('BENCH_MONITOR_SECONDS', '30');
  const counts = channelCounts();
  const srtPort = await freeUdpPort();
  progress(`monitor: starting the appliance (SRT on UDP ${srtPort})`);
  const a = await startAppliance({ ...applianceStartEnv(), extraArgs: ['--srt-port', String(srtPort)] });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecdn-bench-monitor-'));
  try {
    const windows: CpuWindow[] = [];
    for (const n of counts) windows.push(await windowOf(a, dir, n, seconds));
    const srt = await measureSrt(a, dir, srtPort, seconds);
    return {
      windowSeconds: seconds,
      source: `${LIVE_SOURCE.size}@${LIVE_SOURCE.rate}`,
      windows,
      srt,
    };
  } finally {
    fs.mkdirSync(RESULTS, { recursive: true });
    fs.writeFileSync(path.join(RESULTS, 'appliance-monitor.log'), a.stdout());
    await a.stop();
    fs.rmSync(a.dataDir, { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const roleSum = (w: CpuWindow, role: ProcRole): number =>
  w.processes.filter((p) => p.role === role).reduce((s, p) => s + p.percent, 0);

const range = (values: readonly number[], digits = 2): string => {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return lo.toFixed(digits) === hi.toFixed(digits)
    ? hi.toFixed(digits)
    : `${lo.toFixed(digits)}-${hi.toFixed(digits)}`;
};

export function monitorRows(m: MonitorMeasured): SectionResult {
  const rows: SectionRow[] = [];
  const target = `<= ${MONITOR_TARGET_PERCENT}`;
  for (const w of m.windows) {
    const n = w.channels.length;
    const realtime = max(w.channels.map((c) => c.monitorPercentRealtime));
    const label = n === 1 ? '1 channel' : `${n} channels, max`;
    rows.push(
      {
        key: `monitor_cpu_${n}ch`,
        figure: `Content monitor CPU per real-time channel, ${label}`,
        value: realtime,
        unit: '% core',
        target,
        verdict: check(realtime, '<=', MONITOR_TARGET_PERCENT),
        note: 0,
      },
      {
        key: `monitor_cpu_wall_${n}ch`,
        figure: `  per wall second; ingest ${range(w.channels.map((c) => c.ingestSpeed))}x real time`,
        value: max(w.channels.map((c) => c.monitorPercent)),
        unit: '% core',
        target: '',
        verdict: 'info',
        note: 0,
      },
      {
        key: `monitor_transcoder_cpu_${n}ch`,
        figure: `  transcoder ffmpeg per channel${n === 1 ? '' : ', median'}, for comparison`,
        value: median(w.channels.map((c) => c.transcoderPercent)),
        unit: '% core',
        target: '',
        verdict: 'info',
        digits: 0,
        note: 0,
      },
      {
        key: `monitor_machine_${n}ch`,
        figure:
          `  machine busy; slowest rendition ` +
          (w.slowestSpeed === null ? 'n/a' : `${fmt(w.slowestSpeed)}x`),
        value: w.machineCores,
        unit: 'cores',
        target: '',
        verdict: 'info',
        note: 0,
      },
    );
  }
  const { rtmp, srt, window } = m.srt;
  const caller = window.channels[0];
  const idle = m.windows[0] ? roleSum(m.windows[0], 'srtIngest') : undefined;
  const rtmpIngest = m.windows.find((w) => w.channels.length === 1);
  rows.push(
    {
      key: 'srt_first_playable',
      figure: 'First playable, SRT publish (1 run)',
      value: srt.seconds,
      unit: 's',
      target: '',
      verdict: 'info',
      note: 1,
    },
    {
      key: 'srt_first_playable_rtmp',
      figure: '  same signal over RTMP (1 run)',
      value: rtmp.seconds,
      unit: 's',
      target: '',
      verdict: 'info',
      note: 1,
    },
    {
      key: 'srt_first_playable_extra',
      figure: '  SRT minus RTMP',
      value: srt.seconds - rtmp.seconds,
      unit: 's',
      target: '',
      verdict: 'info',
      note: 1,
    },
    {
      key: 'srt_child_cpu',
      figure: 'SRT child CPU, 1 caller',
      value: roleSum(window, 'srtIngest'),
      unit: '% core',
      target: '',
      verdict: 'info',
      note: 2,
    },
  );
  if (idle !== undefined)
    rows.push({
      key: 'srt_child_cpu_idle',
      figure: '  SRT child CPU, no caller',
      value: idle,
      unit: '% core',
      target: '',
      verdict: 'info',
      note: 2,
    });
  rows.push({
    key: 'srt_relay_cpu',
    figure: 'SRT relay ffmpeg (-c copy) CPU per caller',
    value: roleSum(window, 'srtRelay'),
    unit: '% core',
    target: '',
    verdict: 'info',
    note: 2,
  });
  if (rtmpIngest)
    rows.push({
      key: 'srt_rtmp_ingest_cpu',
      figure: '  RTMP ingest child: 1 SRT / 1 RTMP channel',
      value: roleSum(window, 'rtmpIngest'),
      display: `${fmt(roleSum(window, 'rtmpIngest'))} / ${fmt(roleSum(rtmpIngest, 'rtmpIngest'))}`,
      unit: '% core',
      target: '',
      verdict: 'info',
      note: 2,
    });
  if (caller)
    rows.push({
      key: 'srt_monitor_cpu',
      figure: '  content monitor of the SRT channel, per real-time channel',
      value: caller.monitorPercentRealtime,
      unit: '% core',
      target,
      verdict: check(caller.monitorPercentRealtime, '<=', MONITOR_TARGET_PERCENT),
      note: 2,
    });
  const accepted = (r: PlayableRun): string =>
    r.publishStartedSeconds === undefined ? 'n/a' : `${fmt(r.publishStartedSeconds)} s`;
  const notes = [
    `${m.source} H.264 veryfast/zerolatency GOP 2 s + AAC per channel from real ffmpeg encoders on this ` +
      `machine, default ladder. Once every channel's content monitor decodes (its key frame interval known) ` +
      `and ${SETTLE_SECONDS} s more: utime + stime of each process under the appliance (/proc/<pid>/stat, every ` +
      `${SAMPLE_MS / 1000} s for ${m.windowSeconds} s). Monitor = the ffmpeg whose command line has the ` +
      `detectors (nice 10); transcoder = the channel's other ffmpeg. "per real-time channel" = monitor CPU s / ` +
      `media s its encoder produced in the window (ffmpeg -progress), i.e. the cost of a channel running at ` +
      `real time even when the machine could not keep it there (this assumes the monitor kept up with the ` +
      `ingest: the figure should stay flat across channel counts); "per wall ` +
      `second" = CPU s / wall s. Target: issue #15, under ${MONITOR_TARGET_PERCENT}% of one core per channel. ` +
      `"machine busy" = every process (encoders, other users) from /proc/stat.`,
    `t0 = spawn of the publishing ffmpeg (same signal and options, same appliance, a new channel each), end = ` +
      `master and the first fragment of the first variant 200, polled every ${PLAYABLE_POLL_MS} ms. One run ` +
      `each: the difference is indicative only. SRT: caller mode with the channel's stream id, passphrase and ` +
      `latency. Publish accepted (PUBLISH_STARTED) ${accepted(srt)} after spawn over SRT, ${accepted(rtmp)} ` +
      `over RTMP.`,
    `One SRT caller (${m.source}) on one channel, after its first playable: CPU over ${m.windowSeconds} s as ` +
      `above. SRT child = the node process running srt-child (libsrt through koffi); relay = the ffmpeg it ` +
      `spawns for the caller (MPEG-TS in, FLV out to the loopback RTMP ingest). "no caller" = the SRT child ` +
      `during the first RTMP window.`,
  ];
  return { rows, notes, details: m };
}
