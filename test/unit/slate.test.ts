/**
 * The slate in the manifests: an encoder's run, the slate's run and the encoder's return, each with its own init
 * segment, as HLS (EXT-X-DISCONTINUITY + a new EXT-X-MAP) and DASH (one Period per run) list them while the
 * window moves; sequence and segment numbers never go backwards. And the slate's ffmpeg plan.
 */
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../main/lib/logger.js';
import { periodsOf, renderMpd } from '../../main/origin/dash.js';
import { FragmentWriter, SLATE_FEED } from '../../main/origin/fragment-writer.js';
import { renderMediaPlaylist } from '../../main/origin/hls.js';
import { initNameOf, OriginStorage, runStartOf } from '../../main/origin/origin-storage.js';
import { livePresentation } from '../../main/origin/presentation.js';
import { trackRanges } from '../../main/origin/archive-ranges.js';
import type { SegmentIndex, TrackRecord } from '../../main/origin/segment-index.js';
import { h264ProfileOf, planSlate, SlatePlayer } from '../../main/transcode/slate.js';
import { closeTestIndexes, testIndex } from '../helpers/index-fixtures.js';

afterEach(() => {
  closeTestIndexes();
});

const CREATED = 1_000_000;

/** Appends one run of `count` 2 s fragments to a track from `from` seconds, named as the fragment writer names them. */
function run(
  index: SegmentIndex,
  storage: OriginStorage,
  t: TrackRecord,
  from: number,
  count: number,
  serverIndex: 0 | 1 | typeof SLATE_FEED,
  discontinuity: boolean,
): void {
  const runStart = Math.round(from * t.timescale);
  for (let i = 0; i < count; i++) {
    const mediaTime = Math.round((from + 2 * i) * t.timescale);
    index.addFragment({
      trackId: t.id,
      mediaTime,
      duration: 2 * t.timescale,
      utc: CREATED + (from + 2 * i) * 1000,
      size: 100_000,
      file: storage.fragmentFile(t.trackName, mediaTime, true, runStart),
      discontinuity: discontinuity && i === 0,
      serverIndex,
    });
  }
}

function setup(options: Record<string, string> = { dvr_window_length: '60' }) {
  const fx = testIndex(options, CREATED);
  const storage = new OriginStorage(fx.dir);
  const video = fx.track('video_source', 'video', 90_000);
  const audio = fx.track('audio_source', 'audio', 48_000);
  fx.index.setState(fx.pp.name, 'started');
  const pp = () =>
    fx.index.getPublishingPoint(fx.pp.name) as NonNullable<ReturnType<typeof fx.index.getPublishingPoint>>;
  return { ...fx, storage, video, audio, pp };
}

