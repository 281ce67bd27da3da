/**
 * Publishing points as Unified Streaming's REST API defines them: create, read, update and delete a
 * `<path>/<name>.isml`, with every condition of the seed's response tables, and purge of the archive.
 * One directory per publishing point under the origin root, holding `<name>.isml` and one folder per track.
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../lib/logger.js';
import { checkPpId, SAFE_NAME, UnsafePathError, type OriginStorage } from './origin-storage.js';
import { resolvePurgeRange, type PurgeSpec } from './purge-time.js';
import { onlyAddsRecording, type PublishingPointOptions } from './publishing-point-options.js';
import type { FragmentRecord, PublishingPointRecord, SegmentIndex, TrackRecord } from './segment-index.js';
import { parseServerManifest, renderServerManifest, SmilError, type SmilTrack } from './smil.js';

/** A refusal with the HTTP status the seed gives it. */
export class PublishingPointError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface PublishingPointEvent {
  pp: string;
  level: 'info' | 'warn' | 'error';
  code: string;
  message: string;
}

export interface PublishingPointsEvents {
  event: [PublishingPointEvent];
}

/** States in which an encoder is (or may still be) feeding the publishing point. */
const ACTIVE = new Set(['starting', 'started', 'stopping']);
/** Fragments deleted per transaction while purging; progress is reported after each batch. */
const PURGE_BATCH = 500;

export class PublishingPoints extends EventEmitter<PublishingPointsEvents> {
  constructor(
    readonly index: SegmentIndex,
    readonly storage: OriginStorage,
    private readonly log: Logger,
  ) {
    super();
  }

  /**
   * Reads a publishing point id from an API URL path (`/channel00/channel00.isml`, `/a/b/b.isml`):
   * 415 when it does not end in `.isml`, 404 without a base path, 400 when the directory and the name differ
   * or a segment is not a safe name (`..`, encoded slashes, absolute paths).
   */
  static idFromUrlPath(urlPath: string): string {
    if (!urlPath.endsWith('.isml')) throw new PublishingPointError(415, 'URL does not end in .isml');
    let segments: string[];
    try {
      segments = urlPath.split('/').slice(1).map(decodeURIComponent);
    } catch {
      throw new PublishingPointError(400, 'invalid URL encoding in the path');
    }
    const file = segments.pop() as string;
    const name = file.slice(0, -'.isml'.length);
    if (!SAFE_NAME.test(name) || segments.some((s) => !SAFE_NAME.test(s))) {
      throw new PublishingPointError(400, 'invalid path: use letters, digits, _ and - between slashes');
    }
    if (segments.length === 0)
      throw new PublishingPointError(
        404,
        'base path to the publishing point is missing: use /<name>/<name>.isml',
      );
    if (segments[segments.length - 1] !== name) {
      throw new PublishingPointError(
        400,
        `path and publishing point name are not identical (${segments[segments.length - 1]} vs ${name})`,
      );
    }
    return segments.join('/');
  }

  get(id: string): PublishingPointRecord | undefined {
    return this.index.getPublishingPoint(id);
  }

  /** Set by the appliance: whether an ingest is feeding (or about to feed) a publishing point. */
  busy: (id: string) => boolean = () => false;

  isActive(pp: PublishingPointRecord): boolean {
    return ACTIVE.has(pp.state) || this.busy(pp.name);
  }

  isPurged(pp: PublishingPointRecord): boolean {
    return this.index.fragmentCount(pp.name) === 0;
  }

