/**
 * The live side of channels: decides every publish (broadcast URL rules, then the partner), starts one
 * transcoder per published stream feeding the entry's publishing point, and follows the ingest state.
 * The origin is fed by the primary ingest (`i=0`); a backup (`i=1`) feeds it only while no primary does.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from '../lib/logger.js';
import {
  ENTRY_ID_PATTERN,
  entryIdOf,
  parseBroadcastRequest,
  type BroadcastRequest,
  type Rejection,
} from '../ingest/broadcast-url.js';
import type { IngestMetadata } from '../ingest/ingest-protocol.js';
import type { AuthorizeDecision, IngestServer, PublishRequest } from '../ingest/ingest-server.js';
import type { FragmentIngest } from '../origin/fragment-ingest.js';
import type { PublishingPoints } from '../origin/publishing-points.js';
import {
  DEFAULT_PP_OPTIONS,
  resolvePpOptions,
  type PublishingPointOptions,
} from '../origin/publishing-point-options.js';
import type { IngestState } from '../contract/contract.js';
import type { LiveEntry } from '../partner/partner.js';
import type { PublishAuthenticator } from '../partner/publish-authenticator.js';
import type { ConversionProfile } from '../transcode/conversion-profile.js';
import { OUTPUT_TS_OFFSET, planTranscode, type SourceInfo } from '../transcode/ffmpeg-args.js';
import { Transcoder } from '../transcode/transcoder.js';
import type { ChannelEvent, ChannelStore, EventLevel } from './channel-store.js';

/** Refusals that say the entry is not (visibly) the partner's: no local record for those. */
/**
 * eCDN mode: refusals the partner's service gave after it found the entry (liveStream.authenticate checks the
 * entry first): only these prove an entry exists, so only these create a local record of it. Anything else (a
 * made-up entry id, a malformed URL, a service that refused the partner itself) records nothing.
 */
const ENTRY_PROVEN_CODES = new Set([
  'LIVE_STREAM_INVALID_TOKEN',
  'MEDIA_SERVER_NOT_FOUND',
  'SERVICE_FORBIDDEN_CONTENT_BLOCKED',
  'LIVE_STREAM_EXCEEDED_MAX_PASSTHRU',
  'LIVE_STREAM_EXCEEDED_MAX_TRANSCODED',
  'LIVE_STREAM_EXCEEDED_MAX_CONCURRENT_BY_ADMIN_TAG',
  'LIVE_STREAM_ALREADY_BROADCASTING',
]);

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
}

interface Feed {
  key: string;
  session: IngestSession;
  transcoder: Transcoder;
  stopped?: Promise<void>;
}

export interface LiveChannelsEvents {
  event: [ChannelEvent];
  state: [{ entryId: string; state: IngestState }];
}

export interface LiveChannelsOptions {
  channels: ChannelStore;
  authenticator: PublishAuthenticator;
  ingest: IngestServer;
  fragments: FragmentIngest;
  pps: PublishingPoints;
  ffmpegPath: string;
  /** The conversion profile for a stream (standalone: one for all). */
  profileFor: (entry: LiveEntry, streamName: string, metadata: IngestMetadata) => Promise<ConversionProfile>;
  /** Options of publishing points created on first publish. */
  defaultPpOptions: PublishingPointOptions;
  /** eCDN mode: options the partner's entry sets (DVR, recording, fragment duration). */
  ppOptionsFor?: (entry: LiveEntry) => PublishingPointOptions;
  /** eCDN mode: partner entries get a local channel record on first contact. */
  recordEntries?: boolean;
  /** Told when ingests start and end, and when an entry's first fragments are out (Kaltura registration). */
  hooks?: {
    ingestStarted?: (s: IngestSession) => void;
    ingestEnded?: (s: IngestSession) => void;
    playable?: (entryId: string) => void;
    /** An ingest problem staff of the partner should see in Kaltura too (a refused publish, a failing transcoder). */
    problem?: (p: { entryId: string; serverIndex: 0 | 1; code: string; parameter?: string }) => void;
  };
  log: Logger;
}

