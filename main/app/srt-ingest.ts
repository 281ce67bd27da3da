/**
 * The SRT ingest, put together: the SRT child (main/ingest/srt-server.ts) told each channel's passphrase and
 * latency, its accepted callers admitted as RTMP publish requests (main/channels/srt-admission.ts) and relayed
 * into the RTMP ingest, where the one publish gate decides them.
 */
import type { ChannelStore } from '../channels/channel-store.js';
import type { LiveChannels } from '../channels/live-channels.js';
import type { SrtStatsView } from '../contract/contract.js';
import type { RecordEvent } from '../channels/channel-log.js';
import type { PublishAttempts } from '../channels/publish-attempts.js';
import type { RefusedPublishes } from '../channels/refused-publishes.js';
import { SrtAdmission } from '../channels/srt-admission.js';
import type { AuthorizeDecision, PublishRequest } from '../ingest/ingest-server.js';
import { SrtServer } from '../ingest/srt-server.js';
import type { Logger } from '../lib/logger.js';

export interface SrtIngestOptions {
  bind: string;
  srtPort: number;
  rtmpPort: number;
  ffmpegPath: string;
  partnerId: number;
  channels: ChannelStore;
  record: RecordEvent;
  refused: RefusedPublishes;
  attempts?: PublishAttempts;
  /** Standalone: SRT callers of entries without a channel here are refused before any relay starts. */
  knownEntriesOnly: boolean;
  log: Logger;
  /**
   * eCDN mode: asks the partner's service about an entry (its `srtPass`) and records it, after an SRT caller of an
   * entry the appliance has never seen came with a passphrase (its retry then finds the passphrase set).
   */
  learnEntry?: (entryId: string) => Promise<void>;
}

/**
 * One lookup per entry this often at most, and one lookup in all every LEARN_GAP_MS with one in flight, whatever a
 * stranger sends (each is a call to the partner's service); at most MAX_LEARNING entries remembered.
 */
const LEARN_INTERVAL_MS = 30_000;
const LEARN_GAP_MS = 2_000;
const MAX_LEARNING = 1000;

export class SrtIngest {
  readonly server: SrtServer;
  private readonly admission: SrtAdmission;
  /** Why the SRT ingest is not listening (its port is taken, libsrt is missing), when it is not. */
  error: string | undefined;

  constructor(private readonly o: SrtIngestOptions) {
    this.admission = new SrtAdmission({
      channels: o.channels,
      partnerId: o.partnerId,
      record: o.record,
      refused: o.refused,
      ...(o.attempts ? { attempts: o.attempts } : {}),
      knownEntriesOnly: o.knownEntriesOnly,
    });
    this.server = new SrtServer({
      bind: o.bind,
      srtPort: o.srtPort,
      ffmpegPath: o.ffmpegPath,
      rtmpPort: () => o.rtmpPort,
      admit: (caller) => this.admission.admit(caller),
      log: o.log,
    });
    this.server.on('refused', (r) => {
      this.admission.refusedCaller(r);
      if (r.code === 'SRT_PASSPHRASE_UNEXPECTED' && r.entryId) this.learn(r.entryId);
    });
    o.channels.on('changed', () => this.server.setChannels(this.admission.settings()));
  }

  private readonly learning = new Map<string, number>();
  private lastLookup = 0;
  private lookingUp = false;

  private learn(entryId: string): void {
    const learnEntry = this.o.learnEntry;
    if (!learnEntry || this.o.channels.get(entryId)?.srtPassphrase) return;
    const now = Date.now();
    if ((this.learning.get(entryId) ?? 0) > now - LEARN_INTERVAL_MS) return;
    if (this.lookingUp || now - this.lastLookup < LEARN_GAP_MS) return;
    this.learning.set(entryId, now);
    this.lastLookup = now;
    this.lookingUp = true;
    while (this.learning.size > MAX_LEARNING)
      this.learning.delete(this.learning.keys().next().value as string);
    learnEntry(entryId)
      .catch((err: Error) =>
        this.o.log.warn({ entryId, err: err.message }, 'could not learn the entry for SRT'),
      )
      .finally(() => {
        this.lookingUp = false;
      });
  }

  /**
   * Starts listening. A failure does not stop the appliance (RTMP still works): it is logged and shown in the
   * status.
   */
  async start(): Promise<void> {
    this.server.setChannels(this.admission.settings());
    try {
      await this.server.start();
      this.error = undefined;
    } catch (err) {
      this.error = (err as Error).message;
      this.o.log.error({ err: this.error }, 'SRT ingest not listening');
    }
  }

  /**
   * The RTMP ingest's authorize, with SRT relays first: a loopback publish presenting a relay key is decided as
   * the SRT caller's own publish; a refusal hangs up on the caller at once.
   */
  authorize(
    req: PublishRequest,
    next: (req: PublishRequest) => Promise<AuthorizeDecision>,
  ): Promise<AuthorizeDecision> {
    const relayed = this.server.relayRequest(req);
    if (relayed === undefined) return next(req);
    if ('code' in relayed)
      return Promise.resolve({ allow: false, code: relayed.code, reason: relayed.reason });
    return next(relayed).then((d) => {
      if (!d.allow) this.server.refusedRelay(req.sessionId, d.code, d.reason);
      return d;
    });
  }

  get port(): number {
    return this.server.listeningPort;
  }

  stop(): Promise<void> {
    return this.server.stop();
  }
}

/** Every SRT caller feeding a channel now, with SRT's statistics of its link (for /metrics). */
export function srtCallers(
  srt: SrtIngest,
  channels: Pick<ChannelStore, 'list'>,
  live: Pick<LiveChannels, 'ingestsOf'>,
): Array<{ entry: string; role: 'primary' | 'backup'; stats: SrtStatsView }> {
  return channels.list().flatMap((c) =>
    live.ingestsOf(c.entryId).flatMap((s) => {
      const stats = srt.server.statsOf(s.sessionId);
      return stats
        ? [
            {
              entry: c.entryId,
              role: s.request.serverIndex === 0 ? ('primary' as const) : ('backup' as const),
              stats,
            },
          ]
        : [];
    }),
  );
}
