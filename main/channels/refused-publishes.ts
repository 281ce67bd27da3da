/**
 * Publishes that match no channel, for the dashboard's "Refused publishes" panel: the most common mistake (the
 * broadcast URL without `/<stream name>`, an entry id from another appliance, a URL typed by hand) has no channel
 * whose events could say it. Repeats are one row with a count; at most {@link MAX_REFUSED} rows, the oldest go, so
 * a stranger sending junk cannot grow it.
 */
import { EventEmitter } from 'node:events';
import type { RefusedPublishView } from '../contract/contract.js';

export const MAX_REFUSED = 50;

/** A row as kept here: the contract's view with its times as ms since the epoch. */
export type RefusedPublish = Omit<RefusedPublishView, 'firstAt' | 'lastAt'> & {
  firstAt: number;
  lastAt: number;
};

const HINTS: Record<string, string> = {
  MISSING_STREAM_NAME:
    'The encoder sent the broadcast URL without "/<entry>_1": in OBS put the Server field into Server and <entry>_1 into Stream Key; other encoders need the full "ffmpeg URL" from the channel page.',
  MISSING_ARGUMENT:
    "The broadcast URL lost part of its query (p, e, i or t): copy it again from the channel page's Encoder panel.",
  UNKNOWN_APPLICATION: 'The URL names another application: it must be rtmp://<appliance>:<port>/kLive/?p=…',
  INVALID_ENTRY_ID: 'The entry id in e= is not one: copy the broadcast URL again from the channel page.',
  INCORRECT_STREAM_NAME: 'The stream name must be <entry>_1 (or _2, _3) of the entry in the broadcast URL.',
  CHANNEL_NOT_FOUND:
    'No channel has this entry id here: create the channel, or use the broadcast URL of an existing one.',
  ENTRY_ID_NOT_FOUND: "The partner's service does not know this entry: check the entry id in Kaltura.",
  PARTNER_NOT_SERVED:
    'The partner id (p=) is not the one this appliance serves: copy the broadcast URL from the channel page.',
  INVALID_STREAM_ID:
    "SRT: put the channel's SRT stream id (#:::e=<entry>,st=0,p=<token>, or <entry>_1 with the passphrase) into the encoder's Stream ID field.",
  MISSING_STREAM_ID:
    "SRT: the encoder sent no stream id: copy the SRT stream id from the channel's Encoder panel.",
  SRT_WRONG_PASSPHRASE: "SRT: the encoder's passphrase is not the channel's: copy the SRT passphrase again.",
  SRT_PASSPHRASE_UNEXPECTED:
    "SRT: the encoder set a passphrase the channel does not have: clear it, or copy the channel's.",
  SRT_PASSPHRASE_REQUIRED: "SRT: this stream id needs the channel's SRT passphrase in the encoder.",
  LIVE_STREAM_INVALID_TOKEN:
    "Wrong token: compare the encoder's URL (t=…) with the Server field on the channel's Encoder panel, or copy it again.",
  CONNECTION_BLOCKED:
    'Refused without asking after a failed attempt: fix the encoder, then wait for the block to end or press "Allow now".',
  CHANNEL_STOPPED:
    'The channel is stopped: press Start on the channel page, then the encoder connects again.',
  STREAM_CLOSED: 'The stream is closed (restart_on_encoder_reconnect is off): restart the channel first.',
};

export function refusalHint(code: string): string {
  return HINTS[code] ?? 'Copy the broadcast URL and stream key again from the channel page.';
}

export class RefusedPublishes extends EventEmitter<{ changed: [] }> {
  private readonly rows = new Map<string, RefusedPublish>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly now: () => number = Date.now) {
    super();
  }

  add(r: { remote: string; code: string; message: string; streamName: string; entryId?: string }): void {
    const key = `${r.remote} ${r.code} ${r.entryId ?? ''} ${r.streamName}`;
    const at = this.now();
    const row = this.rows.get(key);
    this.rows.delete(key);
    this.rows.set(
      key,
      row
        ? { ...row, message: r.message, count: row.count + 1, lastAt: at }
        : {
            remote: r.remote,
            code: r.code,
            message: r.message.slice(0, 500),
            hint: refusalHint(r.code),
            streamName: r.streamName.slice(0, 200),
            ...(r.entryId ? { entryId: r.entryId.slice(0, 100) } : {}),
            count: 1,
            firstAt: at,
            lastAt: at,
          },
    );
    while (this.rows.size > MAX_REFUSED) this.rows.delete(this.rows.keys().next().value as string);
    // Told at most once a second, however fast refusals come.
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.emit('changed');
    }, 1000);
    this.timer.unref?.();
  }

  /** Newest first. */
  list(): RefusedPublish[] {
    return [...this.rows.values()].reverse();
  }
}
