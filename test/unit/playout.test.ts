import { afterEach, describe, expect, it, vi } from 'vitest';
import { renderMpd } from '../../main/origin/dash.js';
import { renderMasterPlaylist, renderMediaPlaylist } from '../../main/origin/hls.js';
import type { PresentationView, TrackView } from '../../main/origin/manifest-model.js';
import {
  parsePlayout,
  playoutPresentation,
  MAX_SUBCLIP_FRAGMENTS,
  PlayoutError,
  type Playout,
  type PlayoutQuery,
} from '../../main/origin/playout.js';
import { livePresentation } from '../../main/origin/presentation.js';
import { type PublishingPointRecord, type TrackRecord } from '../../main/origin/segment-index.js';
import { closeTestIndexes, testIndex } from '../helpers/index-fixtures.js';

afterEach(() => {
  vi.restoreAllMocks();
  closeTestIndexes();
});

/** Media time 0 of the publishing points below: 2024-05-01T10:00:00Z. */
const EPOCH = Date.UTC(2024, 4, 1, 10, 0, 0);
const NOW = EPOCH + 60_000;
const at = (seconds: number): string => new Date(EPOCH + seconds * 1000).toISOString();

function setup(options: Record<string, string> = {}) {
  // createPublishingPoint sets the epoch TIMELINE_LEAD_MS (10 s) before creation.
  const { db, index, pp: created, track } = testIndex(options, EPOCH + 10_000);
  expect(created.epoch).toBe(EPOCH);
  /** 2 s fragments starting at `starts` (seconds since the epoch); `gapAt`: the start that follows a gap. */
  const fill = (t: TrackRecord, starts: number[], gapAt?: number): void => {
    for (const s of starts) {
      const mediaTime = Math.round(s * t.timescale);
      index.addFragment({
        trackId: t.id,
        mediaTime,
        duration: 2 * t.timescale,
        utc: EPOCH + s * 1000,
        size: 250_000,
        file: `${t.trackName}/${mediaTime}.m4s`,
        discontinuity: s === gapAt,
        serverIndex: 0,
      });
    }
  };
  const pp = (): PublishingPointRecord => index.getPublishingPoint(created.name) as PublishingPointRecord;
  return { db, index, pp, track, fill };
}

const range = (from: number, to: number): number[] =>
  Array.from({ length: Math.ceil((to - from) / 2) }, (_, i) => from + 2 * i);

/**
 * Two tracks of 2 s fragments with a 10 s gap (20 s .. 30 s); the audio started 4 s before the
 * video, so the same instant has a different sequence number in each track:
 * video 4 .. 18 (seq 1-8), 30 .. 48 (seq 9-18); audio 0 .. 18 (seq 1-10), 30 .. 48 (seq 11-20).
 * Live edge: 50 s. The publishing point's DVR window: 20 s.
 */
function archive(options: Record<string, string> = {}) {
  const s = setup({ dvr_window_length: '20', fragment_duration: '2', ...options });
  const video = s.track('video_source', 'video', 15360);
  const audio = s.track('audio_source', 'audio', 48000);
  s.fill(video, [...range(4, 20), ...range(30, 50)], 30);
  s.fill(audio, [...range(0, 20), ...range(30, 50)], 30);
  s.index.setTrackState(video.id, 'started');
  s.index.setTrackState(audio.id, 'started');
  s.index.setState(s.pp().name, 'started');
  return s;
}

/** A track's fragment starts, in seconds since the epoch. */
function starts(view: PresentationView, trackName: string): number[] {
  const t = view.tracks.find((x) => x.trackName === trackName) as TrackView;
  expect(t, trackName).toBeDefined();
  return t.fragments.map((f) => f.mediaTime / t.timescale);
}

function track(view: PresentationView, trackName: string): TrackView {
  return view.tracks.find((x) => x.trackName === trackName) as TrackView;
}

type Setup = ReturnType<typeof setup>;

