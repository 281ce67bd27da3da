/**
 * The live side of channels, composed of three parts with one job each: the publish gate (may this publish
 * start?), the ingest feeds (sessions and the transcoders feeding the publishing points) and channel control
 * (stop, start, restart, delete). The publishing point's state is the origin's (PublishingPointStates); this
 * tells it whether a point is fed, and tells Kaltura's registration when a point starts playing.
 */
import type { IngestMetadata } from '../ingest/ingest-protocol.js';
import type { AuthorizeDecision, IngestServer, PublishRequest } from '../ingest/ingest-server.js';
import type { Logger } from '../lib/logger.js';
import type { FragmentWriter } from '../origin/fragment-writer.js';
import type { PublishingPointOptions } from '../origin/publishing-point-options.js';
import type { PublishingPointStates } from '../origin/publishing-point-state.js';
import type { PublishingPoints } from '../origin/publishing-points.js';
import type { LiveEntry } from '../partner/partner.js';
import type { PublishAuthenticator } from '../partner/publish-authenticator.js';
import type { ConversionProfile } from '../transcode/conversion-profile.js';
import type { Transcoder } from '../transcode/transcoder.js';
import { channelLog, StopCauses, type StopCause } from './channel-log.js';
import { ChannelControl } from './channel-control.js';
import type { ChannelStore } from './channel-store.js';
import { IngestFeeds, type FeedListener, type FeedSlate, type IngestSession } from './ingest-feeds.js';
import { PublishAttempts } from './publish-attempts.js';
import { RefusedPublishes } from './refused-publishes.js';
import { PublishGate, type IngestProblem } from './publish-gate.js';

export type { IngestSession };

export interface LiveChannelsOptions {
  channels: ChannelStore;
  authenticator: PublishAuthenticator;
  ingest: IngestServer;
  fragments: FragmentWriter;
  pps: PublishingPoints;
  /** The publishing point state machine (the origin's). */
  states: PublishingPointStates;
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
    problem?: (p: IngestProblem) => void;
  };
  log: Logger;
  /** How long a transcoder may take to finish after its encoder left (ms). */
  drainMs?: number;
  /** The slate, played while a channel's encoder is away (transcode/slate.ts). */
  slate?: FeedSlate;
}

export class LiveChannels {
  private readonly gate: PublishGate;
  private readonly feeds: IngestFeeds;
  private readonly control: ChannelControl;
  /** Refused publishes that match no channel (the dashboard's "Refused publishes"). */
  readonly refused = new RefusedPublishes();
  /** Each channel's last publish attempt, accepted or refused (the channel header). */
  readonly attempts = new PublishAttempts();
  /** Why the core is ending publishes now (each end of a publish says why). */
  private readonly causes = new StopCauses();

  constructor(private readonly o: LiveChannelsOptions) {
    const record = channelLog(o.channels, o.log, this.causes);
    this.feeds = new IngestFeeds({
      ingest: o.ingest,
      fragments: o.fragments,
      pps: o.pps,
      states: o.states,
      closedReason: (entryId) => this.gate.closedReason(entryId),
      channelExists: (entryId) => o.channels.get(entryId) !== undefined,
      ffmpegPath: o.ffmpegPath,
      profileFor: o.profileFor,
      defaultPpOptions: o.defaultPpOptions,
      ...(o.ppOptionsFor ? { ppOptionsFor: o.ppOptionsFor } : {}),
      ...(o.hooks ? { hooks: o.hooks } : {}),
      record,
      log: o.log,
      ...(o.drainMs !== undefined ? { drainMs: o.drainMs } : {}),
      ...(o.slate ? { slate: o.slate } : {}),
    });
    this.gate = new PublishGate({
      channels: o.channels,
      pps: o.pps,
      authenticator: o.authenticator,
      accepted: this.feeds,
      ...(o.recordEntries !== undefined ? { recordEntries: o.recordEntries } : {}),
      ...(o.hooks?.problem ? { problem: o.hooks.problem } : {}),
      record,
      refused: this.refused,
      attempts: this.attempts,
      log: o.log,
    });
    this.control = new ChannelControl({
      channels: o.channels,
      pps: o.pps,
      endEntry: (entryId) => this.feeds.endEntry(entryId),
      halt: (entryId) => o.states.halt(entryId),
      deleteIndex: (entryId) => o.fragments.index.deletePublishingPoint(entryId),
      forget: (entryId) => o.authenticator.forget(entryId),
      record,
    });
    o.states.isFed = (entryId) => this.feeds.isFed(entryId);
    o.states.follow(o.fragments);
    o.states.on('state', ({ entryId, state }) => {
      if (state === 'started') o.hooks?.playable?.(entryId);
    });
  }

  /** The ingest's question: may this publish start? */
  authorize = (req: PublishRequest): Promise<AuthorizeDecision> => this.gate.authorize(req);

  /** Adds a follower of the channels' live streams (push targets, the content monitor); returns how to remove it. */
  follow(listener: FeedListener): () => void {
    return this.feeds.follow(listener);
  }

  /** Ingest sessions of an entry, with whether each feeds the origin. */
  ingestsOf(entryId: string): Array<IngestSession & { feeding: boolean }> {
    return this.feeds.ingestsOf(entryId);
  }

  /** The transcoders feeding an entry. */
  transcodersOf(entryId: string): Array<{ streamName: string; transcoder: Transcoder }> {
    return this.feeds.transcodersOf(entryId);
  }

  isLive(entryId: string): boolean {
    return this.feeds.ingestsOf(entryId).length > 0;
  }

  /** Disconnects an entry's encoders and stops its transcoders. */
  stopEntry(entryId: string): Promise<void> {
    return this.control.stopEntry(entryId);
  }

  /** Removes a channel's publishing point: fragments, index and directory. */
  deleteEntry(entryId: string): Promise<void> {
    this.attempts.forget(entryId);
    return this.causes.during(entryId, 'deleted', () => this.control.deleteEntry(entryId));
  }

  stopChannel(entryId: string): Promise<void> {
    return this.causes.during(entryId, 'staff-stop', () => this.control.stopChannel(entryId));
  }

  startChannel(entryId: string): Promise<void> {
    return this.control.startChannel(entryId);
  }

  restartChannel(entryId: string): Promise<void> {
    return this.causes.during(entryId, 'staff-restart', () => this.control.restartChannel(entryId));
  }

  /** The entry's blocks after failed publishes (address, until when, why): staff see them with a countdown. */
  blocksOf(entryId: string): Array<{ address: string; until: number; reason: string }> {
    return this.o.authenticator.blocksOf(entryId);
  }

  /**
   * Forgets a successful authentication of the entry (its token changed) and its blocks ("Allow now"), so the
   * next publish is checked again at once.
   */
  forgetAuthentication(entryId: string): void {
    this.o.authenticator.forget(entryId);
  }

  /** From now on every publish that ends, ends for this cause (the appliance is stopping: say why first). */
  stopping(cause: StopCause): void {
    this.causes.setAll(cause);
  }

  /** Stops every transcoder (shutdown): their last fragments are written, every publishing point ends. */
  async stopAll(): Promise<void> {
    this.causes.setAll('shutdown');
    for (const e of await this.feeds.endAll()) this.o.states.halt(e);
  }
}
