/** Channel statistics samples: viewer totals passed through, one output row per rendition, the input. */
import { describe, expect, it } from 'vitest';
import {
  ChannelStatistics,
  inputOf,
  outputsFromIndex,
  renditionOfTrack,
  type OutputIndex,
  type OutputTrack,
} from '../../main/channels/channel-statistics.js';

const track = (id: number, trackName: string, o: Partial<OutputTrack> = {}): OutputTrack => ({
  id,
  trackName,
  kind: trackName.startsWith('audio') ? 'audio' : 'video',
  timescale: 1000,
  bitrate: null,
  width: null,
  height: null,
  state: 'started',
  ...o,
});

/** Each track: 2 s fragments of `bytes` each, `count` of them. */
function index(tracks: Array<[OutputTrack, number, number]>): OutputIndex {
  const frags = new Map(
    tracks.map(([t, bytes, count]) => [
      t.id,
      Array.from({ length: count }, (_, i) => ({ mediaTime: i * 2000, duration: 2000, size: bytes })),
    ]),
  );
  return {
    tracks: () => tracks.map(([t]) => t),
    lastFragment: (id) => frags.get(id)?.at(-1),
    fragmentsEndingAfter: (id, from) => (frags.get(id) ?? []).filter((f) => f.mediaTime + f.duration > from),
  };
}

describe('outputs', () => {
  it('one row per rendition, tallest video first, with the bitrate of its last 10 s as written', () => {
    const rows = outputsFromIndex(
      index([
        [track(3, 'audio_source', { bitrate: 128_000 }), 32_000, 20],
        [track(2, 'video_360', { width: 640, height: 360, bitrate: 800_000 }), 200_000, 20],
        [track(1, 'video_source', { width: 1280, height: 720 }), 500_000, 20],
        [track(4, 'video_720', { width: 1280, height: 720, bitrate: 2_500_000, state: 'stopped' }), 1, 20],
        [track(5, 'video_180', { height: 180 }), 1000, 1],
        [track(6, 'video_360_2', { width: 640, height: 360 }), 1000, 1],
      ]),
      '0_a',
    );
    expect(rows.map((r) => r.rendition)).toEqual(['source', '360', '360_2', '180', 'source']);
    // 5 fragments of 2 s end within the last 10 s: 500 kB × 8 / 2 s.
    expect(rows[0]).toMatchObject({ trackName: 'video_source', height: 720, bitrate: 2_000_000 });
    expect(rows[1]).toMatchObject({ bitrate: 800_000, declaredBitrate: 800_000 });
    expect(rows[3]?.bitrate).toBeNull(); // one fragment is not a rate yet
    expect(rows[4]).toMatchObject({ kind: 'audio', bitrate: 128_000 });
    expect(renditionOfTrack('audio_source_2')).toBe('source_2');
  });
});

describe('input', () => {
  it('the feeding ingest: frame size, measured fps and bitrate, its start', () => {
    const startedAt = Date.UTC(2026, 0, 1, 9, 0, 0);
    const primary = {
      request: { serverIndex: 0 },
      metadata: { width: 1920, height: 1080, framerate: 30 },
      startedAt,
      feeding: false,
    };
    const backup = {
      request: { serverIndex: 1 },
      metadata: {},
      startedAt,
      feeding: true,
      health: { fps: 25, bitrate: 3_000_000 },
    };
    expect(inputOf([primary, backup], { width: 1280, height: 720 })).toEqual({
      role: 'backup',
      width: 1280,
      height: 720,
      fps: 25,
      bitrate: 3_000_000,
      startedAt: '2026-01-01T09:00:00.000Z',
    });
    expect(inputOf([primary])).toMatchObject({ role: 'primary', width: 1920, fps: 30, bitrate: null });
    expect(inputOf([])).toBeNull();
  });
});

describe('samples', () => {
  it('carry the viewer totals, the input and the outputs while a transcoder runs', () => {
    let live = true;
    const stats = new ChannelStatistics({
      entryIds: () => ['0_a'],
      viewers: () => ({ viewers: 2, bytesServed: 10, peakViewers: 5, uniqueViewers: 9, edges: ['10.0.0.7'] }),
      renditions: () =>
        live ? [{ streamName: '0_a_1', fps: 30, speed: 1.4, bitrate: 1e6, dropFrames: 0, bytes: 100 }] : [],
      input: () => ({ role: 'primary', width: 640, height: 360, fps: 30, bitrate: 1e6, startedAt: 'x' }),
      outputs: () => [
        {
          trackName: 'video_source',
          kind: 'video',
          rendition: 'source',
          width: 640,
          height: 360,
          bitrate: 1e6,
          declaredBitrate: null,
        },
      ],
    });
    const [s] = stats.sample(Date.UTC(2026, 0, 1));
    expect(s).toMatchObject({ viewers: 2, peakViewers: 5, uniqueViewers: 9, edges: ['10.0.0.7'] });
    expect(s?.input?.width).toBe(640);
    expect(s?.outputs?.[0]?.rendition).toBe('source');
    live = false;
    const [after] = stats.sample(Date.UTC(2026, 0, 1, 0, 0, 2));
    expect(after).toMatchObject({ input: null, outputs: [] });
  });
});
