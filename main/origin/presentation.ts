/**
 * Builds the manifest model of a publishing point from the segment index: the live DVR window
 * (optionally moved back from the live edge: `time_shift`) and fixed subclips of the archive
 * (`vbegin`/`vend`, a VOD presentation).
 *
 * Every track is cut by time, never by sequence number, so audio and video list the same span.
 * Windows are read with range queries on the fragment indexes ((track_id, media_time) and
 * (track_id, utc)): a request reads what it lists, however long the archive is.
 */
import type { FragmentView, PresentationView, TrackView } from './manifest-model.js';
import { initNameOf, isIndependentFile, runStartOf } from './origin-storage.js';
import { resolvePpOptions, type ResolvedPpOptions } from './publishing-point-options.js';
import type { FragmentRecord, PublishingPointRecord, SegmentIndex, TrackRecord } from './segment-index.js';

export interface ViewRequest {
  /** `?dvr_window_length=N`: a shorter window, capped by the publishing point's. */
  dvrWindow?: number;
  /**
   * `?time_shift=N` (seconds, >= 0): the window ends N seconds before the live edge. The view stays
   * live (dynamic MPD, no ENDLIST while the encoder runs); the MPD's timeShiftBufferDepth and
   * suggestedPresentationDelay grow by N, so a DASH player, which places the live edge by the wall
   * clock, starts at the shifted edge and its window reaches back over what is listed.
   */
  timeShift?: number;
  urlSuffix?: string;
  now?: number;
}

export type PresentationResult = PresentationView & { complete: boolean };

export function livePresentation(
  index: SegmentIndex,
  pp: PublishingPointRecord,
  req: ViewRequest = {},
): PresentationResult {
  const o = resolvePpOptions(pp.options);
  const dvrWindow = req.dvrWindow !== undefined ? Math.min(req.dvrWindow, o.dvrWindow) : o.dvrWindow;
  const timeShift = Math.max(0, req.timeShift ?? 0);
  const tracks: TrackView[] = [];
  // One window for all tracks, so audio and video list the same span.
  const tracksWithLast = index.tracks(pp.name).map((t) => ({ t, last: index.lastFragment(t.id) }));
  let edge = 0;
  for (const { t, last } of tracksWithLast)
    if (last) edge = Math.max(edge, (last.mediaTime + last.duration) / t.timescale);
  const end = edge - timeShift;
  for (const { t, last } of tracksWithLast) {
    if (!last) continue;
    const from = Math.max(0, Math.floor((end - dvrWindow) * t.timescale));
    // Unshifted, the window runs to the track's own newest fragment.
    const to = timeShift > 0 ? Math.round(end * t.timescale) : Number.MAX_SAFE_INTEGER;
    const view = indexedTrackView(index, t, index.fragmentsInWindow(t.id, from, to));
    if (view) tracks.push(view);
  }
  const baseDelay = o.mpdSuggestedPresentationDelay ?? defaultDelay(o);
  return {
    complete: !startingTrackMissing(tracksWithLast, tracks),
    ...commonFields(pp, o, req),
    live: isLive(pp),
    dvrWindow: dvrWindow + timeShift,
    // Without a shift, dash.ts applies its default (3 × fragmentDuration); shifted, the same default moves back.
    suggestedPresentationDelay: timeShift > 0 ? baseDelay + timeShift : baseDelay,
    tracks,
  };
}

/** A fixed range of wall-clock time, ms since epoch; `to` may be Infinity (up to the live edge). */
export interface TimeRange {
  from: number;
  to: number;
}

/**
 * A virtual subclip: every fragment whose start (UTC) lies in [from, to), whole, as a static VOD
 * presentation (`vod: true`, `live: false`), so a boundary always falls on a fragment boundary.
 */
