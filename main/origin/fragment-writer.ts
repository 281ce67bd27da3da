/**
 * The fragment writer: CMAF fragments into a publishing point. ffmpeg writes one fMP4 stream per track; each
 * is split into its init segment and fragments, which are written to disk and recorded in the
 * segment index. Presentation times are anchored to the wall clock (`epoch` + media time), and each
 * fragment's tfdt is rewritten to its presentation time, so HLS, DASH and the files agree.
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs/promises';
import type { Logger } from '../lib/logger.js';
import { FragmentWaiters } from './fragment-waiters.js';
import { FragmentSplitter, parseFragment, parseInit, setBaseMediaDecodeTime, type InitInfo } from './mp4.js';
import type { OriginStorage } from './origin-storage.js';
import { resolvePpOptions } from './publishing-point-options.js';
import type { FragmentRecord, SegmentIndex, TrackRecord } from './segment-index.js';

/**
 * Ties a run's timestamps to the wall clock: decode time `timelineZero` (seconds) happened at `wallClock` (ms).
 * For an RTMP ingest, timestamp 0 is the moment the publish started.
 */
export interface TimelineAnchor {
  wallClock: number;
  timelineZero: number;
}

/**
 * Who fed a fragment (the index's `server_index`): the primary ingest (0), the backup (1), or the slate (2), which
 * continues a presentation while its encoder is away; `/archive` shows slate ranges as such.
 */
export type FeedIndex = 0 | 1 | typeof SLATE_FEED;
export const SLATE_FEED = 2;

/** What the transcoder says about each track it will write. */
export interface TrackSpec {
  trackName: string;
  kind: 'video' | 'audio';
  bitrate?: number;
  frameRate?: number;
  audioTrack?: string;
}

export interface FragmentWriterEvents {
  /** A track's init segment arrived (the publishing point is "starting"). */
  init: [pp: string, track: TrackRecord];
  fragment: [pp: string, track: TrackRecord, fragment: FragmentRecord];
  /** Every track of a run has ended. */
  runEnded: [pp: string, run: TranscoderRun];
  /** A fragment could not be ingested (logged; the stream goes on). */
  failed: [pp: string, err: Error];
}

/** Writes fragments into publishing points; one per appliance. */
export class FragmentWriter extends EventEmitter<FragmentWriterEvents> {
  /** Requests waiting for a track's next fragment (low-latency HLS), woken as fragments are indexed. */
  readonly waiters: FragmentWaiters;

  constructor(
    readonly index: SegmentIndex,
    readonly storage: OriginStorage,
    private readonly log: Logger,
  ) {
    super();
    this.waiters = FragmentWaiters.for(index);
  }

  /** Starts a run: one ffmpeg process writing `tracks` into publishing point `pp`. */
  beginRun(
    pp: string,
    tracks: readonly TrackSpec[],
    serverIndex: FeedIndex,
    anchor?: () => TimelineAnchor,
  ): TranscoderRun {
    return new TranscoderRun(this, pp, tracks, serverIndex, this.log.child({ pp }), anchor);
  }

  /**
   * End of the presentation so far, in seconds since the publishing point's epoch (0 when empty), over the
   * given tracks (all when omitted).
   */
  presentationEnd(pp: string, trackNames?: readonly string[]): number {
    let end = 0;
    for (const t of this.index.tracks(pp)) {
      if (trackNames && !trackNames.includes(t.trackName)) continue;
      const last = this.index.lastFragment(t.id);
      if (last) end = Math.max(end, (last.mediaTime + last.duration) / t.timescale);
    }
    return end;
  }

  /** Deletes what the publishing point's options no longer keep: outside the DVR window, or beyond archive_length. */
  async applyRetention(pp: string, track: TrackRecord, liveEdge: number): Promise<void> {
    const rec = this.index.getPublishingPoint(pp);
    if (!rec) return;
    const o = resolvePpOptions(rec.options);
    // A grace of two fragments (min 10 s) lets players finish fetching what just left the window.
    const keep = o.archiving ? o.archiveLength : o.dvrWindow + Math.max(10, 2 * o.fragmentDuration);
    if (keep <= 0) return;
    const expired = this.index.fragmentsEndingBefore(track.id, liveEdge - Math.round(keep * track.timescale));
    if (expired.length === 0) return;
    this.index.deleteFragments(expired.map((f) => f.id));
    await Promise.all(
      expired.map((f) => {
        const file = this.storage.resolve(pp, f.file);
        this.storage.cache.delete(file);
        return fs.rm(file, { force: true });
      }),
    );
  }
}