function view(s: Setup, playout: Playout) {
  return playoutPresentation(s.index, s.pp(), playout, { now: NOW });
}

describe('parsePlayout', () => {
  it('reads the live parameters, ignoring everything else', () => {
    expect(parsePlayout({})).toEqual({ kind: 'live' });
    expect(parsePlayout({ sig: 'abc', other: ['1', '2'] })).toEqual({ kind: 'live' });
    expect(parsePlayout({ dvr_window_length: '10', time_shift: '60' })).toEqual({
      kind: 'live',
      dvrWindow: 10,
      timeShift: 60,
    });
    expect(parsePlayout({ dvr_window_length: '2.5', time_shift: '0' })).toEqual({
      kind: 'live',
      dvrWindow: 2.5,
      timeShift: 0,
    });
    expect(parsePlayout({ time_shift: ['30'] })).toEqual({ kind: 'live', timeShift: 30 });
  });

  it('reads vbegin/vend as ISO 8601 (Z, no zone = UTC, offsets, fractions) or epoch seconds', () => {
    const from = Date.UTC(2024, 4, 1, 10, 0, 30);
    const to = Date.UTC(2024, 4, 1, 10, 0, 40);
    const vod = { kind: 'vod', from, to };
    expect(parsePlayout({ vbegin: '2024-05-01T10:00:30Z', vend: '2024-05-01T10:00:40Z' })).toEqual(vod);
    expect(parsePlayout({ vbegin: '2024-05-01T10:00:30', vend: '2024-05-01T10:00:40' })).toEqual(vod);
    expect(parsePlayout({ vbegin: String(from / 1000), vend: String(to / 1000) })).toEqual(vod);
    expect(parsePlayout({ vbegin: '2024-05-01T12:00:30+02:00', vend: '2024-05-01T05:00:40-0500' })).toEqual(
      vod,
    );
    // An unencoded '+' arrives as a space.
    expect(parsePlayout({ vbegin: '2024-05-01T12:00:30 02:00', vend: '2024-05-01T10:00:40Z' })).toEqual(vod);
    expect(parsePlayout({ vbegin: '2024-05-01T10:00:30.250Z', vend: '1714557640.5' })).toEqual({
      kind: 'vod',
      from: from + 250,
      to: to + 500,
    });
    expect(parsePlayout({ vbegin: '2024-05-01', vend: '2024-05-01T10:00' })).toEqual({
      kind: 'vod',
      from: Date.UTC(2024, 4, 1),
      to: Date.UTC(2024, 4, 1, 10),
    });
  });

  it('opens a subclip to the live edge without vend, and from the start without vbegin', () => {
    expect(parsePlayout({ vbegin: '1714557630' })).toEqual({
      kind: 'vod',
      from: 1714557630000,
      to: Infinity,
    });
    expect(parsePlayout({ vend: '1714557640' })).toEqual({ kind: 'vod', from: 0, to: 1714557640000 });
  });

  const invalid: [string, PlayoutQuery, RegExp][] = [
    ['dvr zero', { dvr_window_length: '0' }, /dvr_window_length must be a number of seconds > 0, got '0'/],
    ['dvr negative', { dvr_window_length: '-5' }, /dvr_window_length .* got '-5'/],
    ['dvr not a number', { dvr_window_length: 'ten' }, /dvr_window_length .* got 'ten'/],
    ['dvr hex', { dvr_window_length: '0x10' }, /dvr_window_length/],
    ['dvr empty', { dvr_window_length: '' }, /dvr_window_length is empty/],
    ['time_shift negative', { time_shift: '-1' }, /time_shift must be a number of seconds >= 0, got '-1'/],
    ['time_shift infinite', { time_shift: 'Infinity' }, /time_shift .* got 'Infinity'/],
    ['time_shift twice', { time_shift: ['10', '20'] }, /time_shift is given 2 times/],
    ['vbegin words', { vbegin: 'yesterday' }, /vbegin 'yesterday' is not a valid time: use ISO 8601/],
    [
      'vbegin no such day',
      { vbegin: '2024-02-30T10:00:00Z' },
      /vbegin '2024-02-30T10:00:00Z' is not a valid date/,
    ],
    ['vend bad hour', { vend: '2024-05-01T25:00:00Z' }, /vend .* is not a valid time of day/],
    ['vend bad offset', { vend: '2024-05-01T10:00:00+24:00' }, /vend .* is not a valid time of day/],
    ['vbegin epoch ms', { vbegin: '1714557630000' }, /epoch times are seconds, not milliseconds/],
    ['vbegin negative', { vbegin: '-60' }, /vbegin '-60' is not a valid time/],
    ['vbegin before 1970', { vbegin: '1969-12-31T00:00:00Z' }, /is before 1970/],
    ['vbegin empty', { vbegin: ' ' }, /vbegin is empty/],
    [
      'vbegin after vend',
      { vbegin: '2024-05-01T10:00:40Z', vend: '2024-05-01T10:00:30Z' },
      /vbegin \(2024-05-01T10:00:40.000Z\) must be before vend \(2024-05-01T10:00:30.000Z\)/,
    ],
    ['vbegin equals vend', { vbegin: '1714557630', vend: '2024-05-01T10:00:30Z' }, /must be before vend/],
    ['vend at the epoch', { vend: '0' }, /vend \(1970-01-01T00:00:00.000Z\) must be after the start/],
    [
      'time_shift with a subclip',
      { time_shift: '10', vbegin: '1714557630' },
      /time_shift cannot be combined with vbegin/,
    ],
    [
      'dvr with a subclip',
      { dvr_window_length: '10', vend: '1714557630' },
      /dvr_window_length cannot be combined with vend/,
    ],
  ];
  it.each(invalid)('rejects %s with a PlayoutError saying why', (_name, query, message) => {
    let error: unknown;
    try {
      parsePlayout(query);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(PlayoutError);
    expect((error as PlayoutError).code).toBe('PLAYOUT_INVALID');
    expect((error as PlayoutError).statusCode).toBe(400);
    expect((error as PlayoutError).message).toMatch(message);
  });

  it('rejects a hand-built playout that parsePlayout would refuse', () => {
    const s = archive();
    expect(() => view(s, { kind: 'vod', from: 10, to: 10 })).toThrow(PlayoutError);
    expect(() => view(s, { kind: 'live', timeShift: -1 })).toThrow(PlayoutError);
    expect(() => view(s, { kind: 'live', dvrWindow: 0 })).toThrow(PlayoutError);
  });
});

describe('playoutPresentation: live', () => {
  it('without a shift is the live DVR window', () => {
    const s = archive();
    const live = view(s, parsePlayout({}));
    expect(live).toEqual(livePresentation(s.index, s.pp(), { now: NOW }));
    expect(live && starts(live, 'video_source')).toEqual([30, 32, 34, 36, 38, 40, 42, 44, 46, 48]);
  });

  it('ends time_shift seconds before the live edge, every track at the same times, and stays live', () => {
    const s = archive();
    const v = view(s, parsePlayout({ time_shift: '10' }));
    expect(v).not.toBeNull();
    if (!v) return;
    expect(v.live).toBe(true);
    expect(v.vod).toBeUndefined();
    expect(v.complete).toBe(true);
    // Edge 50 s, shifted to 40 s; the 20 s window reaches back into the gap, so it starts at 30 s.
    expect(starts(v, 'video_source')).toEqual([30, 32, 34, 36, 38]);
    expect(starts(v, 'audio_source')).toEqual([30, 32, 34, 36, 38]);
    // Selected by time: the same instants carry different sequence numbers per track.
    expect(track(v, 'video_source').fragments.map((f) => f.sequence)).toEqual([9, 10, 11, 12, 13]);
    expect(track(v, 'audio_source').fragments.map((f) => f.sequence)).toEqual([11, 12, 13, 14, 15]);
    const newest = track(v, 'video_source').fragments.at(-1);
    expect(newest && newest.utc + 2000).toBe(EPOCH + 40_000);

    const playlist = renderMediaPlaylist(v, 'video_source');
    expect(playlist).toContain('#EXT-X-MEDIA-SEQUENCE:9\n');
    expect(playlist).not.toContain('#EXT-X-ENDLIST');
    expect(playlist).not.toContain('#EXT-X-PLAYLIST-TYPE');
    expect(playlist).toContain(`#EXT-X-PROGRAM-DATE-TIME:${at(38)}\n#EXTINF:2.000,\nvideo_source/583680.m4s`);
    const mpd = renderMpd(v);
    expect(mpd).toContain('type="dynamic"');
    // The player's wall-clock window covers the shifted window, and it starts at the shifted edge.
    expect(mpd).toContain('timeShiftBufferDepth="PT30S"');
    expect(mpd).toContain('suggestedPresentationDelay="PT16S"');
    expect(mpd).toContain(`availabilityStartTime="${at(0)}"`);
  });

  it('caps the window by the publishing point, lets a viewer ask for a shorter one', () => {
    const s = archive();
    const all = [30, 32, 34, 36, 38, 40, 42, 44];
    expect(starts(view(s, parsePlayout({ time_shift: '4' })) as PresentationView, 'video_source')).toEqual(
      all,
    );
    for (const dvr of ['100', '20', '86400'])
      expect(
        starts(
          view(s, parsePlayout({ time_shift: '4', dvr_window_length: dvr })) as PresentationView,
          'audio_source',
        ),
      ).toEqual(all);
    const short = view(s, parsePlayout({ time_shift: '4', dvr_window_length: '6' })) as PresentationView;
    expect(starts(short, 'video_source')).toEqual([40, 42, 44]);
    expect(starts(short, 'audio_source')).toEqual([40, 42, 44]);
    expect(renderMpd(short)).toContain('timeShiftBufferDepth="PT10S"');
  });

  it('keeps discontinuity flags and the discontinuity sequence across the gap', () => {
    const s = archive();
    // 14 .. 34 s: the gap inside the window.
    const across = view(s, parsePlayout({ time_shift: '16' })) as PresentationView;
    expect(starts(across, 'video_source')).toEqual([14, 16, 18, 30, 32]);
    expect(starts(across, 'audio_source')).toEqual([14, 16, 18, 30, 32]);
    const video = track(across, 'video_source');
    expect(video.discontinuitySequence).toBe(0);
    expect(video.fragments.map((f) => f.discontinuity)).toEqual([false, false, false, true, false]);
    const playlist = renderMediaPlaylist(across, 'video_source');
    expect(playlist.match(/#EXT-X-DISCONTINUITY\n/g)).toHaveLength(1);
    expect(playlist).toMatch(/#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:2024-05-01T10:00:30.000Z/);
    // The gap fragment first in the window, then slid out of it.
    expect(
      track(view(s, parsePlayout({ time_shift: '10' })) as PresentationView, 'audio_source'),
    ).toMatchObject({ discontinuitySequence: 0, fragments: [{ discontinuity: true }, {}, {}, {}, {}] });
    const after = view(s, parsePlayout({ time_shift: '6', dvr_window_length: '10' })) as PresentationView;
    expect(starts(after, 'video_source')).toEqual([34, 36, 38, 40, 42]);
    expect(track(after, 'video_source').discontinuitySequence).toBe(1);
    expect(renderMediaPlaylist(after, 'video_source')).toContain('#EXT-X-DISCONTINUITY-SEQUENCE:1\n');
  });

  it('never reaches before the oldest fragment; null when the shifted window holds nothing', () => {
    const s = archive();
    // 40 s back: the window -10 .. 10 s holds only the oldest fragments of each track.
    const oldest = view(s, parsePlayout({ time_shift: '40' })) as PresentationView;
    expect(starts(oldest, 'video_source')).toEqual([4, 6, 8]);
    expect(starts(oldest, 'audio_source')).toEqual([0, 2, 4, 6, 8]);
    expect(track(oldest, 'audio_source').fragments[0]?.sequence).toBe(1);
    expect(view(s, parsePlayout({ time_shift: '50' }))).toBeNull();
    expect(view(s, parsePlayout({ time_shift: '3600' }))).toBeNull();
    // 24 .. 28 s: inside the gap.
    expect(view(s, parsePlayout({ time_shift: '22', dvr_window_length: '4' }))).toBeNull();
  });

  it('ends the shifted playlist once the encoder stopped', () => {
    const s = archive();
    s.index.setState(s.pp().name, 'stopped');
    const v = view(s, parsePlayout({ time_shift: '10' })) as PresentationView;
    expect(v.live).toBe(false);
    expect(renderMediaPlaylist(v, 'audio_source')).toContain('#EXT-X-ENDLIST');
  });

  it('is null while nothing is published', () => {
    const s = setup();
    s.track('video_source', 'video', 15360);
    expect(playoutPresentation(s.index, s.pp(), { kind: 'live' })).toBeNull();
    expect(playoutPresentation(s.index, s.pp(), { kind: 'vod', from: 0, to: Infinity })).toBeNull();
  });
});

describe('playoutPresentation: vod (virtual subclip)', () => {
  it('lists the fragments starting in [vbegin, vend) of every track, as a VOD presentation', () => {
    const s = archive();
    const v = view(s, parsePlayout({ vbegin: at(30), vend: at(40) }));
    expect(v).not.toBeNull();
    if (!v) return;
    expect(v.vod).toBe(true);
    expect(v.live).toBe(false);
    expect(v.complete).toBe(true);
    expect(starts(v, 'video_source')).toEqual([30, 32, 34, 36, 38]);
    expect(starts(v, 'audio_source')).toEqual([30, 32, 34, 36, 38]);
    expect(track(v, 'video_source').fragments.map((f) => f.sequence)).toEqual([9, 10, 11, 12, 13]);
    expect(track(v, 'audio_source').fragments.map((f) => f.sequence)).toEqual([11, 12, 13, 14, 15]);

    // Epoch seconds, and ISO without a zone, name the same range.
    const epoch = String((EPOCH + 30_000) / 1000);
    expect(view(s, parsePlayout({ vbegin: epoch, vend: String((EPOCH + 40_000) / 1000) }))).toEqual(v);
    expect(view(s, parsePlayout({ vbegin: at(30).replace('Z', ''), vend: at(40).slice(0, 19) }))).toEqual(v);

    const master = renderMasterPlaylist(v);
    expect(master).toContain('tracks/video_source.m3u8');
    expect(master).toContain('URI="tracks/audio_source.m3u8"');
    const playlist = renderMediaPlaylist(v, 'video_source');
    expect(playlist).toContain('#EXT-X-PLAYLIST-TYPE:VOD\n');
    expect(playlist.endsWith('#EXT-X-ENDLIST\n')).toBe(true);
    expect(playlist).toContain('#EXT-X-MEDIA-SEQUENCE:9\n');
    expect(playlist.match(/#EXTINF:/g)).toHaveLength(5);
    expect(playlist).toContain(`#EXT-X-PROGRAM-DATE-TIME:${at(30)}`);
    expect(playlist).not.toContain(`${at(40)}`);
    const audio = renderMediaPlaylist(v, 'audio_source');
    expect(audio).toContain('#EXT-X-PLAYLIST-TYPE:VOD\n');
    expect(audio).toContain('#EXT-X-MEDIA-SEQUENCE:11\n');

    const mpd = renderMpd(v);
    expect(mpd).toContain('type="static"');
    expect(mpd).toContain('mediaPresentationDuration="PT10S"');
    expect(mpd).not.toContain('timeShiftBufferDepth');
    expect(mpd).not.toContain('availabilityStartTime');
    expect(mpd).toContain(`presentationTimeOffset="${30 * 15360}"`);
    expect(mpd).toContain(`presentationTimeOffset="${30 * 48000}"`);
  });

  it('cuts on whole fragments: a boundary inside a fragment goes by where it starts', () => {
    const s = archive();
    const v = view(s, parsePlayout({ vbegin: at(31), vend: at(35.5) })) as PresentationView;
    expect(starts(v, 'video_source')).toEqual([32, 34]);
    expect(starts(v, 'audio_source')).toEqual([32, 34]);
    const end = view(s, parsePlayout({ vbegin: at(31), vend: at(36) })) as PresentationView;
    expect(starts(end, 'video_source')).toEqual([32, 34]);
  });

  it('runs through a gap with its discontinuity', () => {
    const s = archive();
    const v = view(s, parsePlayout({ vbegin: at(14), vend: at(36) })) as PresentationView;
    expect(starts(v, 'video_source')).toEqual([14, 16, 18, 30, 32, 34]);
    expect(starts(v, 'audio_source')).toEqual([14, 16, 18, 30, 32, 34]);
    for (const t of v.tracks) {
      expect(t.discontinuitySequence).toBe(0);
      expect(t.fragments.map((f) => f.discontinuity)).toEqual([false, false, false, true, false, false]);
    }
    const playlist = renderMediaPlaylist(v, 'video_source');
    expect(playlist).toContain('#EXT-X-DISCONTINUITY-SEQUENCE:0\n');
    expect(playlist.match(/#EXT-X-DISCONTINUITY\n/g)).toHaveLength(1);
    expect(playlist).toMatch(
      /video_source\/276480\.m4s\n#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:2024-05-01T10:00:30/,
    );
    const mpd = renderMpd(v);
    // The timeline restarts with an explicit t after the gap; the duration spans it.
    expect(mpd).toContain(`<S t="${14 * 15360}" d="${2 * 15360}" r="2"/>`);
    expect(mpd).toContain(`<S t="${30 * 15360}" d="${2 * 15360}" r="2"/>`);
    expect(mpd).toContain('mediaPresentationDuration="PT22S"');

    const after = view(s, parsePlayout({ vbegin: at(32), vend: at(36) })) as PresentationView;
    expect(track(after, 'audio_source').discontinuitySequence).toBe(1);
    expect(renderMediaPlaylist(after, 'audio_source')).not.toContain('#EXT-X-DISCONTINUITY\n');
  });

  it('runs to the live edge without vend, from the oldest fragment without vbegin', () => {
    const s = archive();
    const tail = view(s, parsePlayout({ vbegin: at(44) })) as PresentationView;
    expect(tail.vod).toBe(true);
    expect(starts(tail, 'video_source')).toEqual([44, 46, 48]);
    expect(renderMediaPlaylist(tail, 'video_source')).toContain('#EXT-X-ENDLIST');
    const head = view(s, parsePlayout({ vend: at(8) })) as PresentationView;
    expect(starts(head, 'video_source')).toEqual([4, 6]);
    expect(starts(head, 'audio_source')).toEqual([0, 2, 4, 6]);
  });

  it('is null when the range holds no fragment', () => {
    const s = archive();
    expect(view(s, parsePlayout({ vbegin: at(21), vend: at(29) }))).toBeNull();
    expect(
      view(s, parsePlayout({ vbegin: '2023-01-01T00:00:00Z', vend: '2023-01-02T00:00:00Z' })),
    ).toBeNull();
    expect(view(s, parsePlayout({ vbegin: at(50) }))).toBeNull();
    expect(view(s, parsePlayout({ vend: at(0) }))).toBeNull();
  });

  it('passes the URL suffix to every child URL', () => {
    const s = archive();
    const v = playoutPresentation(s.index, s.pp(), parsePlayout({ vbegin: at(30), vend: at(32) }), {
      urlSuffix: '?vbegin=1&sig=x',
      now: NOW,
    }) as PresentationView;
    expect(renderMediaPlaylist(v, 'video_source')).toContain('video_source/460800.m4s?vbegin=1&sig=x');
  });
});

describe('playoutPresentation on a long archive', () => {
  it('reads only the fragments it lists, through range queries on the fragment indexes', () => {
    const s = setup({ dvr_window_length: '30', archiving: 'true' });
    const video = s.track('video_source', 'video', 1000);
    const count = 20_000; // 11 h of 2 s fragments
    s.db.transaction(() => s.fill(video, range(0, 2 * count)))();
    s.index.setTrackState(video.id, 'started');
    s.index.setState(s.pp().name, 'started');

    const statements: string[] = [];
    let rowsRead = 0;
    const prepare = s.db.prepare.bind(s.db);
    vi.spyOn(s.db, 'prepare').mockImplementation(((sql: string) => {
      statements.push(sql);
      const stmt = prepare(sql);
      const all = stmt.all.bind(stmt);
      const get = stmt.get.bind(stmt);
      return Object.assign(stmt, {
        all: (...args: unknown[]) => {
          const rows = all(...args);
          rowsRead += rows.length;
          return rows;
        },
        get: (...args: unknown[]) => {
          const row = get(...args);
          if (row !== undefined) rowsRead += 1;
          return row;
        },
      });
    }) as typeof s.db.prepare);

    const shifted = view(s, parsePlayout({ time_shift: '3600' }));
    expect(shifted && starts(shifted, 'video_source')).toEqual(range(2 * count - 3630, 2 * count - 3600));
    const clip = view(s, parsePlayout({ vbegin: at(20_000), vend: at(20_060) }));
    expect(clip && starts(clip, 'video_source')).toEqual(range(20_000, 20_060));
    // 15 + 30 fragments listed, plus a row or two per track for the edge, the tracks, the discontinuity count.
    expect(rowsRead).toBeLessThan(15 + 30 + 12);

    const windowQueries = statements.filter((sql) => /COALESCE|utc >=/.test(sql) && !/COUNT/.test(sql));
    expect(windowQueries).toHaveLength(2);
    // The subclip's size check counts on the same index before anything is read.
    const counts = statements.filter((sql) => /COUNT\(\*\).*utc >=/.test(sql));
    expect(counts).toHaveLength(1);
    for (const sql of [...windowQueries, ...counts]) {
      const params = Array<number>((sql.match(/\?/g) ?? []).length).fill(1);
      const plan = (s.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[])
        .map((r) => r.detail)
        .join('\n');
      expect(plan).not.toMatch(/SCAN|TEMP B-TREE/);
      expect(plan).toMatch(
        /SEARCH fragments USING (?:COVERING )?INDEX \S+ \(track_id=\? AND (media_time|utc)>\? AND \1<\?\)/,
      );
    }
  });
});

describe('a subclip too long to list', () => {
  it('is a 400 naming the limit, counted before any fragment is read', () => {
    const s = setup({ archiving: 'true' });
    const video = s.track('video_source', 'video', 1000);
    s.db.transaction(() => s.fill(video, range(0, 2 * (MAX_SUBCLIP_FRAGMENTS + 10))))();
    expect(() => view(s, parsePlayout({ vbegin: '0' }))).toThrow(PlayoutError);
    expect(() => view(s, parsePlayout({ vbegin: '0' }))).toThrow(
      /more than 3600: give vbegin and vend closer/,
    );
    // Within the limit it lists as before.
    const ok = view(s, parsePlayout({ vbegin: at(0), vend: at(2 * MAX_SUBCLIP_FRAGMENTS) }));
    expect(ok && starts(ok, 'video_source')).toHaveLength(MAX_SUBCLIP_FRAGMENTS);
  });
});
