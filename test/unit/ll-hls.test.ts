/**
 * Low-latency HLS: the publishing point options, the transcoder's part-sized fragments, the playlists the origin
 * renders from an index of parts (parts, preload hints, rendition reports, delta updates), blocking playlist
 * reloads and preload-hinted parts, with the origin listener as viewers reach it.
 */
import { adminCheck } from '../../main/access/admin-credentials.js';
import fs from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { signQuery } from '../../main/access/signed-url.js';
import type { SigningKey } from '../../main/access/signing-keys.js';
import { parseAllowList } from '../../main/lib/ip-allow-list.js';
import { createLogger } from '../../main/lib/logger.js';
import { FragmentWriter } from '../../main/origin/fragment-writer.js';
import { FragmentWaiters } from '../../main/origin/fragment-waiters.js';
import { groupLength, groupView } from '../../main/origin/fragment-groups.js';
import { renderMediaPlaylist } from '../../main/origin/hls.js';
import { holds, parseDeliveryDirectives, playlistEdge, tooFarAhead } from '../../main/origin/ll-hls.js';
import { createOriginServer } from '../../main/app/viewer-listener.js';
import { isIndependentFile, OriginStorage } from '../../main/origin/origin-storage.js';
import { parsePlayout } from '../../main/origin/playout.js';
import { livePresentation } from '../../main/origin/presentation.js';
import { resolvePpOptions } from '../../main/origin/publishing-point-options.js';
import { PublishingPoints } from '../../main/origin/publishing-points.js';
import type { TrackRecord } from '../../main/origin/segment-index.js';
import { loadDefaultProfile } from '../../main/transcode/conversion-profile.js';
import { planTranscode } from '../../main/transcode/ffmpeg-args.js';
import { closeTestIndexes, testIndex } from '../helpers/index-fixtures.js';

const T0 = Date.UTC(2024, 0, 15, 12, 0, 0);
const VIDEO_TS = 16_000;
const AUDIO_TS = 48_000;
/** 0.5 s of video at 30 fps; 24 AAC frames (0.512 s) of audio, as ffmpeg cuts them for a 0.5 s part. */
const VIDEO_PART = 8_000;
const AUDIO_PART = 24_576;
/** Video key frames every 2 s from 100.25 s: a phase that does not match the 2 s buckets of the timeline. */
const VIDEO_START = Math.round(100.25 * VIDEO_TS);
const AUDIO_START = 100 * AUDIO_TS;

const log = createLogger('silent');
const apps: FastifyInstance[] = [];

afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(apps.splice(0).map((a) => a.close()));
  closeTestIndexes();
});

const key: SigningKey = { id: 'k1234567', secret: Buffer.alloc(32, 7).toString('base64url'), createdAt: T0 };

/**
 * A low-latency publishing point with two video renditions and one audio track, parts added as the ingest adds
 * them (file written, fragment indexed, waiting requests woken), served by the origin listener.
 */
function setup(options: Record<string, string> = {}, access: 'open' | 'secure' = 'open') {
  const s = testIndex(
    { 'hls.low_latency': 'true', fragment_duration: '2', dvr_window_length: '30', ...options },
    T0,
  );
  const storage = new OriginStorage(s.dir);
  const tracks: Record<string, TrackRecord> = {
    video_source: s.track('video_source', 'video', VIDEO_TS),
    video_360: s.track('video_360', 'video', VIDEO_TS),
    audio_source: s.track('audio_source', 'audio', AUDIO_TS),
  };
  for (const t of Object.values(tracks))
    fs.mkdirSync(storage.trackDir(s.pp.name, t.trackName), { recursive: true });
  s.index.setState(s.pp.name, 'started');
  const added = new Map<string, number>();

  /** Appends `n` parts to a track: video with a key frame every 4th part, audio all independent. */
  const add = (name: string, n = 1): void => {
    const t = tracks[name] as TrackRecord;
    for (let k = 0; k < n; k++) {
      const i = added.get(name) ?? 0;
      added.set(name, i + 1);
      const video = t.kind === 'video';
      const mediaTime = video ? VIDEO_START + i * VIDEO_PART : AUDIO_START + i * AUDIO_PART;
      const keyFrame = !video || i % 4 === 0;
      const file = storage.fragmentFile(name, mediaTime, keyFrame);
      const bytes = Buffer.alloc(video ? (keyFrame ? 40_000 : 10_000) : 8_000, i % 251);
      fs.writeFileSync(storage.resolve(s.pp.name, file), bytes);
      s.index.addFragment({
        trackId: t.id,
        mediaTime,
        duration: video ? VIDEO_PART : AUDIO_PART,
        utc: s.pp.epoch + (mediaTime / t.timescale) * 1000,
        size: bytes.length,
        file,
        discontinuity: false,
        serverIndex: 0,
      });
      if (i === 0) s.index.setTrackState(t.id, 'started');
      FragmentWaiters.for(s.index).wake(s.pp.name, name, 'fragment');
    }
  };
  /** `seconds` of media on every track. */
  const addSeconds = (seconds: number): void => {
    add('video_source', Math.round(seconds / 0.5));
    add('video_360', Math.round(seconds / 0.5));
    add('audio_source', Math.floor(seconds / 0.512));
  };

  const app = createOriginServer({
    index: s.index,
    storage,
    pps: new PublishingPoints(s.index, storage, log),
    isAdmin: adminCheck('admin-token'),
    adminAllow: parseAllowList(''),
    statusAllow: parseAllowList('127.0.0.1'),
    signedGeneration: () => 0,
    accessFor: () => access,
    keys: { find: (id) => (id === key.id ? key : undefined) },
    trustedProxies: parseAllowList(''),
    log,
  });
  apps.push(app);
  const base = `/${s.pp.name}/${s.pp.name}.isml/`;
  const get = (url: string) => app.inject({ method: 'GET', url: base + url });
  return { ...s, storage, tracks, add, addSeconds, app, base, get };
}