/** A transcoder run: one ffmpeg process's worth of tracks, on one timeline. */
export class TranscoderRun {
  private offsetSeconds: number | undefined;
  private readonly inputs: TrackInput[];
  private ended = 0;
  private resolveFinished: () => void = () => undefined;
  /** Resolves when every track has ended and its last fragment is indexed. */
  readonly finished = new Promise<void>((resolve) => (this.resolveFinished = resolve));

  constructor(
    readonly ingest: FragmentWriter,
    readonly pp: string,
    readonly tracks: readonly TrackSpec[],
    readonly serverIndex: FeedIndex,
    readonly log: Logger,
    private readonly anchor?: () => TimelineAnchor,
  ) {
    this.inputs = tracks.map((t) => new TrackInput(this, t));
    if (this.inputs.length === 0) this.resolveFinished();
  }

  /** The byte sink for track `i` (ffmpeg's output `i`). */
  input(i: number): TrackInput {
    const input = this.inputs[i];
    if (!input) throw new RangeError(`no track ${i}`);
    return input;
  }

  get allEnded(): boolean {
    return this.ended === this.inputs.length;
  }

  /**
   * Seconds added to this run's media times, fixed at its first fragment: from the anchor (read then)
   * when there is one, else the wall clock at that first fragment. Never before what the publishing point
   * already holds, and at least 1 s of media time before the first fragment, so a track that starts slightly
   * earlier (audio priming) stays positive.
   */
  offsetFor(startSeconds: number, durationSeconds: number): number {
    if (this.offsetSeconds === undefined) {
      const epoch = this.ingest.index.getPublishingPoint(this.pp)?.epoch ?? Date.now();
      const anchor = this.anchor?.();
      const natural = anchor
        ? (anchor.wallClock - epoch) / 1000 - anchor.timelineZero
        : (Date.now() - epoch) / 1000 - (startSeconds + durationSeconds);
      this.offsetSeconds = Math.max(
        natural,
        this.ingest.presentationEnd(
          this.pp,
          this.tracks.map((t) => t.trackName),
        ) - startSeconds,
        1 - startSeconds,
      );
    }
    return this.offsetSeconds;
  }

  trackEnded(): void {
    this.ended++;
    if (this.allEnded) {
      this.ingest.emit('runEnded', this.pp, this);
      this.resolveFinished();
    }
  }
}

/** Receives one track's fMP4 bytes and turns them into indexed fragment files. */
export class TrackInput {
  private readonly splitter: FragmentSplitter;
  private init: InitInfo | undefined;
  /** This run's init segment, written as `init-<run start>.mp4` with its first fragment. */
  private initBytes: Buffer | undefined;
  private runStart: number | undefined;
  private track: TrackRecord | undefined;
  private first = true;
  /** Work is serialised per track so fragments land in order. */
  private queue: Promise<void> = Promise.resolve();
  private done = false;

  constructor(
    private readonly run: TranscoderRun,
    private readonly spec: TrackSpec,
  ) {
    this.splitter = new FragmentSplitter({
      onInit: (buf) => this.enqueue(() => this.onInit(buf)),
      onFragment: (buf) => this.enqueue(() => this.onFragment(buf)),
      onError: (err) =>
        this.run.log.warn({ track: spec.trackName, err: err.message }, 'fMP4 stream ended mid-box'),
    });
  }

  push(chunk: Buffer): void {
    try {
      this.splitter.push(chunk);
    } catch (err) {
      this.run.log.error(
        { track: this.spec.trackName, err: (err as Error).message },
        'unreadable fMP4 from the transcoder',
      );
    }
  }

  end(): void {
    if (this.done) return;
    this.done = true;
    this.splitter.end();
    this.enqueue(async () => {
      if (this.track) this.run.ingest.index.setTrackState(this.track.id, 'stopped');
      this.run.ingest.waiters.wake(this.run.pp, this.spec.trackName, 'ended');
      this.run.trackEnded();
    });
  }

