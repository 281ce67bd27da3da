/** Builds the manifest model of a publishing point from the segment index: the live DVR window. */
import type { FragmentView, PresentationView, TrackView } from './manifest-model.js';
import { resolvePpOptions } from './publishing-point-options.js';
import type { FragmentRecord, PublishingPointRecord, SegmentIndex, TrackRecord } from './segment-index.js';

export interface ViewRequest {
  /** `?dvr_window_length=N`: a shorter window, capped by the publishing point's. */
  dvrWindow?: number;
  urlSuffix?: string;
  now?: number;
}

export function livePresentation(
  index: SegmentIndex,
  pp: PublishingPointRecord,
  req: ViewRequest = {},
): PresentationView & { complete: boolean } {
  const o = resolvePpOptions(pp.options);
  const dvrWindow = req.dvrWindow !== undefined ? Math.min(req.dvrWindow, o.dvrWindow) : o.dvrWindow;
  const live = pp.state !== 'stopped' && pp.state !== 'idle';
  const tracks: TrackView[] = [];
  // One window end for all tracks, so audio and video list the same span.
  const tracksWithLast = index.tracks(pp.name).map((t) => ({ t, last: index.lastFragment(t.id) }));
  let edge = 0;
  for (const { t, last } of tracksWithLast)
    if (last) edge = Math.max(edge, (last.mediaTime + last.duration) / t.timescale);
  for (const { t, last } of tracksWithLast) {
    if (!last) continue;
    const from = Math.max(0, Math.floor((edge - dvrWindow) * t.timescale));
    const fragments = index
      .fragmentsEndingAfter(t.id, from)
      .filter((f) => f.mediaTime + f.duration / 2 >= from);
    const first = fragments[0];
    if (!first) continue;
    const view = trackView(t, fragments);
    view.discontinuitySequence = index.discontinuitiesBefore(t.id, first.sequence);
    tracks.push(view);
  }
  // While a run starts, a track without its first fragment holds back the whole presentation:
  // players load the master once, and a variant missing from it would never be played.
  const starting = tracksWithLast.some(
    ({ t }) => t.state === 'starting' && !tracks.some((v) => v.trackName === t.trackName),
  );
  return {
    complete: !starting,
    live,
    availabilityStartTime: pp.epoch,
    now: req.now ?? Date.now(),
    dvrWindow,
    fragmentDuration: o.fragmentDuration,
    suggestedPresentationDelay: numberOr(pp.options['mpd.suggested_presentation_delay'], undefined),
    minBufferTime: numberOr(pp.options['mpd.min_buffer_time'], undefined),
    segmentTemplate: pp.options['mpd.segment_template'] === 'number_timeline' ? 'number_timeline' : 'time',
    urlSuffix: req.urlSuffix ?? '',
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
    fragments: fragments.map((f): FragmentView => ({
      sequence: f.sequence,
      mediaTime: f.mediaTime,
      duration: f.duration,
      utc: f.utc,
      discontinuity: f.discontinuity,
    })),
  };
  if (t.width) view.width = t.width;
  if (t.height) view.height = t.height;
  if (t.frameRate) view.frameRate = t.frameRate;
  if (t.sampleRate) view.sampleRate = t.sampleRate;
  if (t.channels) view.channels = t.channels;
  if (t.audioTrack) view.audioTrack = t.audioTrack;
  return view;
}

function numberOr<T>(v: string | undefined, fallback: T): number | T {
  if (v === undefined) return fallback;
  const n = Number(v);
  return Number.isFinite(n) ? n : fallback;
}