export class LiveChannels extends EventEmitter<LiveChannelsEvents> {
  private readonly pending = new Map<string, IngestSession>();
  private readonly sessions = new Map<string, IngestSession>();
  private readonly feeds = new Map<string, Feed>();

  constructor(private readonly o: LiveChannelsOptions) {
    super();
    // A failure here must never take the process down: it is recorded and that encoder disconnected.
    o.ingest.on('published', (m) => {
      this.onPublished(m.sessionId, m.internalPath, m.metadata).catch((err: Error) =>
        this.failed(m.sessionId, err),
      );
    });
    o.ingest.on('unpublished', (m) => {
      this.onUnpublished(m.sessionId).catch((err: Error) => this.failed(m.sessionId, err));
    });
    o.ingest.on('clock', (m) => {
      const s = this.pending.get(m.sessionId) ?? this.sessions.get(m.sessionId);
      if (s) s.clockOrigin = m.origin;
    });
    o.ingest.on('publishFailed', (m) => {
      const s = this.pending.get(m.sessionId);
      this.pending.delete(m.sessionId);
      if (s) this.record(s.request.entryId, 'error', 'PUBLISH_FAILED', m.reason);
    });
    o.ingest.on('refused', (m) =>
      o.log.warn({ remote: m.remote, reason: m.reason }, 'RTMP connection refused'),
    );
    o.fragments.on('init', (pp) => this.advance(pp, 'starting'));
    o.fragments.on('fragment', (pp) => this.advance(pp, 'started'));
  }

  private failed(sessionId: string, err: Error): void {
    const s = this.sessions.get(sessionId) ?? this.pending.get(sessionId);
    this.o.log.error({ sessionId, err: err.message }, 'ingest handling failed');
    if (s)
      this.record(s.request.entryId, 'error', 'INGEST_FAILED', `${s.request.streamName}: ${err.message}`);
    this.o.ingest.disconnect(sessionId);
  }

  /** The ingest's question: may this publish start? */
  authorize = async (req: PublishRequest): Promise<AuthorizeDecision> => {
    const parsed = parseBroadcastRequest(req.app, req.query, req.streamName);
    if (!parsed.ok) return this.refuse(req, entryIdOf(req.query.e), parsed.rejection);
    const r = parsed.value;
    const result = await this.o.authenticator.authorize(r);
    if (!result.ok) return this.refuse(req, r.entryId, result.rejection);
    const closed = this.closedReason(r.entryId);
    if (closed) return this.refuse(req, r.entryId, closed);
    if (this.o.recordEntries) this.o.channels.upsertEntry(r.entryId, r.partnerId, result.entry.name, r.token);
    this.pending.set(req.sessionId, {
      sessionId: req.sessionId,
      request: r,
      entry: result.entry,
      remote: req.remote,
      metadata: {},
      startedAt: Date.now(),
    });
    const internalName = r.serverIndex === 0 ? r.streamName : `${r.streamName}-backup`;
    return { allow: true, internalName };
  };

  /** Why a correctly authenticated publish is still refused: the channel is stopped, or its stream is closed. */
  private closedReason(entryId: string): Rejection | undefined {
    if (this.o.channels.get(entryId)?.accepting === false) {
      return { code: 'CHANNEL_STOPPED', message: 'The channel is stopped; start it to accept publishes' };
    }
    const pp = this.o.pps.get(entryId);
    if (pp && pp.state === 'stopped' && !resolvePpOptions(pp.options).restartOnEncoderReconnect) {
      return {
        code: 'STREAM_CLOSED',
        message:
          'Stream is closed, cannot restart (restart_on_encoder_reconnect is off): restart the channel first',
      };
    }
    return undefined;
  }

