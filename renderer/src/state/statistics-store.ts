/**
 * The statistics samples the dashboard has seen, per channel: the `statistics` events as they arrive, seeded
 * with a channel's history (channels.statistics) when its page opens. Read with useSyncExternalStore.
 */
import type { StatisticsSample } from '@contract';

/** Ten minutes at one sample every two seconds. */
const CAPACITY = 300;
const EMPTY: readonly StatisticsSample[] = Object.freeze([]);

export class StatisticsStore {
  private readonly series = new Map<string, readonly StatisticsSample[]>();
  private readonly listeners = new Set<() => void>();

  add(samples: StatisticsSample[]): void {
    if (samples.length === 0) return;
    for (const s of samples) this.merge(s.entryId, [s]);
    this.notify();
  }

  /** Merges a history (older samples) under what the events brought. */
  seed(entryId: string, samples: StatisticsSample[]): void {
    this.merge(entryId, samples);
    this.notify();
  }

  samples(entryId: string): readonly StatisticsSample[] {
    return this.series.get(entryId) ?? EMPTY;
  }

  latest(entryId: string): StatisticsSample | undefined {
    const s = this.series.get(entryId);
    return s?.[s.length - 1];
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  private merge(entryId: string, incoming: StatisticsSample[]): void {
    const byTime = new Map<string, StatisticsSample>();
    for (const s of this.series.get(entryId) ?? []) byTime.set(s.at, s);
    for (const s of incoming) byTime.set(s.at, s);
    const merged = [...byTime.values()].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
    this.series.set(entryId, merged.slice(-CAPACITY));
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }
}

/**
 * The bitrate of a rendition in a sample, bits per second: what ffmpeg reported, else worked out from the
 * bytes it wrote since the previous sample.
 */
export function renditionBitrate(
  sample: StatisticsSample,
  streamName: string,
  previous: StatisticsSample | undefined,
): number | null {
  const r = sample.renditions.find((x) => x.streamName === streamName);
  if (!r) return null;
  if (r.bitrate !== null && Number.isFinite(r.bitrate)) return r.bitrate;
  const p = previous?.renditions.find((x) => x.streamName === streamName);
  if (!previous || !p || r.bytes < p.bytes) return null;
  const seconds = (Date.parse(sample.at) - Date.parse(previous.at)) / 1000;
  return seconds > 0 ? ((r.bytes - p.bytes) * 8) / seconds : null;
}

/** The sum of every rendition's bitrate in a sample, bits per second (null when none is known). */
export function totalBitrate(
  sample: StatisticsSample,
  previous: StatisticsSample | undefined,
): number | null {
  let total: number | null = null;
  for (const r of sample.renditions) {
    const b = renditionBitrate(sample, r.streamName, previous);
    if (b !== null) total = (total ?? 0) + b;
  }
  return total;
}

/** How a rendition is named to people: `source`, `720p`, `360p`, or the encode's own name. */
export function renditionLabel(rendition: string, kind: 'video' | 'audio' = 'video'): string {
  const name = /^\d+$/.test(rendition) ? `${rendition}p` : rendition;
  return kind === 'audio' ? `audio (${name})` : name;
}

/**
 * A transcoder's speed as staff should read it: above real time it is catching up after a pause (normal, not a
 * fault); about 1× is real time; below 0.9× it falls behind (the TRANSCODER_SLOW alert's threshold).
 */
export function speedState(speed: number | null): 'unknown' | 'catching-up' | 'real-time' | 'slow' {
  if (speed === null || !Number.isFinite(speed)) return 'unknown';
  if (speed < 0.9) return 'slow';
  return speed > 1.1 ? 'catching-up' : 'real-time';
}

/** The output renditions seen in the samples (by track name) with their labels, in the order the core sends them. */
export function outputNames(
  samples: readonly StatisticsSample[],
): Array<{ trackName: string; label: string }> {
  const seen = new Map<string, string>();
  for (const s of samples)
    for (const o of s.outputs ?? [])
      if (!seen.has(o.trackName)) seen.set(o.trackName, renditionLabel(o.rendition, o.kind));
  return [...seen].map(([trackName, label]) => ({ trackName, label }));
}
