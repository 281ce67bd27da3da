/**
 * The ingest feeds: every accepted publish the ingest announces becomes an ingest session, and one transcoder
 * per published stream feeds the entry's publishing point. The origin is fed by the primary ingest (`i=0`); a
 * backup (`i=1`) feeds it only while no primary does. When the last feed of a point ends, its state moves on.
 */
import type { BroadcastRequest } from '../ingest/broadcast-url.js';
import { ingestWarnings, type IngestHealthSnapshot, type IngestWarning } from '../ingest/ingest-health.js';
import type { IngestMetadata } from '../ingest/ingest-protocol.js';
import type { IngestServer } from '../ingest/ingest-server.js';
import type { Logger } from '../lib/logger.js';
import type { FragmentWriter } from '../origin/fragment-writer.js';
import {
  DEFAULT_PP_OPTIONS,
  resolvePpOptions,
  type PublishingPointOptions,
} from '../origin/publishing-point-options.js';
import type { LiveEntry } from '../partner/partner.js';
import type { ConversionProfile } from '../transcode/conversion-profile.js';
import { OUTPUT_TS_OFFSET, planTranscode, type SourceInfo } from '../transcode/ffmpeg-args.js';
import { Transcoder } from '../transcode/transcoder.js';
import type { SlatePlayer } from '../transcode/slate.js';
import type { RecordEvent } from './channel-log.js';
import type { IngestProblem } from './publish-gate.js';

export interface IngestSession {
  sessionId: string;
  request: BroadcastRequest;
  entry: LiveEntry;
  remote: string;
  internalPath?: string;
  metadata: IngestMetadata;
  startedAt: number;
  /** Wall-clock instant (ms) of the encoder's RTMP timestamp 0, as the ingest estimates it. */
  clockOrigin?: number;
  /** Measured from its packets (every 2 s), with what is wrong in plain words. */
  health?: IngestHealthSnapshot;
  warnings?: IngestWarning[];
  /** Warnings already on the channel's events (each said once per session). */
  said?: Set<string>;
}

interface Feed {
  key: string;
  session: IngestSession;
  transcoder: Transcoder;
  stopped?: Promise<void>;
}

/** The publishing point state machine, as the feeds move it (origin/publishing-point-state.ts). */
export interface FeedStates {
  stopping(pp: string): void;
  stopped(pp: string): void;
}

/** The publishing points, as the feeds need them. */
export interface FeedPublishingPoints {
  get(entryId: string): { options: PublishingPointOptions } | undefined;
  ensure(entryId: string, options: PublishingPointOptions): unknown;
}

/** Why a publish accepted a moment ago can no longer start (the gate's answer, asked again). */
export type ClosedReason = (entryId: string) => { code: string; message: string } | undefined;

export interface IngestFeedsOptions {
  ingest: IngestServer;
  fragments: FragmentWriter;
  pps: FeedPublishingPoints;
  states: FeedStates;
  closedReason: ClosedReason;
  channelExists: (entryId: string) => boolean;
  ffmpegPath: string;
  /** The conversion profile for a stream (standalone: one for all). */
  profileFor: (entry: LiveEntry, streamName: string, metadata: IngestMetadata) => Promise<ConversionProfile>;
  /** Options of publishing points created on first publish. */
  defaultPpOptions: PublishingPointOptions;
  /** eCDN mode: options the partner's entry sets (DVR, recording, fragment duration). */
  ppOptionsFor?: (entry: LiveEntry) => PublishingPointOptions;
  /** Told when ingests start and end (Kaltura registration), and of failing transcoders (health beacons). */
  hooks?: {
    ingestStarted?: (s: IngestSession) => void;
    ingestEnded?: (s: IngestSession) => void;
    problem?: (p: IngestProblem) => void;
  };

  /** The slate, played while a channel's encoder is away (its last ingest stopped without the channel stopping). */
  slate?: FeedSlate;
  record: RecordEvent;
  log: Logger;
  /** How long ffmpeg may take to finish on its own after its input ended (ms); default 3 000. */
  drainMs?: number;
}

/** The slate (transcode/slate.ts), as the feeds drive it. */
export type FeedSlate = Pick<SlatePlayer, 'enabled' | 'durationMs' | 'playing' | 'play' | 'stop' | 'on'>;

/**
 * A follower of a channel's live stream (push targets, the content monitor): told when an ingest session starts
 * feeding the origin and when it stops (failover moves the feed to the other session); it pulls the stream from
 * the ingest at `internalPath` (with `IngestServer.pullUrl`, a single-use key per process).
 */
