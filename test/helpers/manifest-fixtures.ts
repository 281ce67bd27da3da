/** Presentation views for the HLS and DASH renderer tests. */
import type { FragmentView, PresentationView, TrackView } from '../../main/origin/manifest-model.js';

export const AST = Date.UTC(2024, 0, 15, 12, 0, 0);

/** Fragments of `durations` from `start` (timescale units); `gapBefore` index: a 4 s gap before it. */
export function fragments(
  timescale: number,
  start: number,
  durations: number[],
  gapBefore?: number,
): FragmentView[] {
  const out: FragmentView[] = [];
  let t = start;
  durations.forEach((d, i) => {
    const gap = i === gapBefore;
    if (gap) t += 4 * timescale;
    out.push({
      sequence: 50 + i,
      mediaTime: t,
      duration: d,
      utc: AST + (t / timescale) * 1000,
      discontinuity: gap,
    });
    t += d;
  });
  return out;
}

/** 2 video + 1 audio tracks from 100 s after the availability start, 2 s fragments, a 4 s gap before the 4th. */
export function presentation(overrides: Partial<PresentationView> = {}): PresentationView {
  const video = (trackName: string, bandwidth: number, width: number, height: number): TrackView => ({
    trackName,
    kind: 'video',
    timescale: 15360,
    codecs: width > 1000 ? 'avc1.64001f' : 'avc1.64001e',
    bandwidth,
    width,
    height,
    frameRate: 30,
    audioTrack: 'audio_source',
    fragments: fragments(15360, 100 * 15360, [30720, 30720, 30720, 30720, 30720], 3),
  });
  return {
    live: true,
    availabilityStartTime: AST,
    now: AST + 120_000,
    dvrWindow: 30,
    fragmentDuration: 2,
    tracks: [
      video('video_360', 800_000, 640, 360),
      video('video_source', 3_000_000, 1280, 720),
      {
        trackName: 'audio_source',
        kind: 'audio',
        timescale: 48000,
        codecs: 'mp4a.40.2',
        bandwidth: 128_000,
        sampleRate: 48000,
        channels: 2,
        fragments: fragments(48000, 100 * 48000, [96256, 96256, 95232, 96256, 96256], 3),
      },
    ],
    ...overrides,
  };
}