interface Part {
  duration: number;
  uri: string;
  independent: boolean;
}
interface Playlist {
  lines: string[];
  tag: (name: string) => string | undefined;
  mediaSequence: number;
  segments: Array<{ duration: number; uri: string; parts: Part[] }>;
  partial: Part[];
  hint?: string;
  reports: Array<{ uri: string; lastMsn: number; lastPart: number }>;
  skipped: number;
}

/** The parts of an attribute list: `A=1,B="x,y"`. */
function attributes(list: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of list.matchAll(/([A-Z0-9-]+)=("[^"]*"|[^,]*)/g))
    out[m[1] as string] = (m[2] as string).replace(/^"|"$/g, '');
  return out;
}

function parse(text: string): Playlist {
  const lines = text.trimEnd().split('\n');
  const segments: Playlist['segments'] = [];
  const reports: Playlist['reports'] = [];
  let parts: Part[] = [];
  let duration: number | undefined;
  let hint: string | undefined;
  let skipped = 0;
  for (const line of lines) {
    if (line.startsWith('#EXT-X-PART:')) {
      const a = attributes(line.slice('#EXT-X-PART:'.length));
      parts.push({
        duration: Number(a.DURATION),
        uri: a.URI as string,
        independent: a.INDEPENDENT === 'YES',
      });
    } else if (line.startsWith('#EXTINF:')) {
      duration = Number(line.slice('#EXTINF:'.length).replace(/,$/, ''));
    } else if (line.startsWith('#EXT-X-PRELOAD-HINT:')) {
      const a = attributes(line.slice('#EXT-X-PRELOAD-HINT:'.length));
      expect(a.TYPE).toBe('PART');
      hint = a.URI;
    } else if (line.startsWith('#EXT-X-RENDITION-REPORT:')) {
      const a = attributes(line.slice('#EXT-X-RENDITION-REPORT:'.length));
      reports.push({
        uri: a.URI as string,
        lastMsn: Number(a['LAST-MSN']),
        lastPart: Number(a['LAST-PART']),
      });
    } else if (line.startsWith('#EXT-X-SKIP:')) {
      skipped = Number(attributes(line.slice('#EXT-X-SKIP:'.length))['SKIPPED-SEGMENTS']);
    } else if (!line.startsWith('#') && line !== '') {
      segments.push({ duration: duration as number, uri: line, parts });
      parts = [];
    }
  }
  const tag = (name: string): string | undefined =>
    lines.find((l) => l.startsWith(`${name}:`))?.slice(name.length + 1);
  return {
    lines,
    tag,
    mediaSequence: Number(tag('#EXT-X-MEDIA-SEQUENCE')),
    segments,
    partial: parts,
    hint,
    reports,
    skipped,
  };
}

describe('publishing point options', () => {
  it('hls.low_latency is off by default; hls.part_duration defaults to 0.5 s and stays sane', () => {
    expect(resolvePpOptions({})).toMatchObject({ hlsLowLatency: false, hlsPartDuration: 0.5 });
    expect(resolvePpOptions({ 'hls.low_latency': 'true' }).hlsLowLatency).toBe(true);
    expect(resolvePpOptions({ 'hls.part_duration': '0.01' }).hlsPartDuration).toBe(0.1);
    expect(resolvePpOptions({ 'hls.part_duration': '5', fragment_duration: '6' }).hlsPartDuration).toBe(2);
    // At least two parts per segment.
    expect(resolvePpOptions({ 'hls.part_duration': '1.5', fragment_duration: '2' }).hlsPartDuration).toBe(1);
    expect(resolvePpOptions({ 'hls.part_duration': 'soon' }).hlsPartDuration).toBe(0.5);
  });

  it('makes segments of fragment_duration for both formats, or of their longer minimum length', () => {
    expect(groupLength({ fragment_duration: '2' }, 'hls')).toBe(0);
    expect(groupLength({ 'hls.low_latency': 'true', fragment_duration: '2' }, 'hls')).toBe(2000);
    expect(groupLength({ 'hls.low_latency': 'true', fragment_duration: '2' }, 'mpd')).toBe(2000);
    expect(
      groupLength(
        { 'hls.low_latency': 'true', fragment_duration: '2', 'mpd.minimum_fragment_length': '4' },
        'mpd',
      ),
    ).toBe(4000);
  });
});

describe('the transcoder with low latency', () => {
  // The default ladder: the source passed through, 720p and 360p transcoded with key frames from the source.
  const profile = loadDefaultProfile();
  const source = {
    hasVideo: true,
    hasAudio: true,
    width: 1280,
    height: 720,
    videoCodec: 'h264',
    audioCodec: 'aac',
  };
  /** The fragmenting options of each output, in order. */
  const outputs = (args: string[]): string[][] => {
    const out: string[][] = [];
    let current: string[] = [];
    args.forEach((a, i) => {
      if (['-movflags', '-frag_duration', '-min_frag_duration'].includes(a))
        current.push(a, args[i + 1] as string);
      if (a.startsWith('pipe:') && a !== 'pipe:1') {
        out.push(current);
        current = [];
      }
    });
    return out;
  };

  it('asks for fragments of the part duration and keeps key frames where they were', () => {
    const regular = planTranscode(profile, source, { inputUrl: 'rtmp://x/y', fragmentDuration: 2 });
    const ll = planTranscode(profile, source, {
      inputUrl: 'rtmp://x/y',
      fragmentDuration: 2,
      partDuration: 0.5,
    });
    expect(ll.tracks).toEqual(regular.tracks);
    const flags = '+frag_keyframe+empty_moov+default_base_moof+skip_trailer+frag_discont';
    for (const [i, t] of ll.tracks.entries()) {
      expect(outputs(ll.args)[i]).toEqual(
        t.kind === 'video'
          ? ['-movflags', flags, '-frag_duration', '500000']
          : ['-movflags', flags.replace('+frag_keyframe', ''), '-frag_duration', '500000'],
      );
      expect(outputs(regular.args)[i]).toEqual(
        t.kind === 'video'
          ? ['-movflags', flags, '-min_frag_duration', '1800000']
          : ['-movflags', flags.replace('+frag_keyframe', ''), '-frag_duration', '2000000'],
      );
    }
    // The key frames of the transcoded rendition still follow the source: one GOP per segment.
    const keyFrames = (args: string[]) => args[args.indexOf('-force_key_frames') + 1];
    expect(keyFrames(ll.args)).toBe('source');
    expect(keyFrames(ll.args)).toBe(keyFrames(regular.args));
    // Only the fragmenting differs.
    const strip = (args: string[]) =>
      args.filter(
        (a, i) =>
          !['-frag_duration', '-min_frag_duration'].includes(a) &&
          !['-frag_duration', '-min_frag_duration'].includes(args[i - 1] as string),
      );
    expect(strip(ll.args)).toEqual(strip(regular.args));
    expect(() =>
      planTranscode(profile, source, { inputUrl: 'rtmp://x/y', fragmentDuration: 2, partDuration: 2 }),
    ).toThrow(RangeError);
  });
});

describe('fragment files', () => {
  it('names a part without a key frame so the index can tell', () => {
    const storage = new OriginStorage(fs.mkdtempSync('/tmp/ecdn-ll-'));
    expect(storage.fragmentFile('video_source', 1234)).toBe('video_source/1234.m4s');
    expect(storage.fragmentFile('video_source', 1234, false)).toBe('video_source/1234.d.m4s');
    expect(isIndependentFile('video_source/1234.m4s')).toBe(true);
    expect(isIndependentFile('video_source/1234.d.m4s')).toBe(false);
    expect(storage.resolve('pp', 'video_source/1234.d.m4s')).toMatch(/1234\.d\.m4s$/);
    expect(() => storage.resolve('pp', 'video_source/1234.x.m4s')).toThrow();
    fs.rmSync(storage.root, { recursive: true, force: true });
  });

  it('the ingest shares its waiters with the origin of the same index', () => {
    const s = testIndex({}, T0);
    const ingest = new FragmentWriter(s.index, new OriginStorage(s.dir), log);
    expect(ingest.waiters).toBe(FragmentWaiters.for(s.index));
  });
});

describe('the low-latency media playlist', () => {
  it('carries the low-latency tags with valid values', async () => {
    const s = setup();
    s.addSeconds(21);
    const r = await s.get('tracks/video_source.m3u8');
    expect(r.statusCode).toBe(200);
    const p = parse(r.body);
    expect(p.tag('#EXT-X-VERSION')).toBe('9');
    expect(p.tag('#EXT-X-TARGETDURATION')).toBe('2');
    expect(p.tag('#EXT-X-PART-INF')).toBe('PART-TARGET=0.500');
    const control = attributes(p.tag('#EXT-X-SERVER-CONTROL') as string);
    expect(control).toEqual({
      'CAN-BLOCK-RELOAD': 'YES',
      'CAN-SKIP-UNTIL': '12.000',
      // lookahead_fragments 2: three segments behind the newest.
      'HOLD-BACK': '6.000',
      'PART-HOLD-BACK': '1.500',
    });
    expect(Number(control['PART-HOLD-BACK'])).toBeGreaterThanOrEqual(3 * 0.5);
    expect(p.lines).not.toContain('#EXT-X-ENDLIST');
  });

  it('makes segments of whole GOPs that start with a key frame, whose parts add up to them', async () => {
    const s = setup();
    s.addSeconds(21);
    const p = parse((await s.get('tracks/video_source.m3u8')).body);
    // Key frames every 2 s from 100.25 s: 10 complete segments, the 11th in progress with two parts.
    expect(p.segments).toHaveLength(10);
    expect(p.mediaSequence).toBe(50);
    p.segments.forEach((seg, i) => {
      expect(seg.duration).toBe(2);
      expect(seg.uri).toBe(`video_source/g2000-${VIDEO_START + i * 4 * VIDEO_PART}.m4s`);
    });
    // Parts of the segments in the last three target durations (6 s), each part one fragment.
    const withParts = p.segments.filter((seg) => seg.parts.length > 0);
    expect(withParts).toEqual(p.segments.slice(-3));
    for (const seg of withParts) {
      expect(seg.parts).toHaveLength(4);
      expect(seg.parts.reduce((sum, x) => sum + x.duration, 0)).toBeCloseTo(seg.duration, 3);
      expect(seg.parts.map((x) => x.independent)).toEqual([true, false, false, false]);
    }
    expect(p.partial.map((x) => x.uri)).toEqual(['video_source/n41.m4s', 'video_source/n42.m4s']);
    expect(p.partial.map((x) => x.independent)).toEqual([true, false]);
    expect(p.partial.every((x) => x.duration === 0.5)).toBe(true);
    // The hint names the next part, which does not exist yet.
    expect(p.hint).toBe('video_source/n43.m4s');
    expect((await s.get(`tracks/video_source/n42.m4s`)).statusCode).toBe(200);
  });

  it('serves every part and segment it lists; a segment is its parts one after another', async () => {
    const s = setup();
    s.addSeconds(21);
    const p = parse((await s.get('tracks/video_source.m3u8')).body);
    for (const seg of p.segments.filter((x) => x.parts.length > 0)) {
      const parts = await Promise.all(seg.parts.map((x) => s.get(`tracks/${x.uri}`)));
      expect(parts.map((x) => x.statusCode)).toEqual([200, 200, 200, 200]);
      expect(parts.every((x) => x.headers['cache-control'] === 'public, max-age=31536000, immutable')).toBe(
        true,
      );
      const whole = await s.get(`tracks/${seg.uri}`);
      expect(whole.statusCode).toBe(200);
      expect(whole.rawPayload.equals(Buffer.concat(parts.map((x) => x.rawPayload)))).toBe(true);
      expect(whole.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    }
  });

  it('gives audio a part target its whole AAC frames fit in, every part independent', async () => {
    const s = setup();
    s.addSeconds(21);
    const p = parse((await s.get('tracks/audio_source.m3u8')).body);
    expect(p.tag('#EXT-X-PART-INF')).toBe('PART-TARGET=0.512');
    expect(attributes(p.tag('#EXT-X-SERVER-CONTROL') as string)['PART-HOLD-BACK']).toBe('1.536');
    const parts = [...p.segments.flatMap((x) => x.parts), ...p.partial];
    expect(parts.length).toBeGreaterThan(4);
    expect(parts.every((x) => x.independent && x.duration <= 0.512)).toBe(true);
    for (const seg of p.segments.filter((x) => x.parts.length > 0))
      expect(seg.parts.reduce((sum, x) => sum + x.duration, 0)).toBeCloseTo(seg.duration, 2);
    expect(p.reports).toEqual([]);
  });

  it('reports the other renditions of the same kind where they end', async () => {
    const s = setup();
    s.addSeconds(21);
    s.add('video_360', 3); // one more segment complete and a part of the next
    const source = parse((await s.get('tracks/video_source.m3u8')).body);
    const other = parse((await s.get('tracks/video_360.m3u8')).body);
    expect(source.reports).toEqual([{ uri: 'video_360.m3u8', lastMsn: 61, lastPart: 0 }]);
    // What video_360's own playlist says: its last segment in progress and that segment's last part.
    expect(other.mediaSequence + other.segments.length).toBe(61);
    expect(other.partial).toHaveLength(1);
    expect(other.reports).toEqual([{ uri: 'video_source.m3u8', lastMsn: 60, lastPart: 1 }]);
  });

  it('gives the master playlist the peak bit rate of a segment, not of a key frame part', async () => {
    const s = setup();
    s.addSeconds(21);
    const master = (await s.get('.m3u8')).body;
    // Video: 40 000 + 3 × 10 000 bytes per 2 s segment (a key frame part alone would be 640 kbit/s); audio:
    // 8 000 bytes per 0.512 s.
    expect(master).toContain('BANDWIDTH=405000,RESOLUTION=640x360');
    expect(master).toMatch(/#EXT-X-VERSION:7\n/);
    expect(master).not.toContain('PART');
  });

  it('keeps the master and the MPD back until every track has a complete segment', async () => {
    const s = setup();
    s.add('video_source', 4);
    s.add('video_360', 4);
    s.add('audio_source', 4);
    // One GOP each, but no part of the next yet: no segment is complete.
    expect((await s.get('.m3u8')).statusCode).toBe(404);
    expect((await s.get('.mpd')).statusCode).toBe(404);
    expect((await s.get('tracks/video_source.m3u8')).statusCode).toBe(404);
    s.add('video_source');
    s.add('video_360');
    // Like the master, media playlists wait for the whole presentation.
    expect((await s.get('tracks/video_source.m3u8')).statusCode).toBe(404);
    expect((await s.get('.m3u8')).statusCode).toBe(404);
    s.add('audio_source');
    const master = await s.get('.m3u8');
    expect(master.statusCode).toBe(200);
    expect(master.body.match(/#EXT-X-STREAM-INF/g)).toHaveLength(2);
    expect((await s.get('.mpd')).statusCode).toBe(200);
    expect((await s.get('tracks/video_source.m3u8')).statusCode).toBe(200);
  });

  it('ends a subclip before a GOP it cuts', async () => {
    const s = setup();
    s.addSeconds(21);
    const at = (seconds: number) => ((s.pp.epoch + seconds * 1000) / 1000).toFixed(3);
    // 104.25 s to 109 s: two GOPs whole, the third cut after two of its parts.
    const clip = parse((await s.get(`tracks/video_source.m3u8?vbegin=${at(104.25)}&vend=${at(109)}`)).body);
    expect(clip.lines).toContain('#EXT-X-ENDLIST');
    expect(clip.segments.map((x) => x.duration)).toEqual([2, 2]);
    expect(clip.lines).not.toContain('#EXT-X-PART-INF:PART-TARGET=0.500');
  });

  it('answers a delta update with the segments before the skip boundary skipped', async () => {
    const s = setup();
    s.addSeconds(21);
    const full = parse((await s.get('tracks/video_source.m3u8')).body);
    const delta = parse((await s.get('tracks/video_source.m3u8?_HLS_skip=YES')).body);
    // The playlist ends at 121.25 s; CAN-SKIP-UNTIL is 12 s: the segments that end by 109.25 s are skipped.
    expect(delta.skipped).toBe(4);
    expect(delta.mediaSequence).toBe(full.mediaSequence);
    expect(delta.segments).toEqual(full.segments.slice(4));
    expect(delta.partial).toEqual(full.partial);
    expect(delta.hint).toBe(full.hint);
    const lastSkippedEnd = 100.25 + 4 * 2;
    expect(121.25 - lastSkippedEnd).toBeGreaterThanOrEqual(12);
    expect(delta.lines.indexOf('#EXT-X-SKIP:SKIPPED-SEGMENTS=4')).toBeGreaterThan(
      delta.lines.findIndex((l) => l.startsWith('#EXT-X-MAP')),
    );
    expect(parse((await s.get('tracks/video_source.m3u8?_HLS_skip=v2')).body).skipped).toBe(4);
  });

  it('skips nothing when the playlist is shorter than the skip boundary', async () => {
    const s = setup({ dvr_window_length: '10' });
    s.addSeconds(21);
    const r = await s.get('tracks/video_source.m3u8?_HLS_skip=YES');
    expect(r.statusCode).toBe(200);
    expect(r.body).not.toContain('#EXT-X-SKIP');
    expect(r.body).toBe((await s.get('tracks/video_source.m3u8')).body);
  });

  it('starts the window at a key frame when the DVR window cuts a GOP, and drops parts whose key frame is gone', () => {
    const s = setup({ dvr_window_length: '7.5' });
    s.addSeconds(21);
    const pp = s.index.getPublishingPoint(s.pp.name) as typeof s.pp;
    const view = livePresentation(s.index, pp);
    const video = view.tracks.find((t) => t.trackName === 'video_source');
    // The window starts inside a GOP ...
    expect(video?.fragments[0]?.independent).toBe(false);
    const grouped = groupView(s.index, pp.name, view, 2000, { lowLatency: true });
    const g = grouped.tracks.find((t) => t.trackName === 'video_source');
    // ... and the first segment is completed from the index back to its key frame.
    expect(g?.fragments[0]?.parts?.[0]?.independent).not.toBe(false);
    expect(((g?.fragments[0]?.mediaTime as number) - VIDEO_START) % (4 * VIDEO_PART)).toBe(0);
    // Once that key frame is deleted, the parts after it are left out rather than listed undecodable.
    const first = g?.fragments[0]?.mediaTime as number;
    const row = s.index.fragmentByTime(s.tracks.video_source?.id as number, first);
    s.index.deleteFragments([row?.id as number]);
    const again = groupView(s.index, pp.name, livePresentation(s.index, pp), 2000, { lowLatency: true });
    const h = again.tracks.find((t) => t.trackName === 'video_source');
    expect(h?.fragments[0]?.mediaTime).toBe(first + 4 * VIDEO_PART);
  });

  it('is a regular playlist again once the encoder stopped, and with a time shift', async () => {
    const s = setup();
    s.addSeconds(21);
    const shifted = await s.get('tracks/video_source.m3u8?time_shift=4&_HLS_msn=99');
    expect(shifted.statusCode).toBe(200);
    expect(shifted.body).toMatch(/#EXT-X-VERSION:7\n/);
    expect(shifted.body).not.toMatch(/EXT-X-PART|PRELOAD-HINT|CAN-BLOCK-RELOAD/);
    for (const t of Object.values(s.tracks)) s.index.setTrackState(t.id, 'stopped');
    s.index.setState(s.pp.name, 'stopped');
    const stopped = parse((await s.get('tracks/video_source.m3u8?_HLS_msn=99&_HLS_part=0')).body);
    expect(stopped.lines).toContain('#EXT-X-ENDLIST');
    expect(stopped.tag('#EXT-X-VERSION')).toBe('7');
    // The segment that was in progress is complete now.
    expect(stopped.segments).toHaveLength(11);
    expect(stopped.segments[10]?.duration).toBe(1);
  });

  it('leaves the playout query and signed URLs working next to the delivery directives', async () => {
    expect(
      parsePlayout({ _HLS_msn: '3', _HLS_part: '1', _HLS_skip: 'YES', dvr_window_length: '10' }),
    ).toEqual({
      kind: 'live',
      dvrWindow: 10,
    });
    const s = setup({}, 'secure');
    s.addSeconds(21);
    const signed = signQuery(key, { scope: s.base, expiresAt: Math.floor(Date.now() / 1000) + 3600 });
    const unsigned = await s.get('tracks/video_source.m3u8?_HLS_msn=60&_HLS_part=1');
    expect(unsigned.statusCode).toBe(403);
    const r = await s.get(`tracks/video_source.m3u8?_HLS_msn=60&_HLS_part=1&_HLS_skip=YES&${signed}`);
    expect(r.statusCode).toBe(200);
    const p = parse(r.body);
    expect(p.skipped).toBe(4);
    // Child URLs carry the signature, never the delivery directives.
    expect(p.hint).toBe(`video_source/n43.m4s?${signed}`);
    expect(p.reports[0]?.uri).toBe(`video_360.m3u8?${signed}`);
    expect(r.body).not.toContain('_HLS_');
    expect((await s.get(`tracks/${p.partial[0]?.uri}`)).statusCode).toBe(200);
  });
});

describe('delivery directives', () => {
  it('reads _HLS_msn, _HLS_part and _HLS_skip, and refuses what makes no sense', () => {
    expect(parseDeliveryDirectives({})).toEqual({ skip: false });
    expect(parseDeliveryDirectives({ _HLS_msn: '12', _HLS_part: '0', _HLS_skip: 'v2', sig: 'x' })).toEqual({
      msn: 12,
      part: 0,
      skip: true,
    });
    for (const bad of [
      { _HLS_part: '1' },
      { _HLS_msn: '-1' },
      { _HLS_msn: '1.5' },
      { _HLS_skip: 'NO' },
      { _HLS_msn: ['1', '2'] },
    ])
      expect(() => parseDeliveryDirectives(bad)).toThrow(/_HLS_/);
  });

  it('knows which segment and part a view holds', () => {
    const s = setup();
    s.addSeconds(21);
    const pp = s.index.getPublishingPoint(s.pp.name) as typeof s.pp;
    const view = groupView(s.index, pp.name, livePresentation(s.index, pp), 2000, { lowLatency: true });
    const t = view.tracks.find((x) => x.trackName === 'video_source');
    if (!t) throw new Error('no track');
    expect(playlistEdge(t)).toEqual({ msn: 60, part: 1 });
    expect(holds(t, 59)).toBe(true);
    expect(holds(t, 60)).toBe(false);
    expect(holds(t, 60, 1)).toBe(true);
    expect(holds(t, 60, 2)).toBe(false);
    expect(holds(t, 12, 3)).toBe(true);
    // Past the last part of a complete segment: the first part of the next one.
    expect(holds(t, 59, 4)).toBe(true);
    expect(holds(t, 59, 9)).toBe(true);
    expect(tooFarAhead(t, { msn: 62, skip: false }, 0.5)).toBeUndefined();
    expect(tooFarAhead(t, { msn: 63, skip: false }, 0.5)).toMatch(/more than two segments/);
    // Advance Part Limit: 3 / 0.5 = 6 parts past the last one.
    expect(tooFarAhead(t, { msn: 60, part: 7, skip: false }, 0.5)).toBeUndefined();
    expect(tooFarAhead(t, { msn: 60, part: 8, skip: false }, 0.5)).toMatch(/more than 6 parts/);
    const rendered = renderMediaPlaylist({ ...view, lowLatency: { partTarget: 0.5 } }, 'video_source');
    expect(rendered).toContain('#EXT-X-PRELOAD-HINT:TYPE=PART,URI="video_source/n43.m4s"');
  });
});

describe('blocking playlist reload', () => {
  const pending = async (r: Promise<unknown>): Promise<boolean> => {
    const marker = Symbol('pending');
    const first = await Promise.race([r, new Promise((res) => setTimeout(() => res(marker), 50))]);
    return first === marker;
  };

  it('holds a request for the next part until that part is indexed, and answers with it', async () => {
    const s = setup();
    s.addSeconds(21);
    const waiters = FragmentWaiters.for(s.index);
    const r = s.get('tracks/video_source.m3u8?_HLS_msn=60&_HLS_part=2');
    expect(await pending(r)).toBe(true);
    expect(waiters.size).toBe(1);
    // Another track's part does not release it.
    s.add('video_360');
    expect(await pending(r)).toBe(true);
    s.add('video_source');
    const res = await r;
    expect(res.statusCode).toBe(200);
    const p = parse(res.body);
    expect(p.partial.map((x) => x.uri)).toEqual([
      'video_source/n41.m4s',
      'video_source/n42.m4s',
      'video_source/n43.m4s',
    ]);
    expect(p.hint).toBe('video_source/n44.m4s');
    expect(waiters.size).toBe(0);
  });

  it('holds a request for a whole segment until it is complete; a part past a segment is the next one', async () => {
    const s = setup();
    s.addSeconds(21);
    const segment = s.get('tracks/video_source.m3u8?_HLS_msn=60');
    const nextSegmentsPart = s.get('tracks/video_source.m3u8?_HLS_msn=60&_HLS_part=4');
    s.add('video_source', 2); // parts 2 and 3 of segment 60
    expect(await pending(segment)).toBe(true);
    expect(await pending(nextSegmentsPart)).toBe(true);
    s.add('video_source'); // the key frame of segment 61: 60 is complete
    const [a, b] = await Promise.all([segment, nextSegmentsPart]);
    expect(a.statusCode).toBe(200);
    expect(b.statusCode).toBe(200);
    const p = parse(a.body);
    expect(p.mediaSequence + p.segments.length - 1).toBe(60);
    expect(p.segments.at(-1)?.parts.map((x) => x.uri)).toEqual(
      [41, 42, 43, 44].map((n) => `video_source/n${n}.m4s`),
    );
    expect(p.partial.map((x) => x.uri)).toEqual(['video_source/n45.m4s']);
  });

  it('answers at once what it already holds, and 400 for what is too far ahead', async () => {
    const s = setup();
    s.addSeconds(21);
    expect((await s.get('tracks/video_source.m3u8?_HLS_msn=60&_HLS_part=1')).statusCode).toBe(200);
    expect((await s.get('tracks/video_source.m3u8?_HLS_msn=3')).statusCode).toBe(200);
    const far = await s.get('tracks/video_source.m3u8?_HLS_msn=63');
    expect(far.statusCode).toBe(400);
    expect(far.headers['cache-control']).toBe('no-store');
    expect((await s.get('tracks/video_source.m3u8?_HLS_msn=60&_HLS_part=8')).statusCode).toBe(400);
    expect((await s.get('tracks/video_source.m3u8?_HLS_part=1')).statusCode).toBe(400);
    expect((await s.get('tracks/video_source.m3u8?_HLS_msn=abc')).statusCode).toBe(400);
    expect(FragmentWaiters.for(s.index).size).toBe(0);
  });

  it('gives up with a 503 after three target durations', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const s = setup();
    s.addSeconds(21);
    const r = s.get('tracks/video_source.m3u8?_HLS_msn=61');
    await vi.advanceTimersByTimeAsync(5_900);
    expect(FragmentWaiters.for(s.index).size).toBe(1);
    await vi.advanceTimersByTimeAsync(200);
    const res = await r;
    expect(res.statusCode).toBe(503);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(FragmentWaiters.for(s.index).size).toBe(0);
  });

  it('answers at once when the track ends, and when the origin closes', async () => {
    const s = setup();
    s.addSeconds(21);
    const r = s.get('tracks/video_source.m3u8?_HLS_msn=61');
    expect(await pending(r)).toBe(true);
    s.index.setTrackState(s.tracks.video_source?.id as number, 'stopped');
    FragmentWaiters.for(s.index).wake(s.pp.name, 'video_source', 'ended');
    const ended = await r;
    expect(ended.statusCode).toBe(200);
    // The track's last segment is complete: nothing is in progress any more.
    expect(parse(ended.body).partial).toEqual([]);

    const blocked = s.get('tracks/video_360.m3u8?_HLS_msn=61');
    expect(await pending(blocked)).toBe(true);
    const started = Date.now();
    await s.app.close();
    const res = await blocked;
    expect(res.statusCode).toBe(503);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(FragmentWaiters.for(s.index).size).toBe(0);
  });
});

describe('preload-hinted parts', () => {
  it('are answered when they arrive; other missing parts are 404 at once', async () => {
    const s = setup();
    s.addSeconds(21);
    const hinted = s.get('tracks/video_source/n43.m4s');
    const marker = Symbol('pending');
    expect(await Promise.race([hinted, new Promise((res) => setTimeout(() => res(marker), 50))])).toBe(
      marker,
    );
    expect((await s.get('tracks/video_source/n44.m4s')).statusCode).toBe(404);
    expect((await s.get('tracks/video_source/n7.m4s')).statusCode).toBe(200);
    s.add('video_source');
    const res = await hinted;
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.length).toBe(10_000);
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  it('are a 404 when they do not come within three part durations', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const s = setup();
    s.addSeconds(21);
    const hinted = s.get('tracks/video_source/n43.m4s');
    await vi.advanceTimersByTimeAsync(1_600);
    const res = await hinted;
    expect(res.statusCode).toBe(404);
    expect(res.headers['cache-control']).toBe('no-cache');
  });

  it('are not waited for without low latency', async () => {
    const s = setup({ 'hls.low_latency': 'false' });
    s.addSeconds(4);
    expect((await s.get('tracks/video_source/n9.m4s')).statusCode).toBe(404);
    expect(FragmentWaiters.for(s.index).size).toBe(0);
  });
});

describe('DASH from the same parts', () => {
  it('lists segments of whole GOPs, each starting with a key frame, that the origin serves', async () => {
    const s = setup();
    s.addSeconds(21);
    const mpd = (await s.get('.mpd')).body;
    expect(mpd).toContain('media="tracks/$RepresentationID$/g2000-$Time$.m4s"');
    const video = /<Representation id="video_source"[\s\S]*?<\/Representation>/.exec(mpd)?.[0] ?? '';
    expect(video).toContain(`<S t="${VIDEO_START}" d="32000" r="9"/>`);
    const start = VIDEO_START + 9 * 32_000;
    expect((await s.get(`tracks/video_source/g2000-${start}.m4s`)).statusCode).toBe(200);
    // The segment in progress is not listed, and a URL inside a GOP is not a segment.
    expect(video).not.toContain(`t="${start + 32_000}"`);
    expect((await s.get(`tracks/video_source/g2000-${VIDEO_START + VIDEO_PART}.m4s`)).statusCode).toBe(404);
  });
});