export interface FeedListener {
  feedStarted(f: { entryId: string; streamIndex: number; internalPath: string }): void;
  feedStopped(f: { entryId: string; streamIndex: number }): void;
}

export class IngestFeeds {
  private readonly pending = new Map<string, IngestSession>();
  private readonly sessions = new Map<string, IngestSession>();
  private readonly feeds = new Map<string, Feed>();
  private readonly listeners = new Set<FeedListener>();
  /** Each fed entry's conversion profile's top transcoded video bitrate (bit/s). */
  private readonly profileTopBps = new Map<string, number>();

  constructor(private readonly o: IngestFeedsOptions) {
    o.slate?.on('ended', (entryId, why) => this.slateEnded(entryId, why));
    // A failure here must never take the process down: it is recorded and that encoder disconnected.
    o.ingest.on('published', (m) => {
      this.onPublished(m.sessionId, m.internalPath, m.metadata).catch((err: Error) =>
        this.failed(m.sessionId, err),
      );
    });
    o.ingest.on('unpublished', (m) => {
      this.onUnpublished(m.sessionId).catch((err: Error) => this.failed(m.sessionId, err));
    });
    o.ingest.on('health', (m) => {
      const s = this.sessions.get(m.sessionId);
      if (!s) return;
      const pp = this.o.pps.get(s.request.entryId);
      s.health = m.health;
      s.warnings = ingestWarnings(
        m.health,
        resolvePpOptions(pp?.options ?? {}).fragmentDuration,
        this.profileTopBps.get(s.request.entryId),
      );
      s.said ??= new Set();
      for (const w of s.warnings) {
        if (s.said.has(w.code)) continue;
        s.said.add(w.code);
        const role = s.request.serverIndex === 0 ? 'primary' : 'backup';
        o.record(
          s.request.entryId,
          'warn',
          `INGEST_${w.code}`,
          `${role} ingest ${s.request.streamName}: ${w.message}`,
        );
      }
    });
    o.ingest.on('clock', (m) => {
      const s = this.pending.get(m.sessionId) ?? this.sessions.get(m.sessionId);
      if (s) s.clockOrigin = m.origin;
    });
    o.ingest.on('publishFailed', (m) => {
      const s = this.pending.get(m.sessionId);
      this.pending.delete(m.sessionId);
      if (s) o.record(s.request.entryId, 'error', 'PUBLISH_FAILED', m.reason);
    });
    o.ingest.on('refused', (m) =>
      o.log.warn({ remote: m.remote, reason: m.reason }, 'RTMP connection refused'),
    );
  }

  /** The gate accepted a publish: it becomes a session once the ingest announces it. */
  expect(p: { sessionId: string; request: BroadcastRequest; entry: LiveEntry; remote: string }): void {
    this.pending.set(p.sessionId, { ...p, metadata: {}, startedAt: Date.now() });
  }

  /** Adds a follower of the feeds (told of the ones running now); returns how to remove it. */
  follow(listener: FeedListener): () => void {
    this.listeners.add(listener);
    for (const f of this.feeds.values()) {
      const { entryId, streamIndex } = f.session.request;
      if (!f.stopped)
        listener.feedStarted({ entryId, streamIndex, internalPath: f.session.internalPath ?? '' });
    }
    return () => this.listeners.delete(listener);
  }

  /** Whether a transcoder feeds the publishing point now. */
  isFed(entryId: string): boolean {
    return [...this.feeds.values()].some((f) => f.session.request.entryId === entryId);
  }

  /** Ingest sessions of an entry, with whether each feeds the origin. */
  ingestsOf(entryId: string): Array<IngestSession & { feeding: boolean }> {
    return [...this.sessions.values()]
      .filter((s) => s.request.entryId === entryId)
      .map((s) => ({ ...s, feeding: this.feeds.get(feedKey(s))?.session === s }));
  }

  /** The transcoders feeding an entry. */
  transcodersOf(entryId: string): Array<{ streamName: string; transcoder: Transcoder }> {
    return [...this.feeds.values()]
      .filter((f) => f.session.request.entryId === entryId)
      .map((f) => ({ streamName: f.session.request.streamName, transcoder: f.transcoder }));
  }

  /** Disconnects an entry's encoders and stops its transcoders (their last fragments are written). */
  async endEntry(entryId: string): Promise<void> {
    await this.o.slate?.stop(entryId);
    for (const [id, p] of this.pending) {
      if (p.request.entryId !== entryId) continue;
      this.pending.delete(id);
      this.o.ingest.disconnect(id);
    }
    for (const s of this.ingestsOf(entryId)) this.o.ingest.disconnect(s.sessionId);
    const feeds = [...this.feeds.values()].filter((f) => f.session.request.entryId === entryId);
    for (const f of feeds) this.endSession(f.session);
    await Promise.all(feeds.map((f) => this.stopFeed(f)));
  }

