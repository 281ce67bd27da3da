/**
 * Tells the partner's service which media server feeds an entry, as the Kaltura media server does:
 * liveStream.registerMediaServer with BROADCASTING (2) when an ingest goes live, PLAYABLE (1) once its first
 * fragments are out, repeated as a keep-alive every 60 s; unregisterMediaServer when the last ingest of that
 * entry and server index ends. Failures are logged and retried with backoff; they never stop a stream.
 */
import type { Logger } from '../lib/logger.js';

export const PLAYABLE = 1;
export const BROADCASTING = 2;

export interface RegistrationClient {
  registerMediaServer(
    entryId: string,
    serverIndex: 0 | 1,
    status: 1 | 2,
    opts?: { impersonate?: number },
  ): Promise<void>;
  unregisterMediaServer(entryId: string, serverIndex: 0 | 1, opts?: { impersonate?: number }): Promise<void>;
}

export interface RegistrationOptions {
  keepAliveMs?: number;
  /** Retry delays (ms) after a failed call; the last repeats until the next keep-alive. */
  backoff?: readonly number[];
  impersonateFor?: (entryId: string) => number | undefined;
  log: Logger;
}

interface Registration {
  entryId: string;
  serverIndex: 0 | 1;
  status: 1 | 2;
  /** Live ingest sessions of this entry and index. */
  sessions: Set<string>;
  timer?: NodeJS.Timeout;
  failures: number;
}

export class MediaServerRegistration {
  private readonly registrations = new Map<string, Registration>();

  constructor(
    private readonly client: RegistrationClient,
    private readonly o: RegistrationOptions,
  ) {}

  /** An ingest of the entry went live. */
  started(entryId: string, serverIndex: 0 | 1, sessionId: string): void {
    const key = `${entryId}/${serverIndex}`;
    let r = this.registrations.get(key);
    if (!r) {
      r = { entryId, serverIndex, status: BROADCASTING, sessions: new Set(), failures: 0 };
      this.registrations.set(key, r);
    }
    const first = r.sessions.size === 0;
    r.sessions.add(sessionId);
    if (first) this.send(r);
  }

  /** The entry's first fragments are out: PLAYABLE for every index that is live. */
  playable(entryId: string): void {
    for (const r of this.registrations.values()) {
      if (r.entryId === entryId && r.status !== PLAYABLE) {
        r.status = PLAYABLE;
        this.send(r);
      }
    }
  }

  /** An ingest ended; the last one of its entry and index unregisters. */
  ended(entryId: string, serverIndex: 0 | 1, sessionId: string): void {
    const key = `${entryId}/${serverIndex}`;
    const r = this.registrations.get(key);
    if (!r || !r.sessions.delete(sessionId) || r.sessions.size > 0) return;
    if (r.timer) clearTimeout(r.timer);
    this.registrations.delete(key);
    void this.unregister(r, 0);
  }

  /** Shutdown: unregister everything (best effort, bounded). */
  async stopAll(): Promise<void> {
    const all = [...this.registrations.values()];
    this.registrations.clear();
    for (const r of all) if (r.timer) clearTimeout(r.timer);
    await Promise.allSettled(
      all.map((r) => this.client.unregisterMediaServer(r.entryId, r.serverIndex, this.opts(r.entryId))),
    );
  }

  private opts(entryId: string): { impersonate?: number } | undefined {
    const p = this.o.impersonateFor?.(entryId);
    return p !== undefined ? { impersonate: p } : undefined;
  }

  /** Registers now, then keeps alive; a failure is retried with backoff. */
  private send(r: Registration): void {
    if (r.timer) clearTimeout(r.timer);
    const status = r.status;
    this.client.registerMediaServer(r.entryId, r.serverIndex, status, this.opts(r.entryId)).then(
      () => {
        r.failures = 0;
        this.schedule(r, this.o.keepAliveMs ?? 60_000);
      },
      (err: Error) => {
        const steps = this.o.backoff ?? [2_000, 5_000, 15_000, 30_000];
        const delay = steps[Math.min(r.failures++, steps.length - 1)] ?? 30_000;
        this.o.log.warn(
          { entryId: r.entryId, serverIndex: r.serverIndex, status, delay, reason: err.message },
          'registerMediaServer failed; retrying',
        );
        this.schedule(r, delay);
      },
    );
  }

  private schedule(r: Registration, ms: number): void {
    if (this.registrations.get(`${r.entryId}/${r.serverIndex}`) !== r) return;
    r.timer = setTimeout(() => this.send(r), ms);
    r.timer.unref();
  }

  private async unregister(r: Registration, attempt: number): Promise<void> {
    try {
      await this.client.unregisterMediaServer(r.entryId, r.serverIndex, this.opts(r.entryId));
    } catch (err) {
      const steps = this.o.backoff ?? [2_000, 5_000, 15_000, 30_000];
      if (attempt >= steps.length) {
        this.o.log.error(
          { entryId: r.entryId, reason: (err as Error).message },
          'unregisterMediaServer failed; giving up',
        );
        return;
      }
      // A new ingest of the same entry and index registered meanwhile: nothing to unregister.
      if (this.registrations.has(`${r.entryId}/${r.serverIndex}`)) return;
      this.o.log.warn(
        { entryId: r.entryId, reason: (err as Error).message },
        'unregisterMediaServer failed; retrying',
      );
      setTimeout(() => void this.unregister(r, attempt + 1), steps[attempt]).unref();
    }
  }
}
