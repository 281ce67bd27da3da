/** Requests the origin holds (blocking reloads, hinted parts): each ends when its viewer leaves or the listener closes. */
import type { FastifyReply } from 'fastify';

export class BlockedRequests {
  private readonly held = new Set<AbortController>();
  private closing = false;

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
