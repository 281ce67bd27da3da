/**
 * The first figures of the bench: transcode speed of the default ladder, and (on one appliance) first playable,
 * live-edge latency and the memory of the core, the ingest child and the transcoder while 720p streams run.
 */
import fs from 'node:fs';
import path from 'node:path';
import { startAppliance, type RunningAppliance } from '../test/helpers/appliance.js';
import { DEFAULT_PP_OPTIONS } from '../main/origin/publishing-point-options.js';
import { measureFirstPlayable, type FirstPlayableRun } from './first-playable.js';
import { LIVE_SOURCE } from './live-common.js';
import { EDGE_TRACK, measureLiveEdge, type LiveEdgeResult } from './live-edge.js';
import { MemorySampler, type MemRole, type RolePeak } from './lib/proc-mem.js';
import { fmt, progress, type SectionResult, type SectionRow } from './lib/section.js';
import { max, median, min } from './lib/stats.js';
import { check, type Verdict } from './lib/table.js';
import { measureTranscodeSpeed, type TranscodeSpeedResult } from './transcode-speed.js';

export const RESULTS = path.join(import.meta.dirname, 'results');
export const FRAGMENT = Number(DEFAULT_PP_OPTIONS.fragment_duration);
const FIRST_PLAYABLE_RUNS = 3;
/** Seconds a fragment may seem to end after "now" (PDT has ms precision; same clock on both sides). */
const EDGE_TOLERANCE = 0.1;
const TARGET = {
  firstPlayable: 2 * FRAGMENT + 2,
  liveEdge: FRAGMENT + 1,
  transcodeSpeed: 1.5,
};

export interface LiveMeasured {
  firstPlayable: FirstPlayableRun[];
  liveEdge: LiveEdgeResult;
  memory: Record<MemRole, RolePeak> & { samples: number; intervalMs: number };
}

const mb = (kb: number): number => kb / 1024;

export async function measureTranscode(): Promise<TranscodeSpeedResult> {
  progress('transcode speed: generating a 30 s 720p30 file, then running the default ladder on it');
  const transcode = await measureTranscodeSpeed();
  progress(`transcode speed: ${fmt(transcode.speed)}x`);
  return transcode;
}

export function transcodeRows(t: TranscodeSpeedResult): SectionResult {
  const rows: SectionRow[] = [
    {
      key: 'transcode_speed',
      figure: 'Transcode speed, default ladder, 720p30 file',
      value: t.speed,
      unit: 'x',
      target: `>= ${TARGET.transcodeSpeed}`,
      verdict: check(t.speed, '>=', TARGET.transcodeSpeed),
      note: 0,
    },
  ];
  if (t.ffmpegSpeed !== null)
    rows.push({
      key: 'transcode_speed_ffmpeg',
      figure: '  cross-check: ffmpeg -progress speed=',
      value: t.ffmpegSpeed,
      unit: 'x',
      target: '',
      verdict: 'info',
    });
  const notes = [
    `planTranscode(default profile, 1280x720@30 h264+aac) -> tracks ${t.tracks
      .map((x) => x.trackName)
      .join(', ')}; run on a pre-generated ${t.source.seconds} s file, no -re, output pipes ` +
      `drained; speed = media s / wall s (${fmt(t.source.seconds)} / ` +
      `${fmt(t.wallSeconds)}), ffmpeg's own final speed= as a cross-check.`,
  ];
  return { rows, notes, details: t };
}

async function measureOn(a: RunningAppliance): Promise<LiveMeasured> {
  const pid = a.proc.pid;
  if (pid === undefined) throw new Error('the appliance has no pid');
  const sampler = new MemorySampler(pid, 250);
  sampler.start();
  try {
    const firstPlayable: FirstPlayableRun[] = [];
    for (let i = 1; i <= FIRST_PLAYABLE_RUNS; i++) {
      const run = await measureFirstPlayable(a, i);
      progress(`first playable run ${i}: ${fmt(run.seconds)} s`);
      firstPlayable.push(run);
    }
    const liveEdge = await measureLiveEdge(a);
    progress(`live edge: median ${fmt(liveEdge.medianByTrack[EDGE_TRACK] ?? NaN)} s`);
    sampler.stop();
    if (sampler.peaks.transcoder.pids.length === 0) throw new Error('no transcoding ffmpeg child was seen');
    if (sampler.peaks.ingest.pids.length === 0) throw new Error('no ingest child was seen');
    return {
      firstPlayable,
      liveEdge,
      memory: { ...sampler.peaks, samples: sampler.samples, intervalMs: 250 },
    };
  } finally {
    sampler.stop();
  }
}

export async function measureLive(): Promise<LiveMeasured> {
  progress('live: starting the appliance');
  const a = await startAppliance();
  try {
    return await measureOn(a);
  } finally {
    fs.mkdirSync(RESULTS, { recursive: true });
    fs.writeFileSync(path.join(RESULTS, 'appliance-latest.log'), a.stdout());
    await a.stop();
    fs.rmSync(a.dataDir, { recursive: true, force: true });
  }
}

