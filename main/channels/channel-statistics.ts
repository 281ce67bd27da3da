/**
 * Statistics over time, per channel: every few seconds one sample (viewers now, their peak and the event's
 * distinct viewers, bytes served, the edges in front; what the encoder sends; one row per output rendition with
 * the bitrate it is written at; and per transcoder its fps, speed, bitrate, dropped frames and bytes written),
 * kept in memory for the last `HISTORY_SECONDS` so a dashboard that opens a channel can draw its bitrate right away.
 */
import type { StatisticsInput, StatisticsOutput, StatisticsSample } from '../contract/contract.js';

export const SAMPLE_INTERVAL_MS = 2000;
export const HISTORY_SECONDS = 600;
/** Output bitrates are measured over about this much of each track's newest fragments. */
export const OUTPUT_WINDOW_SECONDS = 10;

type ViewerTotals = Pick<StatisticsSample, 'viewers' | 'bytesServed'> &
  Partial<Pick<StatisticsSample, 'peakViewers' | 'peakAt' | 'uniqueViewers' | 'viewersSince' | 'edges'>>;

export interface StatisticsSources {
  entryIds(): string[];
  viewers(entryId: string): ViewerTotals;
  renditions(entryId: string): StatisticsSample['renditions'];
  /** What the encoder sends now; absent: the samples carry no input. */
  input?(entryId: string): StatisticsInput | null;
  /** The output renditions being written; absent: the samples carry no outputs. */
  outputs?(entryId: string): StatisticsOutput[];
}

export class ChannelStatistics {
  private readonly history = new Map<string, StatisticsSample[]>();
  private readonly capacity = Math.ceil((HISTORY_SECONDS * 1000) / SAMPLE_INTERVAL_MS);

  constructor(private readonly sources: StatisticsSources) {}

  /** Takes one sample of every channel with an encoder or viewers; returns them. */
  sample(now = Date.now()): StatisticsSample[] {
    const at = new Date(now).toISOString();
    const out: StatisticsSample[] = [];
    const known = new Set(this.sources.entryIds());
    for (const entryId of this.history.keys()) if (!known.has(entryId)) this.history.delete(entryId);
    for (const entryId of known) {
      const renditions = this.sources.renditions(entryId);
      const totals = this.sources.viewers(entryId);
      const series = this.history.get(entryId);
      // Idle channels are sampled once (the zeroes after activity), then not until something happens.
      const idle = renditions.length === 0 && totals.viewers === 0;
      const last = series?.[series.length - 1];
      if (idle && (!last || (last.renditions.length === 0 && last.viewers === 0))) continue;
      const s: StatisticsSample = { ...totals, at, entryId, renditions };
      if (this.sources.input) s.input = renditions.length > 0 ? this.sources.input(entryId) : null;
      if (this.sources.outputs) s.outputs = renditions.length > 0 ? this.sources.outputs(entryId) : [];
      this.push(entryId, s);
      out.push(s);
    }
    return out;
  }

  samples(entryId: string): StatisticsSample[] {
    return [...(this.history.get(entryId) ?? [])];
  }

  private push(entryId: string, s: StatisticsSample): void {
    let series = this.history.get(entryId);
    if (!series) this.history.set(entryId, (series = []));
    series.push(s);
    if (series.length > this.capacity) series.splice(0, series.length - this.capacity);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Sources: the small interfaces they read, declared here.

/** A track of the segment index, as the outputs read it. */
export interface OutputTrack {
  id: number;
  trackName: string;
  kind: 'video' | 'audio';
  timescale: number;
  bitrate: number | null;
  width: number | null;
  height: number | null;
  state: string;
}

export interface OutputIndex {
  tracks(pp: string): OutputTrack[];
  lastFragment(trackId: number): { mediaTime: number; duration: number } | undefined;
  fragmentsEndingAfter(trackId: number, fromTime: number): Array<{ duration: number; size: number }>;
}

const WRITING = new Set(['starting', 'started']);

/** The conversion profile's encode a track comes from: `video_720` → `720`, `audio_source_2` → `source_2`. */
export function renditionOfTrack(trackName: string): string {
  return trackName.replace(/^(video|audio)_/, '');
}

/**
 * One row per track being written: video renditions first (tallest first), then audio; the bitrate from the sizes
 * and durations of its newest fragments (about {@link OUTPUT_WINDOW_SECONDS}).
 */
export function outputsFromIndex(index: OutputIndex, pp: string): StatisticsOutput[] {
  const rows: StatisticsOutput[] = [];
  for (const t of index.tracks(pp)) {
    if (!WRITING.has(t.state)) continue;
    const last = index.lastFragment(t.id);
    let bitrate: number | null = null;
    if (last) {
      const end = last.mediaTime + last.duration;
      const fragments = index.fragmentsEndingAfter(t.id, end - OUTPUT_WINDOW_SECONDS * t.timescale);
      const seconds = fragments.reduce((n, f) => n + f.duration, 0) / t.timescale;
      const bytes = fragments.reduce((n, f) => n + f.size, 0);
      if (seconds > 0 && fragments.length >= 2) bitrate = Math.round((bytes * 8) / seconds);
    }
    rows.push({
      trackName: t.trackName,
      kind: t.kind,
      rendition: renditionOfTrack(t.trackName),
      width: t.width,
      height: t.height,
      bitrate,
      declaredBitrate: t.bitrate,
    });
  }
  // The source first among renditions of its height (a 360p ingest: source, then the 360p rendition).
  const source = (r: StatisticsOutput) => (r.rendition.startsWith('source') ? 0 : 1);
  return rows.sort(
    (a, b) =>
      (a.kind === b.kind ? 0 : a.kind === 'video' ? -1 : 1) ||
      (b.height ?? 0) - (a.height ?? 0) ||
      source(a) - source(b) ||
      a.trackName.localeCompare(b.trackName),
  );
}

/** An ingest session, as the input reads it. */
export interface InputSession {
  request: { serverIndex: number };
  metadata: { width?: number; height?: number; framerate?: number };
  startedAt: number;
  feeding: boolean;
  health?: { fps: number | null; bitrate: number } | undefined;
}

/** What the ingest feeding the origin sends: measured fps and bitrate, the encoder's frame size, its start. */
export function inputOf(
  sessions: readonly InputSession[],
  sourceTrack?: { width: number | null; height: number | null },
): StatisticsInput | null {
  const s = sessions.find((x) => x.feeding) ?? sessions[0];
  if (!s) return null;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : null);
  return {
    role: s.request.serverIndex === 0 ? 'primary' : 'backup',
    width: num(s.metadata.width) ?? sourceTrack?.width ?? null,
    height: num(s.metadata.height) ?? sourceTrack?.height ?? null,
    fps: num(s.health?.fps) ?? num(s.metadata.framerate),
    bitrate: s.health ? s.health.bitrate : null,
    startedAt: new Date(s.startedAt).toISOString(),
  };
}
