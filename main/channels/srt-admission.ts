/**
 * The channels' side of the SRT ingest: what the SRT child must know of each channel before a caller arrives
 * (its passphrase and latency), the publish request an accepted caller makes (the RTMP broadcast URL's query,
 * so the one publish gate decides it), and where a caller refused during the SRT handshake is reported.
 */
import type { SrtCaller, SrtChannelSettings } from '../ingest/srt-protocol.js';
import type { ChannelRecord } from './channel-store.js';
import type { RecordEvent } from './channel-log.js';
import type { PublishAttempts } from './publish-attempts.js';
import type { RefusedPublishes } from './refused-publishes.js';

export interface SrtAdmissionOptions {
  channels: { get(entryId: string): ChannelRecord | undefined; list(): ChannelRecord[] };
  partnerId: number;
  record: RecordEvent;
  refused: RefusedPublishes;
  /** Each channel's last publish attempt (the channel header shows it). */
  attempts?: PublishAttempts;
  /** Standalone: an entry without a channel here is refused at once (eCDN: the partner's service decides). */
  knownEntriesOnly?: boolean;
}

export type Admission = { query: Record<string, string> } | { code: string; reason: string };

export class SrtAdmission {
  constructor(private readonly o: SrtAdmissionOptions) {}

  /** Every channel's SRT settings, as the child needs them. */
  settings(): Record<string, SrtChannelSettings> {
    const out: Record<string, SrtChannelSettings> = {};
    for (const c of this.o.channels.list()) {
      out[c.entryId] = {
        latencyMs: c.srtLatencyMs,
        ...(c.srtPassphrase ? { passphrase: c.srtPassphrase } : {}),
      };
    }
    return out;
  }

  /**
   * The publish request of a caller that passed the SRT handshake. A Kaltura stream id carries its token; a plain
   * `<entry>_<n>` was authenticated by the channel's passphrase, so its publish carries the channel's token.
   */
  admit(caller: SrtCaller): Admission {
    if (this.o.knownEntriesOnly && !this.o.channels.get(caller.entryId)) {
      return this.refuse(caller, 'ENTRY_ID_NOT_FOUND', `No channel ${caller.entryId} on this appliance`);
    }
    let token = caller.token;
    if (caller.form === 'plain') {
      const c = this.o.channels.get(caller.entryId);
      if (!c?.srtPassphrase || !caller.encrypted) {
        return this.refuse(
          caller,
          'SRT_PASSPHRASE_REQUIRED',
          `A plain stream id needs the channel's SRT passphrase`,
        );
      }
      if (!c.token) {
        return this.refuse(
          caller,
          'MISSING_ARGUMENT',
          'No stream token is known for this entry yet: use the #:::e=…,st=0,p=<token> stream id once',
        );
      }
      token = c.token;
    }
    return {
      query: {
        p: String(this.o.partnerId),
        e: caller.entryId,
        i: String(caller.serverIndex),
        t: token ?? '',
      },
    };
  }

  /** A caller refused before it could publish: on its channel's events, or in the appliance-wide list. */
  refusedCaller(r: {
    remote: string;
    entryId?: string;
    streamId: string;
    code: string;
    reason: string;
  }): void {
    const known = r.entryId !== undefined && this.o.channels.get(r.entryId) !== undefined;
    if (known) {
      this.o.attempts?.refused(r.entryId as string, {
        remote: r.remote,
        transport: 'srt',
        code: r.code,
        message: r.reason,
      });
      this.o.record(
        r.entryId as string,
        'error',
        r.code,
        `SRT publish from ${r.remote} rejected: ${r.reason}`,
      );
      return;
    }
    this.o.refused.add({
      remote: r.remote,
      code: r.code,
      message: `SRT: ${r.reason}`,
      streamName: r.streamId,
      ...(r.entryId ? { entryId: r.entryId } : {}),
    });
  }

  private refuse(caller: SrtCaller, code: string, reason: string): Admission {
    this.refusedCaller({
      remote: caller.remote,
      entryId: caller.entryId,
      streamId: caller.streamName,
      code,
      reason,
    });
    return { code, reason };
  }
}
