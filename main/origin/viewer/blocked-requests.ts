/** Requests the origin holds (blocking reloads, hinted parts): each ends when its viewer leaves or the listener closes. */
import type { FastifyReply } from 'fastify';

/** Requests held at once, at most: more are answered 503 at once (a held request costs a socket and a waiter). */
export const MAX_HELD_REQUESTS = 2000;

export class BlockedRequests {
  private readonly held = new Set<AbortController>();
  private closing = false;

  constructor(private readonly max = MAX_HELD_REQUESTS) {}

  /** Whether another request may be held now. */
  get full(): boolean {
    return this.held.size >= this.max;
  }

  begin(reply: FastifyReply): { signal: AbortSignal; end: () => void } {
    const c = new AbortController();
    const gone = (): void => c.abort();
    reply.raw.once('close', gone);
    if (this.closing) c.abort();
    this.held.add(c);
    return {
      signal: c.signal,
      end: () => {
        this.held.delete(c);
        reply.raw.off('close', gone);
      },
    };
  }

  releaseAll(): void {
    this.closing = true;
    for (const c of this.held) c.abort();
  }
}