export function liveRows(m: LiveMeasured): SectionResult {
  const fp = m.firstPlayable.map((r) => r.seconds);
  const accepted = m.firstPlayable.map((r) => r.publishStartedSeconds).filter((x) => x !== undefined);
  const transcoding = m.firstPlayable.map((r) => r.transcodeStartedSeconds).filter((x) => x !== undefined);
  const edge = m.liveEdge.samples.map((s) => s.latency);
  const transcoded = Object.entries(m.liveEdge.medianByTrack).filter(([t]) => t !== EDGE_TRACK);
  const slowest = transcoded.sort((x, y) => y[1] - x[1])[0];
  const fpTarget = `<= ${TARGET.firstPlayable}`;
  const edgeTarget = `<= ${TARGET.liveEdge}`;
  // The newest fragment cannot end after "now": a negative age means the PDT is not a wall-clock time.
  const edgeValid = min(edge) >= -EDGE_TOLERANCE;
  const edgeVerdict = (v: number): Verdict => (edgeValid ? check(v, '<=', TARGET.liveEdge) : 'INVALID');
  const rows: SectionRow[] = [
    {
      key: 'first_playable_median',
      figure: `First playable, median of ${fp.length}`,
      value: median(fp),
      unit: 's',
      target: fpTarget,
      verdict: check(median(fp), '<=', TARGET.firstPlayable),
      note: 0,
    },
    {
      key: 'first_playable_max',
      figure: `First playable, max of ${fp.length}`,
      value: max(fp),
      unit: 's',
      target: fpTarget,
      verdict: check(max(fp), '<=', TARGET.firstPlayable),
      note: 0,
    },
  ];
  if (accepted.length === fp.length)
    rows.push({
      key: 'first_playable_publish_accepted_median',
      figure: '  of which: spawn -> publish accepted, median',
      value: median(accepted),
      unit: 's',
      target: '',
      verdict: 'info',
    });
  if (transcoding.length === fp.length)
    rows.push({
      key: 'first_playable_transcoder_spawned_median',
      figure: '  of which: spawn -> transcoder spawned, median',
      value: median(transcoding),
      unit: 's',
      target: '',
      verdict: 'info',
    });
  rows.push(
    {
      key: 'live_edge_median',
      figure: `Live-edge latency, ${EDGE_TRACK}, median`,
      value: median(edge),
      unit: 's',
      target: edgeTarget,
      verdict: edgeVerdict(median(edge)),
      note: 1,
    },
    {
      key: 'live_edge_max',
      figure: `Live-edge latency, ${EDGE_TRACK}, max`,
      value: max(edge),
      unit: 's',
      target: edgeTarget,
      verdict: edgeVerdict(max(edge)),
      note: 1,
    },
  );
  if (slowest)
    rows.push({
      key: 'live_edge_transcoded_median',
      figure: `  ${slowest[0]} (slowest rendition), median`,
      value: slowest[1],
      unit: 's',
      target: '',
      verdict: edgeValid ? 'info' : 'INVALID',
      note: 1,
    });
  const memRow = (key: string, figure: string, role: MemRole): SectionRow => ({
    key,
    figure,
    value: mb(m.memory[role].peakHwmKb),
    unit: 'MB',
    target: '',
    verdict: 'info',
    digits: 1,
    note: 2,
  });
  rows.push(
    memRow('mem_core_peak', 'Peak RSS, core (appliance node process)', 'core'),
    memRow('mem_transcoder_peak', 'Peak RSS, transcoding ffmpeg', 'transcoder'),
    memRow('mem_ingest_peak', 'Peak RSS, ingest child (node-media-server)', 'ingest'),
  );

  const src = `${LIVE_SOURCE.size}@${LIVE_SOURCE.rate} H.264 veryfast/zerolatency GOP 2 s + AAC`;
  const fd = FRAGMENT;
  const notes = [
    `t0 = the moment the bench spawns the publishing ffmpeg (${src}), so the figure also holds ffmpeg/x264 ` +
      `start-up and the RTMP handshake before the first packet reaches the appliance; end = master 200 and ` +
      `the first fragment of the first listed variant 200, polled every 50 ms. New channel per run; runs: ` +
      `${fp.map((x) => fmt(x)).join(', ')} s. Target = 2 fragments (2 x ${fd} s) + 2 s. "of which" rows come ` +
      `from the appliance's PUBLISH_STARTED / TRANSCODE_STARTED channel events (same clock).`,
    `Wall clock minus the newest fragment's EXT-X-PROGRAM-DATE-TIME + EXTINF, ${edge.length} polls 1 s apart ` +
      `during a ${LIVE_SOURCE.size}@${LIVE_SOURCE.rate} publish. PDT is the encoder's RTMP clock mapped ` +
      `onto the appliance's clock at ingest: this is how long after reaching the appliance the media is listed ` +
      `(glass-to-glass is its own figure). ` +
      `Target = 1 fragment (${fd} s) + 1 s. Encoder and ladder share the machine's CPUs.` +
      (edgeValid
        ? ''
        : ` INVALID: the newest fragment ends up to ${fmt(-min(edge))} s AFTER the wall clock, so ` +
          `EXT-X-PROGRAM-DATE-TIME is not anchored to the ingest clock and the figure is not a latency.`),
    `VmHWM (the kernel's peak RSS) from /proc/<pid>/status, processes sampled every 250 ms over all live runs ` +
      `(children of the appliance pid: comm ffmpeg = transcoder, node = ingest; both node processes run TypeScript ` +
      `through the tsx loader, as \`npm run serve\` does). MB = 2^20 bytes. No target.`,
  ];
  return { rows, notes, details: m };
}