  private enqueue(work: () => Promise<void>): void {
    this.queue = this.queue.then(work).catch((err: Error) => {
      this.run.log.error({ track: this.spec.trackName, err: err.message }, 'fragment writer failed');
      this.run.ingest.emit('failed', this.run.pp, err);
    });
  }

  private async onInit(buf: Buffer): Promise<void> {
    const { index, storage } = this.run.ingest;
    const info = parseInit(buf);
    this.init = info;
    this.initBytes = Buffer.from(buf);
    const s = this.spec;
    // The slate keeps the track as its encoder described it (players chose a variant by that description).
    const kept = this.run.serverIndex === SLATE_FEED ? index.getTrack(this.run.pp, s.trackName) : undefined;
    this.track =
      kept ??
      index.upsertTrack({
        pp: this.run.pp,
        trackName: s.trackName,
        kind: info.kind,
        timescale: info.timescale,
        codecs: info.codecs,
        bitrate: s.bitrate ?? null,
        width: info.width ?? null,
        height: info.height ?? null,
        frameRate: s.frameRate ?? null,
        sampleRate: info.sampleRate ?? null,
        channels: info.channels ?? null,
        audioTrack: s.audioTrack ?? null,
      });
    await fs.mkdir(storage.trackDir(this.run.pp, s.trackName), { recursive: true });
    // `init.mp4` is the newest encoder run's (what reads a track's media whole, the archive export, expects); the
    // slate's init segment is only its run's own.
    if (this.run.serverIndex !== SLATE_FEED) {
      const initFile = storage.initPath(this.run.pp, s.trackName);
      await writeAtomically(initFile, buf);
      storage.cache.set(initFile, Buffer.from(buf));
    }
    this.run.ingest.emit('init', this.run.pp, this.track);
  }

  private async onFragment(buf: Buffer): Promise<void> {
    const { index, storage } = this.run.ingest;
    if (!this.init || !this.track) throw new Error('fragment before init segment');
    const info = parseFragment(buf, this.init);
    const ts = this.init.timescale;
    const offset = this.run.offsetFor(info.baseMediaDecodeTime / ts, info.duration / ts);
    let mediaTime = Math.max(0, info.baseMediaDecodeTime + Math.round(offset * ts));
    const last = index.lastFragment(this.track.id);
    if (last && mediaTime < last.mediaTime + last.duration) mediaTime = last.mediaTime + last.duration;
    if (this.runStart === undefined) {
      // The run's own init segment, before any fragment that names it is indexed.
      this.runStart = mediaTime;
      const runInit = storage.runInitPath(this.run.pp, this.spec.trackName, mediaTime);
      await writeAtomically(runInit, this.initBytes ?? Buffer.alloc(0));
      storage.cache.set(runInit, Buffer.from(this.initBytes ?? Buffer.alloc(0)));
    }
    // A low-latency part in the middle of a GOP is named as such: a segment never starts with it.
    const file = storage.fragmentFile(this.spec.trackName, mediaTime, info.startsWithSync, this.runStart);
    const target = storage.resolve(this.run.pp, file);
    const data = setBaseMediaDecodeTime(buf, mediaTime);
    await writeAtomically(target, data);
    // Its own copy: `data` may share memory with the pipe's read buffer.
    storage.cache.set(target, Buffer.from(data));
    const rec = index.getPublishingPoint(this.run.pp);
    const fragment = index.addFragment({
      trackId: this.track.id,
      mediaTime,
      duration: info.duration,
      utc: Math.round((rec?.epoch ?? 0) + (mediaTime / ts) * 1000),
      size: buf.length,
      file,
      discontinuity: this.first && last !== undefined,
      serverIndex: this.run.serverIndex,
    });
    if (this.first) index.setTrackState(this.track.id, 'started');
    this.first = false;
    this.run.ingest.emit('fragment', this.run.pp, this.track, fragment);
    this.run.ingest.waiters.wake(this.run.pp, this.spec.trackName, 'fragment');
    await this.run.ingest.applyRetention(this.run.pp, this.track, mediaTime + info.duration);
  }
}

async function writeAtomically(target: string, data: Buffer): Promise<void> {
  const tmp = `${target}.${process.pid}.tmp`;
  await fs.writeFile(tmp, data);
  await fs.rename(tmp, target);
}