  /** Shutdown: every session ended, every transcoder stopped. The entries that were live. */
  async endAll(): Promise<Set<string>> {
    const entries = new Set([...this.feeds.values()].map((f) => f.session.request.entryId));
    for (const s of this.sessions.values()) entries.add(s.request.entryId);
    for (const s of [...this.sessions.values()]) this.endSession(s);
    for (const e of this.slating) entries.add(e);
    await Promise.all([
      ...[...this.slating].map((e) => this.o.slate?.stop(e)),
      ...[...this.feeds.values()].map((f) => this.stopFeed(f)),
    ]);
    return entries;
  }

  private failed(sessionId: string, err: Error): void {
    const s = this.sessions.get(sessionId) ?? this.pending.get(sessionId);
    this.o.log.error({ sessionId, err: err.message }, 'ingest handling failed');
    if (s)
      this.o.record(s.request.entryId, 'error', 'INGEST_FAILED', `${s.request.streamName}: ${err.message}`);
    this.o.ingest.disconnect(sessionId);
  }

  private async onPublished(
    sessionId: string,
    internalPath: string,
    metadata: IngestMetadata,
  ): Promise<void> {
    const s = this.pending.get(sessionId);
    this.pending.delete(sessionId);
    if (!s) {
      this.o.ingest.disconnect(sessionId);
      return;
    }
    // The channel may have been stopped or deleted while the encoder was being announced.
    const closed = this.o.channelExists(s.request.entryId)
      ? this.o.closedReason(s.request.entryId)
      : { code: 'CHANNEL_NOT_FOUND', message: 'the channel was deleted' };
    if (closed) {
      this.o.record(
        s.request.entryId,
        'warn',
        closed.code,
        `publish of ${s.request.streamName} ended: ${closed.message}`,
      );
      this.o.ingest.disconnect(sessionId);
      return;
    }
    s.internalPath = internalPath;
    s.metadata = metadata;
    this.sessions.set(sessionId, s);
    const { entryId, serverIndex, streamName } = s.request;
    const role = serverIndex === 0 ? 'primary' : 'backup';
    this.o.record(
      entryId,
      'info',
      'PUBLISH_STARTED',
      `${role} ingest ${streamName} from ${s.remote} started (${describe(metadata)})`,
    );
    this.ensurePublishingPoint(entryId, s.entry);
    this.o.hooks?.ingestStarted?.(s);
    const key = feedKey(s);
    const current = this.feeds.get(key);
    if (!current) await this.startFeed(s);
    else if (serverIndex === 0 && current.session.request.serverIndex === 1) {
      this.o.record(entryId, 'info', 'INGEST_SWITCH', `primary ingest is back; origin fed by the primary`);
      await this.stopFeed(current, 0);
      if (this.sessions.has(sessionId)) await this.startFeed(s);
    }
  }

  private async onUnpublished(sessionId: string): Promise<void> {
    const s = this.sessions.get(sessionId) ?? this.pending.get(sessionId);
    this.pending.delete(sessionId);
    if (!s || !this.sessions.delete(sessionId)) return;
    const { entryId, serverIndex, streamName } = s.request;
    const key = feedKey(s);
    const feed = this.feeds.get(key);
    const other = [...this.sessions.values()].find((o) => feedKey(o) === key);
    const lastFeed =
      feed?.session.sessionId === sessionId &&
      !other &&
      ![...this.feeds.values()].some((f) => f !== feed && f.session.request.entryId === entryId);
    // The encoder is away: the slate continues the presentation (below), else it ends.
    const slate = lastFeed && this.o.slate?.enabled === true && this.o.channelExists(entryId);
    // While the slate plays the entry stays live (Kaltura's registration): its end is told when the slate ends.
    if (slate) this.endedLater.set(entryId, [...(this.endedLater.get(entryId) ?? []), s]);
    else this.o.hooks?.ingestEnded?.(s);
    this.o.record(
      entryId,
      'info',
      'PUBLISH_STOPPED',
      `${serverIndex === 0 ? 'primary' : 'backup'} ingest ${streamName} from ${s.remote} stopped`,
    );
    if (!feed || feed.session.sessionId !== sessionId) return;
    if (lastFeed && !slate) this.o.states.stopping(entryId);
    await this.stopFeed(feed);
    if (other && this.sessions.has(other.sessionId) && !this.feeds.has(key)) {
      this.o.record(
        entryId,
        'warn',
        'INGEST_SWITCH',
        `origin now fed by the ${other.request.serverIndex === 0 ? 'primary' : 'backup'} ingest`,
      );
      await this.startFeed(other);
    } else if (!this.isFed(entryId)) {
      if (slate) this.slateOrStop(entryId);
      else this.o.states.stopped(entryId);
    } else if (slate) {
      // Another feed started meanwhile: no slate after all.
      this.tellEnded(entryId);
    }
  }

