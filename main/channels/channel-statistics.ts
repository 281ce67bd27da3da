/**
 * Statistics over time, per channel: every few seconds one sample (viewers, bytes served, and per rendition
 * the transcoder's fps, speed, bitrate, dropped frames and bytes written), kept in memory for the last
 * `HISTORY_SECONDS` so a dashboard that opens a channel can draw its bitrate right away.
 */
import type { StatisticsSample } from '../contract/contract.js';

export const SAMPLE_INTERVAL_MS = 2000;
export const HISTORY_SECONDS = 600;

export interface StatisticsSources {
  entryIds(): string[];
  viewers(entryId: string): { viewers: number; bytesServed: number };
  renditions(entryId: string): StatisticsSample['renditions'];
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
      const { viewers, bytesServed } = this.sources.viewers(entryId);
      const series = this.history.get(entryId);
      // Idle channels are sampled once (the zeroes after activity), then not until something happens.
      const idle = renditions.length === 0 && viewers === 0;
      const last = series?.[series.length - 1];
      if (idle && (!last || (last.renditions.length === 0 && last.viewers === 0))) continue;
      const s: StatisticsSample = { at, entryId, viewers, bytesServed, renditions };
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
