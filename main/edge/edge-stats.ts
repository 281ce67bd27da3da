/**
 * What the edge did, per origin host: requests, answers without an upstream request of their own (hits, collapsed
 * waits, stale answers), bytes fetched upstream and bytes served (the WAN saving is one minus their ratio), and the
 * viewers currently pulling through it (distinct client addresses within the last 30 s).
 */

export const VIEWER_WINDOW_MS = 30_000;

export type EdgeOutcome = 'HIT' | 'MISS' | 'STALE' | 'ERROR';

export interface EdgeHostCounters {
  host: string;
  requests: number;
  hits: number;
  misses: number;
  stale: number;
  errors: number;
  upstreamRequests: number;
  bytesFromUpstream: number;
  bytesServed: number;
  /** Answered without an upstream request of their own: (hits + stale) / requests, 0 to 1. */
  hitRatio: number;
  /** 1 − bytes from upstream / bytes served, as a percentage (0 when nothing was served). */
  wanSavingPercent: number;
  /** Distinct client addresses within the last 30 s. */
  viewers: number;
}

/** What is counted per host; the ratios and the viewer count are derived when asked. */
type HostCounters = Omit<EdgeHostCounters, 'host' | 'hitRatio' | 'wanSavingPercent' | 'viewers'> & {
  /** Client address → when it last fetched (ms). */
  clients: Map<string, number>;
};

export class EdgeStats {
  private readonly hosts = new Map<string, HostCounters>();
  /** Requests refused before any upstream request (hosts not listed). */
  refused = 0;

  constructor(private readonly now: () => number = Date.now) {}

  private host(key: string): HostCounters {
    let h = this.hosts.get(key);
    if (!h) {
      h = {
        requests: 0,
        hits: 0,
        misses: 0,
        stale: 0,
        errors: 0,
        upstreamRequests: 0,
        bytesFromUpstream: 0,
        bytesServed: 0,
        clients: new Map(),
      };
      this.hosts.set(key, h);
    }
    return h;
  }

  /** One answered request. */
  served(host: string, outcome: EdgeOutcome, bytes: number, client: string | undefined): void {
    const h = this.host(host);
    h.requests++;
    if (outcome === 'HIT') h.hits++;
    else if (outcome === 'MISS') h.misses++;
    else if (outcome === 'STALE') h.stale++;
    else h.errors++;
    h.bytesServed += bytes;
    if (client !== undefined) {
      // Map order is insertion order: re-inserting keeps the oldest first, so expiry stops at the first fresh one.
      h.clients.delete(client);
      h.clients.set(client, this.now());
      if (h.clients.size > 10_000) this.expire(h);
    }
  }

  /** One upstream request and the bytes it brought. */
  fetched(host: string, bytes: number): void {
    const h = this.host(host);
    h.upstreamRequests++;
    h.bytesFromUpstream += bytes;
  }

  private expire(h: HostCounters): void {
    const cutoff = this.now() - VIEWER_WINDOW_MS;
    for (const [c, at] of h.clients) {
      if (at > cutoff) break;
      h.clients.delete(c);
    }
  }

  snapshot(): EdgeHostCounters[] {
    return [...this.hosts.entries()]
      .map(([host, h]) => {
        this.expire(h);
        const answeredLocally = h.hits + h.stale;
        return {
          host,
          requests: h.requests,
          hits: h.hits,
          misses: h.misses,
          stale: h.stale,
          errors: h.errors,
          upstreamRequests: h.upstreamRequests,
          bytesFromUpstream: h.bytesFromUpstream,
          bytesServed: h.bytesServed,
          hitRatio: h.requests > 0 ? answeredLocally / h.requests : 0,
          wanSavingPercent:
            h.bytesServed > 0 ? Math.max(0, 100 * (1 - h.bytesFromUpstream / h.bytesServed)) : 0,
          viewers: h.clients.size,
        };
      })
      .sort((a, b) => a.host.localeCompare(b.host));
  }
}
