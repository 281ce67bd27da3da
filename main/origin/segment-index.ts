/**
 * The segment index: every publishing point, track and fragment the origin holds, in SQLite.
 * Manifests, the DVR window and retention all read from here; fragment files live on disk.
 */
import type { Statement } from 'better-sqlite3';
import type { Db } from '../store/database.js';
import type { PublishingPointOptions } from './publishing-point-options.js';
import type { PublishingPointState } from '../contract/contract.js';

/**
 * A publishing point's timeline starts this long before it is created, so an encoder whose clock started
 * before the publish was accepted (its backlog arrives in a burst) still maps to positive media times.
 */
export const TIMELINE_LEAD_MS = 10_000;

export type { PublishingPointState };

export interface PublishingPointRecord {
  name: string;
  options: PublishingPointOptions;
  state: PublishingPointState;
  /** ms since epoch: presentation time 0 of every track (DASH availabilityStartTime); creation − TIMELINE_LEAD_MS. */
  epoch: number;
  createdAt: number;
  updatedAt: number;
}

export interface TrackRecord {
  id: number;
  pp: string;
  trackName: string;
  kind: 'video' | 'audio';
  timescale: number;
  codecs: string;
  bitrate: number | null;
  width: number | null;
  height: number | null;
  frameRate: number | null;
  sampleRate: number | null;
  channels: number | null;
  audioTrack: string | null;
  state: PublishingPointState;
  updatedAt: number;
}

export interface FragmentRecord {
  id: number;
  trackId: number;
  sequence: number;
  mediaTime: number;
  duration: number;
  utc: number;
  size: number;
  file: string;
  discontinuity: boolean;
  serverIndex: number;
}

export type NewTrack = Omit<TrackRecord, 'id' | 'state' | 'updatedAt'>;
export type NewFragment = Omit<FragmentRecord, 'id' | 'sequence'>;

const TRACK_COLUMNS = `id, pp, track_name AS trackName, kind, timescale, codecs, bitrate, width, height,
  frame_rate AS frameRate, sample_rate AS sampleRate, channels, audio_track AS audioTrack, state, updated_at AS updatedAt`;
const FRAGMENT_COLUMNS = `id, track_id AS trackId, sequence, media_time AS mediaTime, duration, utc, size, file,
  discontinuity, server_index AS serverIndex`;

interface PpRow {
  name: string;
  options: string;
  state: PublishingPointState;
  epoch: number;
  created_at: number;
  updated_at: number;
}

export class SegmentIndex {
  private readonly statements = new Map<string, Statement>();
  private writeCount = 0;
  private removalCount = 0;

  constructor(private readonly db: Db) {}

  /**
   * Bumped by every change to the index (publishing points, tracks, fragments): whatever was computed from the
   * index at one value stays right until it changes (the origin caches manifests by it).
   */
  get writes(): number {
    return this.writeCount;
  }

  /**
   * Bumped by every removal (fragments purged, a publishing point deleted): until it moves, a URL that named a
   * fragment still names the same bytes (a recreated publishing point could reuse it).
   */
  get removals(): number {
    return this.removalCount;
  }

  /** Statements are prepared once: compiling SQL is a large part of a manifest's cost. */
  private stmt(sql: string): Statement {
    let st = this.statements.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }

  // -- publishing points

  createPublishingPoint(
    name: string,
    options: PublishingPointOptions,
    now = Date.now(),
  ): PublishingPointRecord {
    this.writeCount++;
    this.stmt(
      'INSERT INTO publishing_points (name, options, state, epoch, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
    ).run(name, JSON.stringify(options), 'idle', now - TIMELINE_LEAD_MS, now, now);
    return this.getPublishingPoint(name) as PublishingPointRecord;
  }

  getPublishingPoint(name: string): PublishingPointRecord | undefined {
    const row = this.stmt('SELECT * FROM publishing_points WHERE name = ?').get(name) as PpRow | undefined;
    return row && toPp(row);
  }

  listPublishingPoints(): PublishingPointRecord[] {
    return (this.stmt('SELECT * FROM publishing_points ORDER BY name').all() as PpRow[]).map(toPp);
  }

  setState(name: string, state: PublishingPointState, now = Date.now()): void {
    this.writeCount++;
    this.stmt('UPDATE publishing_points SET state = ?, updated_at = ? WHERE name = ?').run(state, now, name);
  }