  private refuse(req: PublishRequest, entryId: string | undefined, rej: Rejection): AuthorizeDecision {
    if (
      this.o.recordEntries &&
      entryId &&
      ENTRY_ID_PATTERN.test(entryId) &&
      ENTRY_PROVEN_CODES.has(rej.code)
    ) {
      this.o.channels.upsertEntry(entryId, this.o.authenticator.partnerId, undefined, undefined);
    }
    this.o.log.warn(
      { remote: req.remote, streamName: req.streamName, entryId, code: rej.code, reason: rej.message },
      'publish rejected',
    );
    if (entryId && ENTRY_ID_PATTERN.test(entryId)) {
      this.o.hooks?.problem?.({
        entryId,
        serverIndex: req.query.i === '1' ? 1 : 0,
        code: rej.code,
        ...(req.streamName ? { parameter: req.streamName.slice(0, 100) } : {}),
      });
    }
    if (entryId && this.o.channels.get(entryId)) {
      this.record(
        entryId,
        'error',
        rej.code,
        `Publish of ${req.streamName || '(no stream name)'} from ${req.remote} rejected: ${rej.message}`,
      );
    }
    return { allow: false, code: rej.code, reason: rej.message };
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
    const closed = this.o.channels.get(s.request.entryId)
      ? this.closedReason(s.request.entryId)
      : { code: 'CHANNEL_NOT_FOUND', message: 'the channel was deleted' };
    if (closed) {
      this.record(
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
    this.record(
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
      this.record(entryId, 'info', 'INGEST_SWITCH', `primary ingest is back; origin fed by the primary`);
      await this.stopFeed(current, 0);
      if (this.sessions.has(sessionId)) await this.startFeed(s);
    }
  }

  private async onUnpublished(sessionId: string): Promise<void> {
    const s = this.sessions.get(sessionId) ?? this.pending.get(sessionId);
    this.pending.delete(sessionId);
    if (!s || !this.sessions.delete(sessionId)) return;
    this.o.hooks?.ingestEnded?.(s);
    const { entryId, streamName, serverIndex } = s.request;
    this.record(
      entryId,
      'info',
      'PUBLISH_STOPPED',
      `${serverIndex === 0 ? 'primary' : 'backup'} ingest ${streamName} from ${s.remote} stopped`,
    );
    const key = feedKey(s);
    const feed = this.feeds.get(key);
    if (!feed || feed.session.sessionId !== sessionId) return;
    const other = [...this.sessions.values()].find((o) => feedKey(o) === key);
    if (
      !other &&
      ![...this.feeds.values()].some((f) => f !== feed && f.session.request.entryId === entryId)
    ) {
      this.advance(entryId, 'stopping');
    }
    await this.stopFeed(feed);
    if (other && this.sessions.has(other.sessionId) && !this.feeds.has(key)) {
      this.record(
        entryId,
        'warn',
        'INGEST_SWITCH',
        `origin now fed by the ${other.request.serverIndex === 0 ? 'primary' : 'backup'} ingest`,
      );
      await this.startFeed(other);
    } else if (![...this.feeds.values()].some((f) => f.session.request.entryId === entryId)) {
      this.advance(entryId, 'stopped');
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
      this.record(
        entryId,
        'error',
        'CONVERSION_PROFILE_FAILED',
        `No conversion profile for ${streamName}: ${(err as Error).message}`,
      );
      this.o.ingest.disconnect(s.sessionId);
      return;
    }
    // The encoder may have left (or another feed started) while the profile was fetched.
    if (!this.sessions.has(s.sessionId) || this.feeds.has(feedKey(s))) return;
    const pp = this.o.pps.get(entryId);
    const { fragmentDuration, hlsLowLatency, hlsPartDuration } = resolvePpOptions(pp?.options ?? {});
    const plan = planTranscode(profile, sourceInfo(s.metadata), {
      inputUrl: this.o.ingest.pullUrl(s.internalPath ?? ''),
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
      this.record(entryId, 'warn', 'CONVERSION_PROFILE_WARNING', w);
    for (const d of plan.dropped)
      this.record(entryId, 'info', 'RENDITION_DROPPED', `rendition ${d.encode} dropped: ${d.reason}`);
    const transcoder = new Transcoder({
      ffmpegPath: this.o.ffmpegPath,
      plan,
      // ffmpeg keeps RTMP time plus OUTPUT_TS_OFFSET; RTMP time 0 is the encoder's clock origin.
      beginRun: () =>
        this.o.fragments.beginRun(entryId, tracks, serverIndex, () => ({
          wallClock: s.clockOrigin ?? s.startedAt,
          timelineZero: OUTPUT_TS_OFFSET,
        })),
      log,
    });
    const feed: Feed = { key: feedKey(s), session: s, transcoder };
    transcoder.on('restarting', (r) => {
      this.record(
        entryId,
        'warn',
        'TRANSCODER_RESTART',
        `transcoder for ${streamName} died (${r.reason}); restart ${r.attempt} in ${r.delayMs} ms`,
      );
      this.o.hooks?.problem?.({ entryId, serverIndex, code: 'TRANSCODER_FAILED', parameter: streamName });
    });
    this.feeds.set(feed.key, feed);
    this.record(
      entryId,
      'info',
      'TRANSCODE_STARTED',
      `transcoding ${streamName} into ${tracks.map((t) => t.trackName).join(', ')}`,
    );
    transcoder.start();
  }

  /** `drainMs`: how long ffmpeg may take to finish on its own (its input ended) before it is interrupted. */
  private stopFeed(feed: Feed, drainMs = 3000): Promise<void> {
    feed.stopped ??= feed.transcoder.stop(drainMs).finally(() => {
      if (this.feeds.get(feed.key) === feed) this.feeds.delete(feed.key);
    });
    return feed.stopped;
  }

  /** Moves a publishing point's state forward (idle → starting → started; → stopping → stopped). */
  private advance(entryId: string, to: IngestState): void {
    const index = this.o.fragments.index;
    const pp = index.getPublishingPoint(entryId);
    if (!pp || pp.state === to) return;
    if (to === 'starting' && pp.state === 'started' && this.feeds.size > 0) return;
    if (to === 'started' && pp.state !== 'starting' && pp.state !== 'idle' && pp.state !== 'stopped') return;
    if (
      (to === 'starting' || to === 'started') &&
      ![...this.feeds.values()].some((f) => f.session.request.entryId === entryId)
    )
      return;
    index.setState(entryId, to);
    this.emit('state', { entryId, state: to });
    if (to === 'started') this.o.hooks?.playable?.(entryId);
  }

  private record(entryId: string, level: EventLevel, code: string, message: string): void {
    if (!this.o.channels.get(entryId)) return;
    const ev = this.o.channels.addEvent(entryId, level, code, message);
    this.o.log[level]({ entryId, code }, message);
    this.emit('event', ev);
  }

  /** Forgets a session the core ends itself (stop, delete, shutdown): its end is recorded and reported. */
  private endSession(s: IngestSession): void {
    if (!this.sessions.delete(s.sessionId)) return;
    this.o.hooks?.ingestEnded?.(s);
    const role = s.request.serverIndex === 0 ? 'primary' : 'backup';
    this.record(
      s.request.entryId,
      'info',
      'PUBLISH_STOPPED',
      `${role} ingest ${s.request.streamName} from ${s.remote} stopped`,
    );
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

  isLive(entryId: string): boolean {
    return this.ingestsOf(entryId).length > 0;
  }

  /** Disconnects an entry's encoders and stops its transcoders. */
  async stopEntry(entryId: string): Promise<void> {
    for (const [id, p] of this.pending) {
      if (p.request.entryId !== entryId) continue;
      this.pending.delete(id);
      this.o.ingest.disconnect(id);
    }
    for (const s of this.ingestsOf(entryId)) this.o.ingest.disconnect(s.sessionId);
    const feeds = [...this.feeds.values()].filter((f) => f.session.request.entryId === entryId);
    for (const f of feeds) this.endSession(f.session);
    await Promise.all(feeds.map((f) => this.stopFeed(f)));
    const pp = this.o.fragments.index.getPublishingPoint(entryId);
    if (pp && pp.state !== 'idle' && pp.state !== 'stopped') {
      this.o.fragments.index.setState(entryId, 'stopped');
      this.emit('state', { entryId, state: 'stopped' });
    }
  }

  /** Removes a channel's publishing point: fragments, index and directory. */
  async deleteEntry(entryId: string): Promise<void> {
    await this.stopEntry(entryId);
    this.o.pps.removeFiles(entryId);
    this.o.fragments.index.deletePublishingPoint(entryId);
    this.o.authenticator.forget(entryId);
  }

  /** Channel control runs one action at a time per channel: a stop during a restart waits for it, then wins. */
  private readonly control = new Map<string, Promise<unknown>>();

  private serialised<T>(entryId: string, action: () => Promise<T>): Promise<T> {
    const previous = this.control.get(entryId) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(action);
    this.control.set(entryId, next);
    void next
      .finally(() => {
        if (this.control.get(entryId) === next) this.control.delete(entryId);
      })
      .catch(() => undefined);
    return next;
  }

  /** Channel control `stop`: encoders disconnected, streams ended, publishes refused until `start`. */
  stopChannel(entryId: string): Promise<void> {
    return this.serialised(entryId, () => this.doStop(entryId));
  }

  /** Channel control `start`: publishes are accepted again. */
  startChannel(entryId: string): Promise<void> {
    return this.serialised(entryId, async () => this.doStart(entryId));
  }

  /** Channel control `restart` (see doRestart). */
  restartChannel(entryId: string): Promise<void> {
    return this.serialised(entryId, () => this.doRestart(entryId));
  }

  private async doStop(entryId: string): Promise<void> {
    this.o.channels.setAccepting(entryId, false);
    this.record(
      entryId,
      'info',
      'CHANNEL_STOPPING',
      'stopping: disconnecting the encoders and ending the streams',
    );
    await this.stopEntry(entryId);
    this.record(
      entryId,
      'info',
      'CHANNEL_STOPPED',
      'channel stopped; publishes are refused until it is started',
    );
  }

  private doStart(entryId: string): void {
    this.o.channels.setAccepting(entryId, true);
    this.o.authenticator.forget(entryId);
    this.record(entryId, 'info', 'CHANNEL_STARTED', 'channel started; publishes are accepted');
  }

  /**
   * Channel control `restart`, the seed's "Restart a session completely": stop the encoder, purge the archive
   * completely, delete the publishing point, create it again with the same options, accept the encoder again.
   * Each step is reported as an event as it happens.
   */
  private async doRestart(entryId: string): Promise<void> {
    const step = (n: number, message: string) =>
      this.record(entryId, 'info', 'RESTART_STEP', `${n}/5 ${message}`);
    const wasAccepting = this.o.channels.get(entryId)?.accepting !== false;
    this.o.channels.setAccepting(entryId, false);
    try {
      step(1, 'stopping the encoder');
      await this.stopEntry(entryId);
      const pp = this.o.pps.get(entryId);
      if (pp) {
        step(2, 'purging the archive completely');
        await this.o.pps.purge(entryId, { kind: 'keep', seconds: 0 });
        step(3, 'deleting the publishing point');
        this.o.pps.remove(entryId);
        step(4, 'creating the publishing point again with the same options');
        this.o.pps.ensure(entryId, pp.options);
      } else {
        step(2, 'nothing to purge: no publishing point yet');
        step(3, 'nothing to delete');
        step(4, 'the publishing point will be created on the next publish');
      }
    } catch (err) {
      if (wasAccepting) this.o.channels.setAccepting(entryId, true);
      this.record(entryId, 'error', 'RESTART_FAILED', `restart failed: ${(err as Error).message}`);
      throw err;
    }
    step(5, 'accepting the encoder again');
    this.o.channels.setAccepting(entryId, true);
    this.o.authenticator.forget(entryId);
    this.record(entryId, 'info', 'RESTART_DONE', 'restart complete');
  }

  /** Stops every transcoder (shutdown): their last fragments are written, every publishing point ends. */
  async stopAll(): Promise<void> {
    const entries = new Set([...this.feeds.values()].map((f) => f.session.request.entryId));
    for (const s of this.sessions.values()) entries.add(s.request.entryId);
    for (const s of [...this.sessions.values()]) this.endSession(s);
    await Promise.all([...this.feeds.values()].map((f) => this.stopFeed(f)));
    for (const e of entries) {
      const pp = this.o.fragments.index.getPublishingPoint(e);
      if (pp && pp.state !== 'idle' && pp.state !== 'stopped') this.o.fragments.index.setState(e, 'stopped');
    }
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
