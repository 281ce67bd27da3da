/**
 * Decides every publish, as the Kaltura media server does: the broadcast URL and stream name rules, then the
 * partner (standalone tokens or liveStream.authenticate), then the channel (stopped, or its stream closed). A
 * refusal is logged, put on the channel's events and reported as an ingest problem; an accepted publish is
 * handed to the feeds, which take it from there once the ingest announces it.
 */
import type { PublishingPointState } from '../contract/contract.js';
import {
  ENTRY_ID_PATTERN,
  entryIdOf,
  parseBroadcastRequest,
  type BroadcastRequest,
  type Rejection,
} from '../ingest/broadcast-url.js';
import type { AuthorizeDecision, PublishRequest } from '../ingest/ingest-server.js';
import type { Logger } from '../lib/logger.js';
import { resolvePpOptions, type PublishingPointOptions } from '../origin/publishing-point-options.js';
import type { LiveEntry } from '../partner/partner.js';
import type { PublishAuthenticator } from '../partner/publish-authenticator.js';
import type { RecordEvent } from './channel-log.js';
import type { PublishAttempts } from './publish-attempts.js';
import type { RefusedPublishes } from './refused-publishes.js';

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

/** An ingest problem worth reporting to the partner (Kaltura health beacons). */
export interface IngestProblem {
  entryId: string;
  serverIndex: 0 | 1;
  code: string;
  parameter?: string;
}

/** The channels, as the gate needs them. */
export interface GateChannels {
  get(entryId: string): { accepting: boolean } | undefined;
  upsertEntry(
    entryId: string,
    partnerId: number,
    name: string | undefined,
    token: string | undefined,
    now?: number,
    srtPassphrase?: string | null,
  ): unknown;
  setKalturaBroadcastUrl(entryId: string, url: string): void;
}

/** The publishing points, as the gate needs them. */
export interface GatePublishingPoints {
  get(entryId: string): { state: PublishingPointState; options: PublishingPointOptions } | undefined;
}

/** Where an accepted publish goes: the feeds wait for the ingest to announce it. */
export interface AcceptedPublishes {
  expect(p: { sessionId: string; request: BroadcastRequest; entry: LiveEntry; remote: string }): void;
}

export interface PublishGateOptions {
  channels: GateChannels;
  pps: GatePublishingPoints;
  authenticator: PublishAuthenticator;
  accepted: AcceptedPublishes;
  /** eCDN mode: partner entries get a local channel record on first contact. */
  recordEntries?: boolean;
  problem?: (p: IngestProblem) => void;
  record: RecordEvent;
  /** Refusals of publishes that match no channel (nobody's events would show them). */
  refused: RefusedPublishes;
  /** Each channel's last publish attempt (the channel header shows it). */
  attempts?: PublishAttempts;
  log: Logger;
}

export class PublishGate {
  constructor(private readonly o: PublishGateOptions) {}

  /** The ingest's question: may this publish start? */
  authorize = async (req: PublishRequest): Promise<AuthorizeDecision> => {
    const parsed = parseBroadcastRequest(req.app, req.query, req.streamName);
    if (!parsed.ok) return this.refuse(req, entryIdOf(req.query.e), parsed.rejection);
    const r = parsed.value;
    const result = await this.o.authenticator.authorize(r, req.remote);
    if (!result.ok) return this.refuse(req, r.entryId, result.rejection);
    const closed = this.closedReason(r.entryId);
    if (closed) return this.refuse(req, r.entryId, closed);
    if (this.o.recordEntries) {
      this.o.channels.upsertEntry(
        r.entryId,
        r.partnerId,
        result.entry.name,
        r.token,
        undefined,
        result.entry.srtPass,
      );
      if (result.entry.primaryBroadcastingUrl)
        this.o.channels.setKalturaBroadcastUrl(r.entryId, result.entry.primaryBroadcastingUrl);
    }
    this.o.accepted.expect({ sessionId: req.sessionId, request: r, entry: result.entry, remote: req.remote });
    this.o.attempts?.accepted(r.entryId, req.remote, req.transport ?? 'rtmp');
    const internalName = r.serverIndex === 0 ? r.streamName : `${r.streamName}-backup`;
    return { allow: true, internalName };
  };

  /** Why a correctly authenticated publish is still refused: the channel is stopped, or its stream is closed. */
  closedReason(entryId: string): Rejection | undefined {
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
      this.o.problem?.({
        entryId,
        serverIndex: req.query.i === '1' ? 1 : 0,
        code: rej.code,
        ...(req.streamName ? { parameter: req.streamName.slice(0, 100) } : {}),
      });
    }
    if (!entryId || !this.o.channels.get(entryId)) {
      this.o.refused.add({
        remote: req.remote,
        code: rej.code,
        message: rej.message,
        streamName: req.streamName,
        ...(entryId ? { entryId } : {}),
      });
    }
    if (entryId && this.o.channels.get(entryId)) {
      this.o.attempts?.refused(entryId, {
        remote: req.remote,
        transport: req.transport ?? 'rtmp',
        code: rej.code,
        message: rej.message,
      });
    }
    if (entryId) {
      this.o.record(
        entryId,
        'error',
        rej.code,
        `Publish of ${req.streamName || '(no stream name)'} from ${req.remote} rejected: ${rej.message}`,
      );
    }
    return { allow: false, code: rej.code, reason: rej.message };
  }
}