  /** POST: 201 on success. */
  create(id: string, body: string): PublishingPointRecord {
    const options = this.parseBody(body);
    if (this.index.getPublishingPoint(id))
      throw new PublishingPointError(409, `publishing point ${id} already exists`);
    this.assertPlaceable(id);
    const dir = this.storage.ppDir(id);
    if (fs.existsSync(dir))
      throw new PublishingPointError(409, `the directory of publishing point ${id} already exists`);
    try {
      // Refuse a symlink anywhere on the path before creating anything, and check again after (a race).
      this.storage.assertNoSymlinks(id);
      fs.mkdirSync(path.dirname(dir), { recursive: true });
      this.storage.assertNoSymlinks(id);
      fs.mkdirSync(dir);
    } catch (err) {
      if (err instanceof UnsafePathError) throw new PublishingPointError(400, err.message);
      this.log.error({ pp: id, err: (err as Error).message }, 'publishing point creation failed');
      throw new PublishingPointError(
        500,
        `creation of resources failed: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
    return this.saved(this.index.createPublishingPoint(id, options), 'PUBLISHING_POINT_CREATED', 'created');
  }

  /**
   * Creates an entry's publishing point with default options when an encoder first publishes to it (or with the
   * options staff chose, before the encoder: `what` says so).
   */
  ensure(
    id: string,
    options: PublishingPointOptions,
    what = 'created with default options',
  ): PublishingPointRecord {
    const existing = this.index.getPublishingPoint(id);
    if (existing) return existing;
    fs.mkdirSync(this.storage.ppDir(id), { recursive: true });
    return this.saved(this.index.createPublishingPoint(id, options), 'PUBLISHING_POINT_CREATED', what);
  }

  /** GET: the server manifest, with the announced tracks. */
  read(id: string): string {
    const pp = this.require(id);
    return renderServerManifest(pp.options, this.smilTracks(pp));
  }

  /**
   * PUT: only while not active and completely purged. With `recordingWithoutPurge` (the control API, not the seed's
   * REST API), a change that only adds recording (`onlyAddsRecording`) needs no purge: the point must only be idle.
   */
  update(id: string, body: string, o: { recordingWithoutPurge?: boolean } = {}): PublishingPointRecord {
    if (o.recordingWithoutPurge) {
      const pp = this.require(id);
      const options = this.parseBody(body);
      if (!this.isActive(pp) && onlyAddsRecording(pp.options, options)) {
        this.index.setOptions(id, options);
        return this.saved(
          this.require(id),
          'PUBLISHING_POINT_UPDATED',
          'updated (recording; the archive is kept)',
        );
      }
    }
    this.requireIdle(id);
    this.index.setOptions(id, this.parseBody(body));
    return this.saved(this.require(id), 'PUBLISHING_POINT_UPDATED', 'updated');
  }

  /** DELETE: only while not active and completely purged; the directory and everything in it go. */
  remove(id: string): void {
    this.requireIdle(id);
    this.removeFiles(id);
    this.index.deletePublishingPoint(id);
    this.emit('event', {
      pp: id,
      level: 'info',
      code: 'PUBLISHING_POINT_DELETED',
      message: `publishing point ${id}.isml deleted`,
    });
  }

  /** Deletes the publishing point's directory; 500 when the disk refuses. */
  removeFiles(id: string): void {
    try {
      this.storage.assertNoSymlinks(id);
      this.storage.cache.deleteUnder(this.storage.ppDir(id));
      fs.rmSync(this.storage.ppDir(id), { recursive: true, force: true });
    } catch (err) {
      this.log.error({ pp: id, err: (err as Error).message }, 'publishing point deletion failed');
      throw new PublishingPointError(
        500,
        `deletion of resources failed: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
  }

  /**
   * Purges the archive: `keep` keeps that much (everything older goes), `range` deletes the fragments that start
   * in it. Fragments leave the index first (no manifest lists them again), then the disk; progress is reported
   * after each batch. Resolves with the number of fragments deleted.
   */
  async purge(id: string, spec: PurgeSpec): Promise<number> {
    const pp = this.require(id);
    const tracks = this.index.tracks(id);
    const extent = this.extent(pp, tracks);
    if (!extent) return 0;
    // Per track: the media-time interval to delete, [from, to).
    const plan = tracks.map((t) => {
      const toMedia = (ms: number) => ((ms - pp.epoch) / 1000) * t.timescale;
      if (spec.kind === 'keep') {
        const cutoff = extent.end - spec.seconds * 1000;
        return { track: t, endBefore: Math.round(toMedia(cutoff)) };
      }
      const { start, end } = resolvePurgeRange(spec, extent.start);
      // One microsecond of slack: /archive prints times rounded to microseconds.
      const slack = Math.ceil(t.timescale / 1_000_000);
      return { track: t, from: Math.floor(toMedia(start)) - slack, to: Math.ceil(toMedia(end)) };
    });
    const select = (p: (typeof plan)[number], limit: number): FragmentRecord[] =>
      'endBefore' in p && p.endBefore !== undefined
        ? this.index.fragmentsEndingBefore(p.track.id, p.endBefore, limit)
        : this.index.fragmentsStartingIn(
            p.track.id,
            (p as { from: number }).from,
            (p as { to: number }).to,
            limit,
          );
    const total = plan.reduce((n, p) => n + countOf(this.index, p), 0);
    if (total === 0) return 0;
    this.emit('event', {
      pp: id,
      level: 'info',
      code: 'PURGE_STARTED',
      message: `purging ${total} fragments`,
    });
    let done = 0;
    for (const p of plan) {
      for (;;) {
        const batch = select(p, PURGE_BATCH);
        if (batch.length === 0) break;
        this.index.deleteFragments(batch.map((f) => f.id));
        await Promise.all(
          batch.map((f) => {
            const file = this.storage.resolve(id, f.file);
            this.storage.cache.delete(file);
            return fs.promises.rm(file, { force: true });
          }),
        );
        done += batch.length;
        if (total > PURGE_BATCH) {
          this.emit('event', {
            pp: id,
            level: 'info',
            code: 'PURGE_PROGRESS',
            message: `purged ${done} of ${total} fragments (${Math.floor((done / total) * 100)}%)`,
          });
        }
      }
    }
    this.emit('event', { pp: id, level: 'info', code: 'PURGE_DONE', message: `purged ${done} fragments` });
    return done;
  }

  /** The archive's first start and last end (ms since epoch), or undefined when empty. */
  extent(
    pp: PublishingPointRecord,
    tracks = this.index.tracks(pp.name),
  ): { start: number; end: number } | undefined {
    let start = Number.POSITIVE_INFINITY;
    let end = Number.NEGATIVE_INFINITY;
    for (const t of tracks) {
      const first = this.index.firstFragment(t.id);
      const last = this.index.lastFragment(t.id);
      if (!first || !last) continue;
      start = Math.min(start, pp.epoch + (first.mediaTime / t.timescale) * 1000);
      end = Math.max(end, pp.epoch + ((last.mediaTime + last.duration) / t.timescale) * 1000);
    }
    return Number.isFinite(start) ? { start, end } : undefined;
  }

  /** The tracks as the SMIL documents describe them. */
  smilTracks(pp: PublishingPointRecord): SmilTrack[] {
    return this.index.tracks(pp.name).map((t, i) => smilTrack(this.index, t, i + 1));
  }

  /** Update and delete need a publishing point that is neither active nor holding an archive (403). */
  private requireIdle(id: string): PublishingPointRecord {
    const pp = this.require(id);
    if (this.isActive(pp))
      throw new PublishingPointError(403, `publishing point ${id} is active (${pp.state})`);
    if (!this.isPurged(pp)) throw new PublishingPointError(403, `publishing point ${id} is not fully purged`);
    return pp;
  }

  /** Writes the server manifest file and says what happened. */
  private saved(rec: PublishingPointRecord, code: string, what: string): PublishingPointRecord {
    this.writeManifest(rec);
    this.emit('event', {
      pp: rec.name,
      level: 'info',
      code,
      message: `publishing point ${rec.name}.isml ${what}`,
    });
    return rec;
  }

  private require(id: string): PublishingPointRecord {
    const pp = this.index.getPublishingPoint(id);
    if (!pp) throw new PublishingPointError(404, `publishing point ${id} does not exist`);
    return pp;
  }

  private parseBody(body: string): PublishingPointOptions {
    if (body.trim() === '') throw new PublishingPointError(404, 'no SMIL content provided');
    try {
      return parseServerManifest(body).options;
    } catch (err) {
      if (err instanceof SmilError) throw new PublishingPointError(400, `malformed SMIL: ${err.message}`);
      throw err;
    }
  }

  /** A publishing point can neither be created inside another one's directory nor around one. */
  private assertPlaceable(id: string): void {
    const segments = checkPpId(id);
    for (let i = 1; i < segments.length; i++) {
      const parent = segments.slice(0, i).join('/');
      if (this.index.getPublishingPoint(parent)) {
        throw new PublishingPointError(
          400,
          `cannot create a publishing point inside publishing point ${parent}`,
        );
      }
    }
    const inside = this.index.listPublishingPoints().find((p) => p.name.startsWith(`${id}/`));
    if (inside)
      throw new PublishingPointError(
        400,
        `cannot create a publishing point around publishing point ${inside.name}`,
      );
  }

  private writeManifest(pp: PublishingPointRecord): void {
    const name = pp.name.split('/').pop() as string;
    try {
      fs.writeFileSync(
        path.join(this.storage.ppDir(pp.name), `${name}.isml`),
        renderServerManifest(pp.options, this.smilTracks(pp)),
      );
    } catch (err) {
      this.log.warn({ pp: pp.name, err: (err as Error).message }, 'could not write the server manifest file');
    }
  }
}

function countOf(
  index: SegmentIndex,
  p: { track: TrackRecord; endBefore?: number; from?: number; to?: number },
): number {
  if (p.endBefore !== undefined) return index.countFragmentsEndingBefore(p.track.id, p.endBefore);
  return index.countFragments(p.track.id, p.from, p.to);
}

export function smilTrack(index: SegmentIndex, t: TrackRecord, trackId: number): SmilTrack {
  const last = index.lastFragment(t.id);
  const measured = last && last.duration > 0 ? Math.round((last.size * 8 * t.timescale) / last.duration) : 0;
  const track: SmilTrack = {
    trackId,
    trackName: t.trackName,
    kind: t.kind,
    src: `${t.trackName}.${t.kind === 'video' ? 'cmfv' : 'cmfa'}`,
    systemBitrate: t.bitrate ?? measured,
    timescale: t.timescale,
    codecs: t.codecs,
  };
  if (t.width) track.width = t.width;
  if (t.height) track.height = t.height;
  if (t.sampleRate) track.sampleRate = t.sampleRate;
  if (t.channels) track.channels = t.channels;
  return track;
}
