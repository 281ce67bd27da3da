/**
 * Viewer statistics per channel (publishing point): concurrent viewers (distinct clients that fetched within
 * the last 30 s), bytes served and requests per rendition, kept per minute for the last hour. The origin records
 * every answered request; a sweep once a second counts who is still watching.
 */
import crypto from 'node:crypto';

export interface ViewerStatsOptions {
  /** A client counts as watching this long after its last request. */
  activeMs?: number;
  /** Width of one point of the time series. */
  bucketMs?: number;
  /** Points kept. */
  buckets?: number;
}

interface Bucket {
  at: number;
  viewers: number;
  bytes: number;
  requests: number;
}

interface ChannelStats {
  clients: Map<string, number>;
  /** Client ids seen per address (to bound the players counted behind one address). */
  perAddress: Map<string, Set<string>>;
  viewers: number;
  bytesServed: number;
  requests: Map<string, number>;
  series: Bucket[];
}

export interface ViewerSnapshot {
  viewers: number;
  bytesServed: number;
  requestsByRendition: Record<string, number>;
  series: Array<{ at: string; viewers: number; bytes: number; requests: number }>;
}

/** How many address + user agent pairs keep their hashed id in memory. */
const CLIENT_ID_MEMO = 50_000;

/**
 * Players told apart behind one address (by their user agent) at most: a client that changes its user agent on
 * every request counts as this many viewers, not as one per request.
 */
export const MAX_PLAYERS_PER_ADDRESS = 8;

export class ViewerStats {
  private readonly channels = new Map<string, ChannelStats>();
  private readonly clientIds = new Map<string, string>();
  private readonly activeMs: number;
  private readonly bucketMs: number;
  private readonly buckets: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    o: ViewerStatsOptions = {},
    private readonly now: () => number = Date.now,
  ) {
    this.activeMs = o.activeMs ?? 30_000;
    this.bucketMs = o.bucketMs ?? 60_000;
    this.buckets = o.buckets ?? 60;
  }

  start(): void {
    this.timer ??= setInterval(() => this.sweep(), 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One answered request: who (address and user agent), which rendition (or `manifest`), how many bytes. */
  record(pp: string, rendition: string, address: string, userAgent: string, bytes: number): void {
    const c = this.channel(pp);
    let client = this.clientId(address, userAgent);
    if (!c.clients.has(client)) {
      const players = c.perAddress.get(address) ?? new Set<string>();
      if (players.size >= MAX_PLAYERS_PER_ADDRESS && !players.has(client))
        client = this.clientId(address, '*');
      else players.add(client);
      c.perAddress.set(address, players);
    }
    if (!c.clients.has(client)) c.viewers++;
    c.clients.set(client, this.now());
    c.bytesServed += bytes;
    c.requests.set(rendition, (c.requests.get(rendition) ?? 0) + 1);
    const b = this.bucket(c);
    b.bytes += bytes;
    b.requests++;
    b.viewers = Math.max(b.viewers, c.viewers);
  }

  /** A client's id: a hash of its address and user agent, remembered (every request of a viewer asks). */
  private clientId(address: string, userAgent: string): string {
    const raw = `${address}\n${userAgent}`;
    let id = this.clientIds.get(raw);
    if (id === undefined) {
      if (this.clientIds.size >= CLIENT_ID_MEMO) this.clientIds.clear();
      id = crypto.createHash('sha1').update(raw).digest('base64url');
      this.clientIds.set(raw, id);
    }
    return id;
  }

  /** Forgets clients that stopped fetching; records the count in the time series. */
  sweep(): void {
    const cutoff = this.now() - this.activeMs;
    for (const c of this.channels.values()) {
      for (const [client, last] of c.clients) if (last < cutoff) c.clients.delete(client);
      for (const [address, players] of c.perAddress) {
        for (const id of players) if (!c.clients.has(id)) players.delete(id);
        if (players.size === 0) c.perAddress.delete(address);
      }
      c.viewers = c.clients.size;
      const b = this.bucket(c);
      b.viewers = Math.max(b.viewers, c.viewers);
    }
  }

  /** Concurrent viewers and bytes served, without the time series (sampled every couple of seconds). */
  totals(pp: string): { viewers: number; bytesServed: number } {
    const c = this.channels.get(pp);
    return c ? { viewers: c.viewers, bytesServed: c.bytesServed } : { viewers: 0, bytesServed: 0 };
  }

  snapshot(pp: string): ViewerSnapshot {
    this.sweep();
    const c = this.channels.get(pp);
    if (!c) return { viewers: 0, bytesServed: 0, requestsByRendition: {}, series: [] };
    return {
      viewers: c.viewers,
      bytesServed: c.bytesServed,
      requestsByRendition: Object.fromEntries(c.requests),
      series: c.series.map((b) => ({
        at: new Date(b.at).toISOString(),
        viewers: b.viewers,
        bytes: b.bytes,
        requests: b.requests,
      })),
    };
  }

  /** Every channel with statistics. */
  channelNames(): string[] {
    return [...this.channels.keys()];
  }

  private channel(pp: string): ChannelStats {
    let c = this.channels.get(pp);
    if (!c) {
      c = {
        clients: new Map(),
        perAddress: new Map(),
        viewers: 0,
        bytesServed: 0,
        requests: new Map(),
        series: [],
      };
      this.channels.set(pp, c);
    }
    return c;
  }

  private bucket(c: ChannelStats): Bucket {
    const at = Math.floor(this.now() / this.bucketMs) * this.bucketMs;
    let b = c.series[c.series.length - 1];
    if (!b || b.at !== at) {
      b = { at, viewers: c.viewers, bytes: 0, requests: 0 };
      c.series.push(b);
      if (c.series.length > this.buckets) c.series.shift();
    }
    return b;
  }
}
