/**
 * `hls.minimum_fragment_length` / `mpd.minimum_fragment_length` (Unified Streaming): fragments are combined into
 * segments of at least that length for one output format. With `hls.low_latency` the transcoder writes
 * part-sized fragments, and both formats combine them into segments of `fragment_duration` the same way.
 *
 * A group starts with the first fragment that starts with a key frame in one bucket of the timeline
 * ([b·L, (b+1)·L) in media time) and runs up to the next group's start: every fragment belongs to the group of
 * the latest key frame at or before it. When every fragment starts with a key frame (without low latency),
 * that is simply the set of fragments that start in one bucket. Membership never changes as the window slides,
 * so the server can rebuild any group from its URL (`g<L ms>-<first fragment time>.m4s`, or `g<L ms>-n<b>.m4s`),
 * and a group always starts with a key frame, however the encoder's key frames fall against the buckets.
 */
import type { FragmentView, PresentationView, TrackView } from './manifest-model.js';
import { isIndependentFile } from './origin-storage.js';
import { fragmentView } from './presentation.js';
import { resolvePpOptions, type PublishingPointOptions } from './publishing-point-options.js';
import type { FragmentRecord, SegmentIndex, TrackRecord } from './segment-index.js';

/** The minimum segment length (ms) a format asks for, or 0 when fragments are served as they are. */
export function minimumLength(
  options: PublishingPointOptions,
  format: 'hls' | 'mpd',
  fragmentDuration: number,
): number {
  const o = resolvePpOptions(options);
  const seconds = format === 'hls' ? o.hlsMinimumFragmentLength : o.mpdMinimumFragmentLength;
  return seconds > fragmentDuration ? Math.round(seconds * 1000) : 0;
}

/**
 * The segment length (ms) a format combines fragments to, or 0 when it serves them as they are: its minimum
 * fragment length, and with low latency (fragments are parts) at least `fragment_duration`.
 */