export function vodPresentation(
  index: SegmentIndex,
  pp: PublishingPointRecord,
  range: TimeRange,
  req: Pick<ViewRequest, 'urlSuffix' | 'now'> = {},
): PresentationResult {
  const o = resolvePpOptions(pp.options);
  const tracks: TrackView[] = [];
  const all = index.tracks(pp.name);
  let first = Infinity;
  let last = -Infinity;
  for (const t of all) {
    const view = indexedTrackView(index, t, index.fragmentsStartingBetween(t.id, range.from, range.to));
    if (!view) continue;
    tracks.push(view);
    const head = view.fragments[0] as FragmentView;
    const tail = view.fragments[view.fragments.length - 1] as FragmentView;
    first = Math.min(first, head.utc);
    last = Math.max(last, tail.utc + (tail.duration / t.timescale) * 1000);
  }
  // A range that reaches the live edge is held back like the live view while a run starts; a range
  // in the past is complete whatever starts now.
  const tracksWithLast = all.map((t) => ({ t, last: index.lastFragment(t.id) }));
  const newest = Math.max(-Infinity, ...tracksWithLast.map(({ last: f }) => f?.utc ?? -Infinity));
  return {
    complete: !(range.to > newest && startingTrackMissing(tracksWithLast, tracks)),
    ...commonFields(pp, o, req),
    live: false,
    vod: true,
    // Not rendered for a static presentation; the span listed, for the record.
    dvrWindow: tracks.length > 0 ? (last - first) / 1000 : 0,
    suggestedPresentationDelay: o.mpdSuggestedPresentationDelay,
    tracks,
  };
}

export function trackView(t: TrackRecord, fragments: FragmentRecord[]): TrackView {
  let peak = 0;
  for (const f of fragments)
    if (f.duration > 0) peak = Math.max(peak, (f.size * 8 * t.timescale) / f.duration);
  const view: TrackView = {
    trackName: t.trackName,
    kind: t.kind,
    timescale: t.timescale,
    codecs: t.codecs,
    bandwidth: Math.round(Math.max(peak, t.bitrate ?? 0)) || 1,
    fragments: fragments.map(fragmentView),
  };
  if (t.width) view.width = t.width;
  if (t.height) view.height = t.height;
  if (t.frameRate) view.frameRate = t.frameRate;
  if (t.sampleRate) view.sampleRate = t.sampleRate;
  if (t.channels) view.channels = t.channels;
  if (t.audioTrack) view.audioTrack = t.audioTrack;
  return view;
}

/** A fragment record as the manifests see it. */
export function fragmentView(f: FragmentRecord): FragmentView {
  const view: FragmentView = {
    sequence: f.sequence,
    mediaTime: f.mediaTime,
    duration: f.duration,
    utc: f.utc,
    discontinuity: f.discontinuity,
    size: f.size,
  };
  if (!isIndependentFile(f.file)) view.independent = false;
  const runStart = runStartOf(f.file);
  if (runStart !== undefined) {
    view.runStart = runStart;
    view.init = initNameOf(f.file);
  }
  return view;
}

// -- shared

/** A track's view with its discontinuity count before the first listed fragment; undefined when it lists none. */
function indexedTrackView(
  index: SegmentIndex,
  t: TrackRecord,
  fragments: FragmentRecord[],
): TrackView | undefined {
  const first = fragments[0];
  if (!first) return undefined;
  const view = trackView(t, fragments);
  view.discontinuitySequence = index.discontinuitiesBefore(t.id, first.sequence);
  return view;
}

/**
 * While a run starts, a track without its first fragment holds back the whole presentation:
 * players load the master once, and a variant missing from it would never be played.
 */
function startingTrackMissing(all: readonly { t: TrackRecord }[], listed: readonly TrackView[]): boolean {
  return all.some(({ t }) => t.state === 'starting' && !listed.some((v) => v.trackName === t.trackName));
}

function isLive(pp: PublishingPointRecord): boolean {
  return pp.state !== 'stopped' && pp.state !== 'idle';
}

function commonFields(
  pp: PublishingPointRecord,
  o: ResolvedPpOptions,
  req: Pick<ViewRequest, 'urlSuffix' | 'now'>,
): Omit<PresentationView, 'live' | 'dvrWindow' | 'tracks'> {
  return {
    availabilityStartTime: pp.epoch,
    now: req.now ?? Date.now(),
    fragmentDuration: o.fragmentDuration,
    minBufferTime: o.mpdMinBufferTime,
    // lookahead_fragments: how many fragments behind the newest a player starts (HLS HOLD-BACK, DASH delay).
    holdBack: (o.lookaheadFragments + 1) * o.fragmentDuration,
    segmentTemplate: o.mpdSegmentTemplate,
    urlSuffix: req.urlSuffix ?? '',
  };
}

/** DASH suggestedPresentationDelay when none is set: the hold-back of lookahead_fragments, at least 3 fragments. */
function defaultDelay(o: ResolvedPpOptions): number {
  return Math.max(3, o.lookaheadFragments + 1) * o.fragmentDuration;
}