  setOptions(name: string, options: PublishingPointOptions, now = Date.now()): void {
    this.writeCount++;
    this.stmt('UPDATE publishing_points SET options = ?, updated_at = ? WHERE name = ?').run(
      JSON.stringify(options),
      now,
      name,
    );
  }

  deletePublishingPoint(name: string): void {
    this.writeCount++;
    this.removalCount++;
    this.stmt('DELETE FROM publishing_points WHERE name = ?').run(name);
  }

  // -- tracks

  /** Creates the track, or updates its description if it exists; returns it. */
  upsertTrack(t: NewTrack, now = Date.now()): TrackRecord {
    this.writeCount++;
    this.stmt(
      `INSERT INTO tracks (pp, track_name, kind, timescale, codecs, bitrate, width, height, frame_rate, sample_rate, channels, audio_track, state, updated_at)
         VALUES (@pp, @trackName, @kind, @timescale, @codecs, @bitrate, @width, @height, @frameRate, @sampleRate, @channels, @audioTrack, 'starting', @now)
         ON CONFLICT (pp, track_name) DO UPDATE SET kind = excluded.kind, timescale = excluded.timescale, codecs = excluded.codecs,
           bitrate = excluded.bitrate, width = excluded.width, height = excluded.height, frame_rate = excluded.frame_rate,
           sample_rate = excluded.sample_rate, channels = excluded.channels, audio_track = excluded.audio_track,
           state = 'starting', updated_at = excluded.updated_at`,
    ).run({ ...t, now });
    return this.getTrack(t.pp, t.trackName) as TrackRecord;
  }

  getTrack(pp: string, trackName: string): TrackRecord | undefined {
    return this.stmt(`SELECT ${TRACK_COLUMNS} FROM tracks WHERE pp = ? AND track_name = ?`).get(
      pp,
      trackName,
    ) as TrackRecord | undefined;
  }

  tracks(pp: string): TrackRecord[] {
    return this.stmt(`SELECT ${TRACK_COLUMNS} FROM tracks WHERE pp = ? ORDER BY id`).all(pp) as TrackRecord[];
  }

  setTrackState(trackId: number, state: PublishingPointState, now = Date.now()): void {
    this.writeCount++;
    this.stmt('UPDATE tracks SET state = ?, updated_at = ? WHERE id = ?').run(state, now, trackId);
  }

  // -- fragments

