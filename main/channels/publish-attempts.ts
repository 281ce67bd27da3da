/**
 * Each channel's last publish attempt, accepted or refused, with the fix in plain words: what the channel header
 * shows, so staff see why the encoder is not live where they look (not only in the events).
 */
import type { PublishAttemptView } from '../contract/contract.js';
import { refusalHint } from './refused-publishes.js';

/** The contract's view, with the time as ms since the epoch. */
export type PublishAttempt = Omit<PublishAttemptView, 'at'> & { at: number };

/** Channels remembered at most (the oldest attempt is forgotten first). */
export const MAX_ATTEMPTS = 10_000;

export class PublishAttempts {
  private readonly last = new Map<string, PublishAttempt>();

  constructor(private readonly now: () => number = Date.now) {}

  accepted(entryId: string, remote: string, transport: 'rtmp' | 'srt'): void {
    this.set(entryId, { at: this.now(), remote, transport, accepted: true, message: 'accepted' });
  }

  refused(
    entryId: string,
    r: { remote: string; transport: 'rtmp' | 'srt'; code: string; message: string },
  ): void {
    this.set(entryId, { at: this.now(), ...r, accepted: false, fix: refusalHint(r.code) });
  }

  of(entryId: string): PublishAttempt | undefined {
    return this.last.get(entryId);
  }

  forget(entryId: string): void {
    this.last.delete(entryId);
  }

  private set(entryId: string, a: PublishAttempt): void {
    this.last.delete(entryId);
    this.last.set(entryId, a);
    while (this.last.size > MAX_ATTEMPTS) this.last.delete(this.last.keys().next().value as string);
  }
}