export function groupLength(options: PublishingPointOptions, format: 'hls' | 'mpd'): number {
  const o = resolvePpOptions(options);
  const min = minimumLength(options, format, o.fragmentDuration);
  return o.hlsLowLatency ? Math.max(min, Math.round(o.fragmentDuration * 1000)) : min;
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

const independent = (f: FragmentRecord): boolean => isIndependentFile(f.file);
/** Rows read at a time while looking for the end of a group that runs past its bucket. */
const BATCH = 64;

/**
 * Group `b` of a track, oldest first (empty when no fragment with a key frame starts in that bucket), and
 * whether it is closed: the next group has started, so no fragment will join it any more.
 */
export function groupMembers(
  index: SegmentIndex,
  track: TrackRecord,
  lengthMs: number,
  b: number,
): { members: FragmentRecord[]; closed: boolean } {
  const { start, end } = bucketRange(b, track.timescale, lengthMs);
  const inBucket = index.fragmentsStartingIn(track.id, start, end, 10_000);
  const first = inBucket.findIndex(independent);
  if (first === -1) return { members: [], closed: false };
  const members: FragmentRecord[] = [];
  for (const f of inBucket.slice(first)) if (joins(members[members.length - 1], f)) members.push(f);
  // A GOP that runs past its bucket's end keeps its parts up to the next key frame.
  for (let from = end; ;) {
    const next = index.fragmentsStartingIn(track.id, from, Number.MAX_SAFE_INTEGER, BATCH);
    for (const f of next) {
      if (independent(f)) return { members, closed: true };
      if (joins(members[members.length - 1], f)) members.push(f);
    }
    const last = next[next.length - 1];
    if (!last || next.length < BATCH) return { members, closed: false };
    from = last.mediaTime + 1;
  }
}

/**
 * Whether `f` joins the group whose last member is `last`: a fragment with a key frame in the same bucket does
 * (the caller checks the bucket); one without only when it follows `last` directly, so a part whose key frame
 * was deleted (a purged range) is left out instead of being appended to an earlier GOP.
 */
function joins(last: { sequence: number } | undefined, f: FragmentRecord | FragmentView): boolean {
  if (!last) return true;
  const key = 'file' in f ? independent(f) : f.independent !== false;
  return key || f.sequence === last.sequence + 1;
}

export interface GroupViewOptions {
  /**
   * Fragments are low-latency parts: a group is complete only once the next one has started (its GOP may run
   * past its bucket's end), each group lists its parts, and the parts of the group in progress are the track's
   * `partial`.
   */
  lowLatency?: boolean;
}

/**
 * The view with each track's fragments combined into groups. The first group is completed from the index
 * (the window may start inside it); while live, a last group that is not complete is held back: without low
 * latency, one that has not reached its bucket's end.
 */
export function groupView(
  index: SegmentIndex,
  ppName: string,
  view: PresentationView,
  lengthMs: number,
  opts: GroupViewOptions = {},
): PresentationView {
  const tracks: TrackView[] = [];
  for (const t of view.tracks) {
    const record = index.getTrack(ppName, t.trackName);
    const head = t.fragments[0];
    if (!record || !head) continue;
    let fragments: FragmentView[] = t.fragments;
    const before = groupHead(index, record, lengthMs, head);
    if (before.length > 0) fragments = [...before.map(fragmentView), ...fragments];
    const groups: FragmentView[] = [];
    /** The last fragment put in a group. */
    let previous: FragmentView | undefined;
    for (const f of fragments) {
      const b = bucketOf(f.mediaTime, t.timescale, lengthMs);
      const last = groups[groups.length - 1];
      if (last && (last.sequence === b || f.independent === false)) {
        // A part whose key frame is no longer indexed cannot be played; it is left out.
        if (!joins(previous, f)) continue;
        last.duration = f.mediaTime + f.duration - last.mediaTime;
        if (last.size !== undefined) last.size += f.size ?? 0;
        last.parts?.push(f);
        previous = f;
      } else if (f.independent !== false) {
        previous = f;
        groups.push({
          sequence: b,
          mediaTime: f.mediaTime,
          duration: f.duration,
          utc: f.utc,
          discontinuity: f.discontinuity,
          ...(f.init !== undefined ? { init: f.init, runStart: f.runStart } : {}),
          ...(opts.lowLatency ? { size: f.size, parts: [f] } : {}),
        });
      }
      // else: a part whose key frame is no longer indexed cannot be played; it is left out.
    }
    let partial: FragmentView[] | undefined;
    const tail = groups[groups.length - 1];
    const growing = view.live && !view.vod && record.state !== 'stopped';
    if (tail && opts.lowLatency) {
      // Complete once the fragment after it starts the next group (a key frame in a later bucket), or, with
      // nothing after it, once the track has ended. A subclip that ends inside a GOP ends before it.
      const lastPart = tail.parts?.[tail.parts.length - 1] ?? tail;
      const next = index.fragmentsStartingIn(
        record.id,
        lastPart.mediaTime + 1,
        Number.MAX_SAFE_INTEGER,
        1,
      )[0];
      const closed = next
        ? independent(next) && bucketOf(next.mediaTime, t.timescale, lengthMs) !== tail.sequence
        : record.state === 'stopped';
      if (!closed) {
        groups.pop();
        // The parts of the segment in progress, at the live edge.
        if (growing && !next) partial = tail.parts;
      }
    } else if (tail && growing) {
      const { end } = bucketRange(tail.sequence, t.timescale, lengthMs);
      // Half a frame of slack at 30 fps: a group ends where its bucket ends, give or take rounding.
      if (tail.mediaTime + tail.duration < end - t.timescale / 60) groups.pop();
    }
    if (groups.length === 0) continue;
    const grouped: TrackView = { ...t, fragments: groups };
    if (opts.lowLatency) {
      // BANDWIDTH is the peak bit rate of a segment: a group, not one of its parts.
      let peak = 0;
      for (const g of groups)
        if (g.duration > 0) peak = Math.max(peak, ((g.size ?? 0) * 8 * t.timescale) / g.duration);
      grouped.bandwidth = Math.round(Math.max(peak, record.bitrate ?? 0)) || 1;
      grouped.partial = partial ?? [];
    }
    tracks.push(grouped);
  }
  return { ...view, tracks, segmentPrefix: `g${lengthMs}-` };
}

/**
 * The indexed fragments before `head` that belong to its group: from the first fragment with a key frame in the
 * bucket of the latest key frame at or before `head`. None when `head` starts a group, or when its key frame is
 * no longer indexed (within four buckets).
 */
function groupHead(
  index: SegmentIndex,
  t: TrackRecord,
  lengthMs: number,
  head: FragmentView,
): FragmentRecord[] {
  const headBucket = bucketOf(head.mediaTime, t.timescale, lengthMs);
  const lookback = head.independent === false ? 4 : 0;
  const { start } = bucketRange(Math.max(0, headBucket - lookback), t.timescale, lengthMs);
  const earlier = index.fragmentsStartingIn(t.id, start, head.mediaTime, 10_000);
  let key: number = head.mediaTime;
  if (head.independent === false) {
    // The key frame `head` depends on: back through fragments that follow one another directly.
    let i = earlier.length - 1;
    let expected = head.sequence - 1;
    while (i >= 0 && earlier[i]?.sequence === expected && !independent(earlier[i] as FragmentRecord)) {
      i--;
      expected--;
    }
    const latest = earlier[i];
    if (!latest || latest.sequence !== expected) return [];
    key = latest.mediaTime;
  }
  const b = bucketOf(key, t.timescale, lengthMs);
  const from = earlier.findIndex((f) => independent(f) && bucketOf(f.mediaTime, t.timescale, lengthMs) === b);
  return from === -1 ? [] : earlier.slice(from);
}
