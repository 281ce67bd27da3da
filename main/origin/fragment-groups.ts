/**
 * `hls.minimum_fragment_length` / `mpd.minimum_fragment_length` (Unified Streaming): fragments are combined into
 * segments of at least that length for one output format. A group is the set of fragments that start in one
 * bucket of the timeline ([b·L, (b+1)·L) in media time), so membership never changes as the window slides and
 * the server can rebuild any group from its URL (`g<L ms>-<first fragment time>.m4s`, or `g<L ms>-n<b>.m4s`).
 */
import type { FragmentView, PresentationView, TrackView } from './manifest-model.js';
import { numberOption, type PublishingPointOptions } from './publishing-point-options.js';
import type { FragmentRecord, SegmentIndex, TrackRecord } from './segment-index.js';

/** The minimum segment length (ms) a format asks for, or 0 when fragments are served as they are. */
export function minimumLength(
  options: PublishingPointOptions,
  format: 'hls' | 'mpd',
  fragmentDuration: number,
): number {
  const seconds = numberOption(options, `${format}.minimum_fragment_length`, 0);
  return seconds > fragmentDuration ? Math.round(seconds * 1000) : 0;
}

export function bucketOf(mediaTime: number, timescale: number, lengthMs: number): number {
  return Math.floor((mediaTime * 1000) / (lengthMs * timescale));
}

/** [start, end) of bucket `b` in media time units. */
export function bucketRange(b: number, timescale: number, lengthMs: number): { start: number; end: number } {
  return {
    start: Math.ceil((b * lengthMs * timescale) / 1000),
    end: Math.ceil(((b + 1) * lengthMs * timescale) / 1000),
  };
}

/** The fragments of bucket `b` of a track, oldest first. */
export function groupMembers(
  index: SegmentIndex,
  track: TrackRecord,
  lengthMs: number,
  b: number,
): FragmentRecord[] {
  const { start, end } = bucketRange(b, track.timescale, lengthMs);
  return index.fragmentsStartingIn(track.id, start, end, 10_000);
}

/**
 * The view with each track's fragments combined into groups. The first group is completed from the index
 * (the window may start inside it); while live, a last group that has not reached its bucket's end is held back.
 */
export function groupView(
  index: SegmentIndex,
  ppName: string,
  view: PresentationView,
  lengthMs: number,
): PresentationView {
  const tracks: TrackView[] = [];
  for (const t of view.tracks) {
    const record = index.getTrack(ppName, t.trackName);
    const head = t.fragments[0];
    if (!record || !head) continue;
    let fragments: FragmentView[] = t.fragments;
    const firstBucket = bucketOf(head.mediaTime, t.timescale, lengthMs);
    const before = groupMembers(index, record, lengthMs, firstBucket).filter(
      (f) => f.mediaTime < head.mediaTime,
    );
    if (before.length > 0) fragments = [...before.map(toView), ...fragments];
    const groups: FragmentView[] = [];
    for (const f of fragments) {
      const b = bucketOf(f.mediaTime, t.timescale, lengthMs);
      const last = groups[groups.length - 1];
      if (last && last.sequence === b) last.duration = f.mediaTime + f.duration - last.mediaTime;
      else
        groups.push({
          sequence: b,
          mediaTime: f.mediaTime,
          duration: f.duration,
          utc: f.utc,
          discontinuity: f.discontinuity,
        });
    }
    const tail = groups[groups.length - 1];
    if (view.live && !view.vod && tail && record.state !== 'stopped') {
      const { end } = bucketRange(tail.sequence, t.timescale, lengthMs);
      // Half a frame of slack at 30 fps: a group ends where its bucket ends, give or take rounding.
      if (tail.mediaTime + tail.duration < end - t.timescale / 60) groups.pop();
    }
    if (groups.length > 0) tracks.push({ ...t, fragments: groups });
  }
  return { ...view, tracks, segmentPrefix: `g${lengthMs}-` };
}

function toView(f: FragmentRecord): FragmentView {
  return {
    sequence: f.sequence,
    mediaTime: f.mediaTime,
    duration: f.duration,
    utc: f.utc,
    discontinuity: f.discontinuity,
  };
}