  /** Entries whose slate is on air. */
  private readonly slating = new Set<string>();
  /** Sessions whose end is told (hooks.ingestEnded) when the slate that followed them ends. */
  private readonly endedLater = new Map<string, IngestSession[]>();

  private tellEnded(entryId: string): void {
    const ended = this.endedLater.get(entryId) ?? [];
    this.endedLater.delete(entryId);
    for (const s of ended) this.o.hooks?.ingestEnded?.(s);
  }

  /** The last feed of an entry ended while its channel goes on: the slate, or (without one) the end. */
  private slateOrStop(entryId: string): void {
    if (this.isFed(entryId) || this.o.slate?.playing(entryId)) {
      this.tellEnded(entryId);
      return;
    }
    if (this.o.slate?.play(entryId)) {
      this.slating.add(entryId);
      const minutes = Math.round((this.o.slate.durationMs / 60_000) * 10) / 10;
      this.o.record(
        entryId,
        'warn',
        'SLATE_ON_AIR',
        `the encoder is away: viewers see the slate for up to ${minutes} min until it returns`,
      );
      return;
    }
    this.tellEnded(entryId);
    this.o.states.stopping(entryId);
    this.o.states.stopped(entryId);
  }

  private slateEnded(entryId: string, why: 'expired' | 'stopped'): void {
    this.tellEnded(entryId);
    if (!this.slating.delete(entryId)) return;
    if (why === 'stopped') {
      this.o.record(entryId, 'info', 'SLATE_OFF_AIR', 'the slate is off air');
      return;
    }
    this.o.record(
      entryId,
      'warn',
      'SLATE_OFF_AIR',
      'the slate is off air: the encoder did not return in time, the presentation ended',
    );
    if (!this.isFed(entryId)) {
      this.o.states.stopping(entryId);
      this.o.states.stopped(entryId);
    }
  }

  private ensurePublishingPoint(entryId: string, entry: LiveEntry): void {
    this.o.pps.ensure(entryId, {
      ...DEFAULT_PP_OPTIONS,
      ...this.o.defaultPpOptions,
      ...this.o.ppOptionsFor?.(entry),
    });
  }