const mediaSequence = (playlist: string): number => Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(playlist)?.[1]);
const maps = (playlist: string): string[] =>
  [...playlist.matchAll(/#EXT-X-MAP:URI="([^"]+)"/g)].map((m) => m[1] as string);

describe('fragment and init names', () => {
  it('name the run a fragment belongs to, and its init segment', () => {
    const storage = new OriginStorage(setup().dir);
    const file = storage.fragmentFile('video_source', 1_800_000, true, 900_000);
    expect(file).toBe('video_source/i900000-1800000.m4s');
    expect(runStartOf(file)).toBe(900_000);
    expect(initNameOf(file)).toBe('init-900000.mp4');
    // Fragments written before runs had their own init segments keep `init.mp4`.
    expect(initNameOf('video_source/1800000.m4s')).toBe('init.mp4');
    expect(runStartOf('video_source/1800000.d.m4s')).toBeUndefined();
    expect(storage.resolve('pp', 'video_source/init-900000.mp4')).toMatch(/init-900000\.mp4$/);
    expect(storage.resolve('pp', file)).toMatch(/i900000-1800000\.m4s$/);
    expect(() => storage.resolve('pp', 'video_source/init-x.mp4')).toThrow(/unsafe/);
  });
});

describe('manifests across the slate and the return', () => {
  it('HLS: a discontinuity and a new EXT-X-MAP at each run, media sequence numbers never backwards', () => {
    const { index, storage, video, audio, pp } = setup({ dvr_window_length: '16' });
    const seen: number[] = [];
    const uriSequence = new Map<string, number>();
    const render = (): string => {
      const playlist = renderMediaPlaylist(
        livePresentation(index, pp(), { now: CREATED + 200_000 }),
        'video_source',
      );
      seen.push(mediaSequence(playlist));
      // A URI keeps its number from one playlist to the next.
      const uris = playlist.split('\n').filter((l) => l.endsWith('.m4s'));
      uris.forEach((u, i) => {
        const n = mediaSequence(playlist) + i;
        expect(uriSequence.get(u) ?? n, u).toBe(n);
        uriSequence.set(u, n);
      });
      return playlist;
    };
    // The encoder: 20..30 s.
    for (const t of [video, audio]) run(index, storage, t, 20, 5, 0, false);
    let playlist = render();
    expect(maps(playlist)).toEqual(['video_source/init-1800000.mp4']);
    expect(playlist).not.toContain('#EXT-X-DISCONTINUITY\n');

    // The encoder drops; the slate continues at 30 s.
    for (const t of [video, audio]) run(index, storage, t, 30, 3, SLATE_FEED, true);
    playlist = render();
    expect(maps(playlist)).toEqual(['video_source/init-1800000.mp4', 'video_source/init-2700000.mp4']);
    const slateAt = playlist.indexOf('#EXT-X-MAP:URI="video_source/init-2700000.mp4"');
    expect(playlist.lastIndexOf('#EXT-X-DISCONTINUITY', slateAt)).toBeGreaterThan(
      playlist.indexOf('video_source/i1800000-2520000.m4s'),
    );
    expect(playlist).toContain('#EXT-X-DISCONTINUITY-SEQUENCE:0');

    // The encoder returns after a gap (its clock is ahead of the slate's end): 40 s.
    for (const t of [video, audio]) run(index, storage, t, 40, 4, 0, true);
    playlist = render();
    // The encoder's first run (and the slate's start) left the window: one discontinuity before the first listed.
    expect(maps(playlist)).toEqual(['video_source/init-2700000.mp4', 'video_source/init-3600000.mp4']);
    expect(playlist.match(/#EXT-X-DISCONTINUITY\n/g)).toHaveLength(1);
    expect(playlist).toContain('#EXT-X-DISCONTINUITY-SEQUENCE:1');

    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1] as number);
  });

  it('DASH: one Period per run with its own init, starts and segment numbers only forward', () => {
    const { index, storage, video, audio, pp } = setup({
      dvr_window_length: '60',
      'mpd.segment_template': 'number_timeline',
    });
    for (const t of [video, audio]) run(index, storage, t, 20, 5, 0, false);
    // The audio of the slate's run starts a little before its video (AAC priming): still one Period.
    run(index, storage, video, 30, 3, SLATE_FEED, true);
    run(index, storage, audio, 29.98, 3, SLATE_FEED, true);
    for (const t of [video, audio]) run(index, storage, t, 40, 4, 0, true);
    const view = livePresentation(index, pp(), { now: CREATED + 200_000 });
    expect(periodsOf(view.tracks, view.fragmentDuration).map((p) => [p.id, p.start])).toEqual([
      ['p20000', 20],
      ['p29980', 29.98],
      ['p40000', 40],
    ]);
    const mpd = renderMpd(view);
    const periods = [...mpd.matchAll(/<Period id="([^"]+)" start="([^"]+)">/g)].map((m) => [m[1], m[2]]);
    expect(periods).toEqual([
      ['p20000', 'PT20S'],
      ['p29980', 'PT29.98S'],
      ['p40000', 'PT40S'],
    ]);
    // Each Period's video names its run's init and starts numbering where the one before ended.
    const videoTemplates = [
      ...mpd.matchAll(/<Representation id="video_source"[^>]*>\s*<SegmentTemplate ([^>]+)>/g),
    ].map((m) => m[1] as string);
    expect(videoTemplates).toHaveLength(3);
    const attr = (s: string, name: string): string | undefined =>
      new RegExp(`${name}="([^"]+)"`).exec(s)?.[1];
    expect(videoTemplates.map((s) => attr(s, 'initialization'))).toEqual([
      'tracks/$RepresentationID$/init-1800000.mp4',
      'tracks/$RepresentationID$/init-2700000.mp4',
      'tracks/$RepresentationID$/init-3600000.mp4',
    ]);
    expect(videoTemplates.map((s) => Number(attr(s, 'startNumber')))).toEqual([1, 6, 9]);
    // $Time$ and the SegmentTimeline stay the fragments' own times: the offset is the Period's start.
    expect(videoTemplates.map((s) => Number(attr(s, 'presentationTimeOffset')))).toEqual([
      1_800_000, 2_698_200, 3_600_000,
    ]);

    // Stopped: a static MPD whose first Period starts at 0, the others after it.
    index.setState(pp().name, 'stopped');
    const done = renderMpd(livePresentation(index, pp(), { now: CREATED + 200_000 }));
    expect([...done.matchAll(/<Period id="([^"]+)" start="([^"]+)">/g)].map((m) => m[2])).toEqual([
      'PT0S',
      'PT9.98S',
      'PT20S',
    ]);
  });

  it('fragments written before runs had their own init segments stay one Period "0" at 0', () => {
    const { index, video, pp } = setup();
    index.addFragment({
      trackId: video.id,
      mediaTime: 180_000,
      duration: 180_000,
      utc: CREATED + 2000,
      size: 1000,
      file: 'video_source/180000.m4s',
      discontinuity: false,
      serverIndex: 0,
    });
    const mpd = renderMpd(livePresentation(index, pp(), { now: CREATED + 10_000 }));
    expect(mpd).toContain('<Period id="0" start="PT0S">');
    expect(mpd).toContain('initialization="tracks/$RepresentationID$/init.mp4"');
    expect(mpd).not.toContain('presentationTimeOffset');
    expect(maps(renderMediaPlaylist(livePresentation(index, pp()), 'video_source'))).toEqual([
      'video_source/init.mp4',
    ]);
  });

  it('/archive shows the slate as the slate, not as the event', () => {
    const { index, storage, video, audio, pp } = setup();
    for (const t of [video, audio]) run(index, storage, t, 20, 5, 0, false);
    for (const t of [video, audio]) run(index, storage, t, 30, 3, SLATE_FEED, true);
    for (const t of [video, audio]) run(index, storage, t, 36, 2, 0, true);
    const [v] = trackRanges(index, pp(), [video]);
    expect(v?.ranges.map((r) => r.ingest)).toEqual(['primary', 'slate', 'primary']);
  });
});

describe('the slate plan', () => {
  it('reads the profile and level of each rendition', () => {
    expect(h264ProfileOf('avc1.64001f')).toEqual({ profile: 'high', level: '3.1' });
    expect(h264ProfileOf('avc1.4d401e')).toEqual({ profile: 'main', level: '3.0' });
    expect(h264ProfileOf('avc1.42c028')).toEqual({ profile: 'baseline', level: '4.0' });
    expect(h264ProfileOf('mp4a.40.2')).toEqual({ profile: 'main', level: '3.1' });
  });

  it('matches every rendition: size, codec, frame rate, sample rate and channels, one pipe per track', () => {
    const track = (t: Partial<TrackRecord> & Pick<TrackRecord, 'trackName' | 'kind' | 'codecs'>) => ({
      width: null,
      height: null,
      frameRate: null,
      bitrate: null,
      sampleRate: null,
      channels: null,
      audioTrack: null,
      ...t,
    });
    const plan = planSlate(
      [
        track({
          trackName: 'video_source',
          kind: 'video',
          codecs: 'avc1.64001f',
          width: 1280,
          height: 720,
          frameRate: 25,
        }),
        track({
          trackName: 'video_360',
          kind: 'video',
          codecs: 'avc1.4d401e',
          width: 640,
          height: 360,
          bitrate: 250_000,
        }),
        track({
          trackName: 'audio_source',
          kind: 'audio',
          codecs: 'mp4a.40.2',
          sampleRate: 44_100,
          channels: 1,
        }),
      ],
      { image: '/tmp/slate.png', fragmentDuration: 2 },
    );
    const args = plan.args.join(' ');
    // The image is decoded once and repeated; silence from lavfi; both paced by (a)realtime.
    expect(args).toContain('-framerate 25 -i /tmp/slate.png -f lavfi -i anullsrc=r=44100:cl=mono');
    expect(args).not.toContain('-re ');
    expect(args).toContain('loop=loop=-1:size=1:start=0,realtime,setpts=N/(25*TB)[v0]');
    expect(args).toContain('[1:a]arealtime,asetpts=N/(44100*TB)[a0]');
    expect(args).toContain('split=2[s0][s1]');
    expect(args).toMatch(/\[s0\]scale=1280:720:force_original_aspect_ratio=decrease.*pad=1280:720/);
    expect(args).toMatch(/\[s1\]scale=640:360:.*pad=640:360/);
    expect(args).toContain('-profile:v high -level:v 3.1');
    expect(args).toContain('-profile:v main -level:v 3.0');
    // Never more bits than the rendition's own.
    expect(args).toContain('-b:v 250000');
    expect(args).toContain('-ar 44100 -ac 1');
    expect(args).toContain('-force_key_frames expr:gte(t,n_forced*2)');
    expect(plan.args.filter((a) => a.startsWith('pipe:'))).toEqual(['pipe:1', 'pipe:3', 'pipe:4', 'pipe:5']);
    expect(plan.tracks.map((t) => [t.trackName, t.width, t.height])).toEqual([
      ['video_source', 1280, 720],
      ['video_360', 640, 360],
      ['audio_source', undefined, undefined],
    ]);
  });

  it('catches up with the wall clock: the first seconds pass the pacing at once', () => {
    const plan = planSlate(
      [
        {
          trackName: 'video_source',
          kind: 'video',
          codecs: 'avc1.64001f',
          width: 640,
          height: 360,
          frameRate: 30,
          bitrate: null,
          sampleRate: null,
          channels: null,
          audioTrack: null,
        },
        {
          trackName: 'audio_source',
          kind: 'audio',
          codecs: 'mp4a.40.2',
          width: null,
          height: null,
          frameRate: null,
          bitrate: null,
          sampleRate: 48_000,
          channels: 2,
          audioTrack: null,
        },
      ],
      { image: 'x.png', fragmentDuration: 2, catchUp: 2.5 },
    );
    const graph = plan.args[plan.args.indexOf('-filter_complex') + 1];
    // 2.5 s: 75 frames, 120 000 samples held at time 0 in front of the pacing, numbered again behind it.
    expect(graph).toContain("setpts='if(lt(N,75),0,(N-75)/(30*TB))',realtime,setpts=N/(30*TB)[v0]");
    expect(graph).toContain(
      "[1:a]asetpts='if(lt(N,120000),0,(N-120000)/(48000*TB))',arealtime,asetpts=N/(48000*TB)[a0]",
    );
  });

  it('refuses a plan with nothing to play into', () => {
    expect(() => planSlate([], { image: 'x.png', fragmentDuration: 2 })).toThrow(/at least one track/);
  });
});

describe('the slate player', () => {
  function player(durationMs: number) {
    const fx = setup();
    for (const t of [fx.video, fx.audio]) run(fx.index, fx.storage, t, 20, 3, 0, false);
    // A stand-in for ffmpeg that only waits (and ends on SIGINT like ffmpeg).
    const ffmpegPath = path.join(fx.dir, 'ffmpeg');
    fs.writeFileSync(ffmpegPath, '#!/bin/sh\nexec sleep 30\n', { mode: 0o755 });
    const slate = new SlatePlayer({
      ffmpegPath,
      fragments: new FragmentWriter(fx.index, fx.storage, createLogger('silent')),
      image: () => 'slate.png',
      durationMs,
      log: createLogger('silent'),
    });
    return { ...fx, slate };
  }

  it('plays for --slate-duration, then says its time is up', async () => {
    const { slate, pp } = player(150);
    const ended = once(slate, 'ended');
    expect(slate.play(pp().name)).toBe(true);
    expect(slate.playing(pp().name)).toBe(true);
    // Once on air, not twice.
    expect(slate.play(pp().name)).toBe(false);
    expect(await ended).toEqual([pp().name, 'expired']);
    expect(slate.playing(pp().name)).toBe(false);
  });

  it('stops when asked (the encoder is back), and never plays when disabled or with nothing to continue', async () => {
    const { slate, pp } = player(60_000);
    expect(slate.play(pp().name)).toBe(true);
    const ended = once(slate, 'ended');
    await slate.stop(pp().name);
    expect(await ended).toEqual([pp().name, 'stopped']);
    expect(player(0).slate.play(pp().name)).toBe(false);
    expect(slate.play('no-such-point')).toBe(false);
  });
});