  /** Appends a fragment; its sequence number is one more than the track's last, ever. */
  addFragment(f: NewFragment): FragmentRecord {
    this.writeCount++;
    return this.db.transaction(() => {
      // The track remembers its last number, so a purge that empties it never makes numbers repeat.
      const last = this.stmt('SELECT last_sequence AS s FROM tracks WHERE id = ?').get(f.trackId) as
        { s: number } | undefined;
      const sequence = (last?.s ?? 0) + 1;
      const r = this.stmt(
        `INSERT INTO fragments (track_id, sequence, media_time, duration, utc, size, file, discontinuity, server_index)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        f.trackId,
        sequence,
        f.mediaTime,
        f.duration,
        f.utc,
        f.size,
        f.file,
        f.discontinuity ? 1 : 0,
        f.serverIndex,
      );
      this.stmt('UPDATE tracks SET updated_at = ?, last_sequence = ? WHERE id = ?').run(
        Date.now(),
        sequence,
        f.trackId,
      );
      return { ...f, id: Number(r.lastInsertRowid), sequence };
    })();
  }

  lastFragment(trackId: number): FragmentRecord | undefined {
    const row = this.stmt(
      `SELECT ${FRAGMENT_COLUMNS} FROM fragments WHERE track_id = ? ORDER BY media_time DESC LIMIT 1`,
    ).get(trackId);
    return row ? toFragment(row as FragmentRow) : undefined;
  }

  /** Fragments ending after `fromTime` (timescale units), oldest first. */
  fragmentsEndingAfter(trackId: number, fromTime: number): FragmentRecord[] {
    return (
      this.stmt(
        `SELECT ${FRAGMENT_COLUMNS} FROM fragments WHERE track_id = ? AND media_time + duration > ? ORDER BY media_time`,
      ).all(trackId, fromTime) as FragmentRow[]
    ).map(toFragment);
  }

  fragmentByTime(trackId: number, mediaTime: number): FragmentRecord | undefined {
    const row = this.stmt(
      `SELECT ${FRAGMENT_COLUMNS} FROM fragments WHERE track_id = ? AND media_time = ?`,
    ).get(trackId, mediaTime);
    return row ? toFragment(row as FragmentRow) : undefined;
  }

  fragmentBySequence(trackId: number, sequence: number): FragmentRecord | undefined {
    const row = this.stmt(
      `SELECT ${FRAGMENT_COLUMNS} FROM fragments WHERE track_id = ? AND sequence = ?`,
    ).get(trackId, sequence);
    return row ? toFragment(row as FragmentRow) : undefined;
  }

  /**
   * Fragments of a track whose midpoint lies in [from, to) (timescale units), oldest first: more than half
   * inside the window. Fragments never overlap, so the only one that starts before `from` and can qualify is
   * the one holding `from`; both bounds are ranges on (track_id, media_time).
   */
  fragmentsInWindow(trackId: number, from: number, to: number): FragmentRecord[] {
    const rows = this.stmt(
      `SELECT ${FRAGMENT_COLUMNS} FROM fragments WHERE track_id = ?
           AND media_time >= COALESCE((SELECT MAX(media_time) FROM fragments WHERE track_id = ? AND media_time <= ?), ?)
           AND media_time < ? ORDER BY media_time`,
    ).all(trackId, trackId, bound(from), bound(from), bound(to)) as FragmentRow[];
    return rows.map(toFragment).filter((f) => {
      const mid = f.mediaTime + f.duration / 2;
      return mid >= from && mid < to;
    });
  }

  /** Fragments of a track whose start (UTC, ms since epoch) lies in [from, to), oldest first; on (track_id, utc). */
  fragmentsStartingBetween(trackId: number, from: number, to: number): FragmentRecord[] {
    return (
      this.stmt(
        `SELECT ${FRAGMENT_COLUMNS} FROM fragments WHERE track_id = ? AND utc >= ? AND utc < ? ORDER BY utc`,
      ).all(trackId, bound(from), bound(to)) as FragmentRow[]
    ).map(toFragment);
  }

  /** How many fragments of a track start (UTC, ms since epoch) in [from, to); on (track_id, utc). */
  countFragmentsStartingBetween(trackId: number, from: number, to: number): number {
    const row = this.stmt(
      'SELECT COUNT(*) AS n FROM fragments WHERE track_id = ? AND utc >= ? AND utc < ?',
    ).get(trackId, bound(from), bound(to)) as { n: number };
    return row.n;
  }

  /** Fragments that end at or before `beforeTime` (timescale units), oldest first. */
  fragmentsEndingBefore(trackId: number, beforeTime: number, limit = 1000): FragmentRecord[] {
    return (
      this.stmt(
        `SELECT ${FRAGMENT_COLUMNS} FROM fragments WHERE track_id = ? AND media_time + duration <= ? ORDER BY media_time LIMIT ?`,
      ).all(trackId, beforeTime, limit) as FragmentRow[]
    ).map(toFragment);
  }

  /** Fragments starting in [from, to) (timescale units), oldest first. */
  fragmentsStartingIn(trackId: number, from: number, to: number, limit = 1000): FragmentRecord[] {
    return (
      this.stmt(
        `SELECT ${FRAGMENT_COLUMNS} FROM fragments WHERE track_id = ? AND media_time >= ? AND media_time < ? ORDER BY media_time LIMIT ?`,
      ).all(trackId, from, to, limit) as FragmentRow[]
    ).map(toFragment);
  }

  firstFragment(trackId: number): FragmentRecord | undefined {
    const row = this.stmt(
      `SELECT ${FRAGMENT_COLUMNS} FROM fragments WHERE track_id = ? ORDER BY media_time LIMIT 1`,
    ).get(trackId);
    return row ? toFragment(row as FragmentRow) : undefined;
  }

  /** Number of fragments of a track in [from, to) media time, or all of them. */
  countFragments(trackId: number, from = 0, to = Number.MAX_SAFE_INTEGER): number {
    const row = this.stmt(
      'SELECT COUNT(*) AS n FROM fragments WHERE track_id = ? AND media_time >= ? AND media_time < ?',
    ).get(trackId, from, to) as { n: number };
    return row.n;
  }

  countFragmentsEndingBefore(trackId: number, before: number): number {
    const row = this.stmt(
      'SELECT COUNT(*) AS n FROM fragments WHERE track_id = ? AND media_time + duration <= ?',
    ).get(trackId, before) as { n: number };
    return row.n;
  }

  /**
   * The continuous ranges of a track, [start, end) in timescale units: a fragment that starts more than `slack`
   * after the previous one ended begins a new range (gaps-and-islands in SQL, no rows loaded).
   */
  ranges(trackId: number, slack: number): Array<{ start: number; end: number }> {
    return this.stmt(
      `WITH f AS (
           SELECT media_time, media_time + duration AS e,
                  LAG(media_time + duration) OVER (ORDER BY media_time) AS prev_end
           FROM fragments WHERE track_id = ?),
         g AS (
           SELECT media_time, e,
                  SUM(CASE WHEN prev_end IS NULL OR media_time > prev_end + ? THEN 1 ELSE 0 END)
                    OVER (ORDER BY media_time ROWS UNBOUNDED PRECEDING) AS grp
           FROM f)
         SELECT MIN(media_time) AS start, MAX(e) AS end FROM g GROUP BY grp ORDER BY start`,
    ).all(trackId, slack) as Array<{ start: number; end: number }>;
  }

  /** Like {@link ranges}, but a change of the feeding ingest (primary/backup) also starts a new range. */
  rangesByIngest(trackId: number, slack: number): Array<{ start: number; end: number; serverIndex: number }> {
    return this.stmt(
      `WITH f AS (
           SELECT media_time, media_time + duration AS e, server_index,
                  LAG(media_time + duration) OVER (ORDER BY media_time) AS prev_end,
                  LAG(server_index) OVER (ORDER BY media_time) AS prev_index
           FROM fragments WHERE track_id = ?),
         g AS (
           SELECT media_time, e, server_index,
                  SUM(CASE WHEN prev_end IS NULL OR media_time > prev_end + ? OR server_index != prev_index THEN 1 ELSE 0 END)
                    OVER (ORDER BY media_time ROWS UNBOUNDED PRECEDING) AS grp
           FROM f)
         SELECT MIN(media_time) AS start, MAX(e) AS end, MIN(server_index) AS serverIndex FROM g GROUP BY grp ORDER BY start`,
    ).all(trackId, slack) as Array<{ start: number; end: number; serverIndex: number }>;
  }

  /** Every fragment row of a publishing point: id, track and file (reconciliation with the disk). */
  fragmentFiles(pp: string): Array<{ id: number; trackName: string; file: string }> {
    return this.stmt(
      'SELECT f.id AS id, t.track_name AS trackName, f.file AS file FROM fragments f JOIN tracks t ON t.id = f.track_id WHERE t.pp = ?',
    ).all(pp) as Array<{ id: number; trackName: string; file: string }>;
  }

  deleteFragments(ids: readonly number[]): void {
    this.writeCount++;
    this.removalCount++;
    const del = this.stmt('DELETE FROM fragments WHERE id = ?');
    this.db.transaction(() => {
      for (const id of ids) del.run(id);
    })();
  }

  /** How many fragments before `sequence` start a discontinuity (HLS EXT-X-DISCONTINUITY-SEQUENCE). */
  discontinuitiesBefore(trackId: number, sequence: number): number {
    const row = this.stmt(
      'SELECT COUNT(*) AS n FROM fragments WHERE track_id = ? AND sequence < ? AND discontinuity = 1',
    ).get(trackId, sequence) as { n: number };
    return row.n;
  }

  fragmentCount(pp: string): number {
    const row = this.stmt(
      'SELECT COUNT(*) AS n FROM fragments f JOIN tracks t ON t.id = f.track_id WHERE t.pp = ?',
    ).get(pp) as { n: number };
    return row.n;
  }
}

interface FragmentRow extends Omit<FragmentRecord, 'discontinuity'> {
  discontinuity: number;
}

/** SQLite binds no Infinity: clamp open bounds to the largest exact integers. */
const bound = (n: number): number => Math.min(Number.MAX_SAFE_INTEGER, Math.max(-Number.MAX_SAFE_INTEGER, n));

function toFragment(r: FragmentRow): FragmentRecord {
  return { ...r, discontinuity: r.discontinuity === 1 };
}

function toPp(r: PpRow): PublishingPointRecord {
  return {
    name: r.name,
    options: JSON.parse(r.options) as PublishingPointOptions,
    state: r.state,
    epoch: r.epoch,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}
