/**
 * A publishing point's archive per track, as the control API shows it: ranges in UTC and who fed each (the primary
 * or backup ingest, or the slate while the encoder was away).
 */
import type { TrackRangeView } from '../contract/contract.js';
import type { PublishingPointRecord, SegmentIndex, TrackRecord } from './segment-index.js';

/** The index's `server_index` (fragment-writer.ts `FeedIndex`) as `/archive` names it. */
const INGEST_NAMES: Record<number, TrackRangeView['ingest']> = { 0: 'primary', 1: 'backup', 2: 'slate' };

export function trackRanges(
  index: SegmentIndex,
  pp: PublishingPointRecord,
  tracks: readonly TrackRecord[] = index.tracks(pp.name),
): Array<{ trackName: string; kind: string; bitrate: number | null; ranges: TrackRangeView[] }> {
  const iso = (t: TrackRecord, v: number) => new Date(pp.epoch + (v / t.timescale) * 1000).toISOString();
  return tracks.map((t) => ({
    trackName: t.trackName,
    kind: t.kind,
    bitrate: t.bitrate,
    ranges: index.rangesByIngest(t.id, Math.round(t.timescale / 10)).map((g) => ({
      start: iso(t, g.start),
      end: iso(t, g.end),
      ingest: INGEST_NAMES[g.serverIndex] ?? ('backup' as const),
    })),
  }));
}