  private async startFeed(s: IngestSession): Promise<void> {
    const { entryId, streamName, streamIndex, serverIndex } = s.request;
    const log = this.o.log.child({ entryId, streamName, serverIndex });
    let profile: ConversionProfile;
    try {
      profile = await this.o.profileFor(s.entry, streamName, s.metadata);
    } catch (err) {
      this.o.record(
        entryId,
        'error',
        'CONVERSION_PROFILE_FAILED',
        `No conversion profile for ${streamName}: ${(err as Error).message}`,
      );
      this.o.ingest.disconnect(s.sessionId);
      return;
    }
    // The encoder is back: the slate ends (its last fragments are written) before its media follows.
    const slated = this.o.slate?.playing(entryId) === true;
    if (slated) await this.o.slate?.stop(entryId);
    // The encoder may have left (or another feed started) while the profile was fetched.
    if (!this.sessions.has(s.sessionId) || this.feeds.has(feedKey(s))) {
      // Gone again while the slate was ending: the slate goes back on air.
      if (slated && !this.isFed(entryId)) this.slateOrStop(entryId);
      return;
    }
    const pp = this.o.pps.get(entryId);
    const { fragmentDuration, hlsLowLatency, hlsPartDuration } = resolvePpOptions(pp?.options ?? {});
    // What the profile's top transcoded rendition sends: an encoder far above it is worth a word (ingest health).
    const top = Math.max(0, ...profile.encodes.filter((e) => e.enabled).map((e) => e.video.bitrate ?? 0));
    if (top > 0) this.profileTopBps.set(entryId, top);
    else this.profileTopBps.delete(entryId);
    const plan = planTranscode(profile, sourceInfo(s.metadata), {
      // Each ffmpeg process gets its own single-use pull URL (below); the plan names the stream without a key.
      inputUrl: this.o.ingest.streamUrl(s.internalPath ?? ''),
      fragmentDuration,
      // Low-latency HLS: part-sized fragments, key frames still every fragment_duration.
      ...(hlsLowLatency ? { partDuration: hlsPartDuration } : {}),
    });
    // Streams 2 and 3 of a multi-bitrate ingest get their own track names in the same publishing point.
    const suffix = streamIndex === 1 ? '' : `_s${streamIndex}`;
    const tracks = plan.tracks.map((t) => ({
      trackName: t.trackName + suffix,
      kind: t.kind,
      bitrate: t.bitrate,
      frameRate: s.metadata.framerate,
      audioTrack: t.audioTrack ? t.audioTrack + suffix : undefined,
    }));
    for (const w of [...profile.warnings, ...plan.warnings])
      this.o.record(entryId, 'warn', 'CONVERSION_PROFILE_WARNING', w);
    for (const d of plan.dropped)
      this.o.record(entryId, 'info', 'RENDITION_DROPPED', `rendition ${d.encode} dropped: ${d.reason}`);
    const transcoder = new Transcoder({
      ffmpegPath: this.o.ffmpegPath,
      plan,
      // ffmpeg keeps RTMP time plus OUTPUT_TS_OFFSET; RTMP time 0 is the encoder's clock origin.
      inputUrl: () => this.o.ingest.pullUrl(s.internalPath ?? ''),
      beginRun: () =>
        this.o.fragments.beginRun(entryId, tracks, serverIndex, () => ({
          wallClock: s.clockOrigin ?? s.startedAt,
          timelineZero: OUTPUT_TS_OFFSET,
        })),
      log,
    });
    const feed: Feed = { key: feedKey(s), session: s, transcoder };
    transcoder.on('restarting', (r) => {
      this.o.record(
        entryId,
        'warn',
        'TRANSCODER_RESTART',
        `transcoder for ${streamName} died (${r.reason}); restart ${r.attempt} in ${r.delayMs} ms`,
      );
      this.o.hooks?.problem?.({ entryId, serverIndex, code: 'TRANSCODER_FAILED', parameter: streamName });
    });
    this.feeds.set(feed.key, feed);
    for (const l of this.listeners)
      l.feedStarted({ entryId, streamIndex: s.request.streamIndex, internalPath: s.internalPath ?? '' });
    this.o.record(
      entryId,
      'info',
      'TRANSCODE_STARTED',
      `transcoding ${streamName} into ${tracks.map((t) => t.trackName).join(', ')}`,
    );
    transcoder.start();
  }

  /** `drainMs`: how long ffmpeg may take to finish on its own (its input ended) before it is interrupted. */
  private stopFeed(feed: Feed, drainMs = this.o.drainMs ?? 3000): Promise<void> {
    if (!feed.stopped) {
      const { entryId, streamIndex } = feed.session.request;
      for (const l of this.listeners) l.feedStopped({ entryId, streamIndex });
    }
    feed.stopped ??= feed.transcoder.stop(drainMs).finally(() => {
      if (this.feeds.get(feed.key) === feed) this.feeds.delete(feed.key);
    });
    return feed.stopped;
  }

  /** Forgets a session the core ends itself (stop, delete, shutdown): its end is recorded and reported. */
  private endSession(s: IngestSession): void {
    if (!this.sessions.delete(s.sessionId)) return;
    this.o.hooks?.ingestEnded?.(s);
    const role = s.request.serverIndex === 0 ? 'primary' : 'backup';
    this.o.record(
      s.request.entryId,
      'info',
      'PUBLISH_STOPPED',
      `${role} ingest ${s.request.streamName} from ${s.remote} stopped`,
    );
  }
}

function feedKey(s: IngestSession): string {
  return `${s.request.entryId}_${s.request.streamIndex}`;
}

function sourceInfo(md: IngestMetadata): SourceInfo {
  const video = md.videocodecidstring !== undefined || md.width !== undefined;
  const audio = md.audiocodecidstring !== undefined || md.audiodatarate !== undefined;
  // An encoder that sent no onMetaData: assume the usual video and audio (ffmpeg finds out for itself).
  const unknown = !video && !audio;
  return {
    hasVideo: video || unknown,
    hasAudio: audio || unknown,
    width: md.width,
    height: md.height,
    frameRate: md.framerate,
    videoCodec: md.videocodecidstring,
    audioCodec: md.audiocodecidstring,
  };
}

function describe(md: IngestMetadata): string {
  const v = md.width
    ? `${md.videocodecidstring ?? 'video'} ${md.width}x${md.height}${md.framerate ? `@${md.framerate}` : ''}`
    : 'no video metadata';
  const a = md.audiocodecidstring ? `, ${md.audiocodecidstring}` : '';
  return v + a;
}
