/**
 * Viewer statistics per channel (publishing point): concurrent viewers (distinct clients that fetched within
 * the last 30 s), their peak and when it was, the distinct viewers of the event, bytes served and requests per
 * rendition, kept per minute for the last hour, and the caches (edges) seen in front of the origin. The origin
 * records every answered request; a sweep once a second counts who is still watching.
 *
 * Not viewers: the dashboard's own preview (its requests carry `?ecdn_preview=1`, {@link PREVIEW_QUERY}) and
 * requests with credentials (admin scripts, `curl -u any:<token>`; a viewer's player never sends any).
 * A client is an address and a player: the portal's player names itself (`X-Ecdn-Player`, a random id per page),
 * other players are told apart by their user agent.
 */
import crypto from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { PREVIEW_QUERY } from '../contract/contract.js';

export interface ViewerStatsOptions {
  /** A client counts as watching this long after its last request. */
  activeMs?: number;
  /** Width of one point of the time series. */
  bucketMs?: number;
  /** Points kept. */
  buckets?: number;
}

/** What of a request tells who sent it, besides its address and user agent (the listener passes the request). */
export interface ViewerRequest {
  url?: string | undefined;
  headers: IncomingHttpHeaders;
  socket?: { remoteAddress?: string | undefined };
}

/** Who sent a request ({@link ViewerStats.viewer}). */
export interface Viewer {
  /** The client: a hash of the address and the player (its name, or else its user agent). */
  id: string;
  address: string;
  /** The player named itself (`X-Ecdn-Player`): more of them are told apart behind one address. */
  named: boolean;
  /** The cache or proxy that forwarded the request (its own address), if any. */
  forwarder: string | undefined;
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
  peak: number;
  peakAt: number | null;
  /** Every client id of the event (bounded by {@link MAX_UNIQUE}). */
  unique: Set<string>;
  /** When the first viewer was counted. */
  since: number | null;
  bytesServed: number;
  requests: Map<string, number>;
  /** Caches or proxies that forwarded requests (their own address), and when last. */
  edges: Map<string, number>;
  series: Bucket[];
}

export interface ViewerTotals {
  viewers: number;
  bytesServed: number;
  /** The most concurrent viewers since `viewersSince`, and when (null before the first viewer). */
  peakViewers: number;
  peakAt: string | null;
  /** Distinct clients since `viewersSince`. */
  uniqueViewers: number;
  viewersSince: string | null;
  /** Addresses of caches or proxies in front of the origin (requests with X-Forwarded-For or Via) in the last 30 s. */
  edges: string[];
}

export interface ViewerSnapshot extends ViewerTotals {
  requestsByRendition: Record<string, number>;
  series: Array<{ at: string; viewers: number; bytes: number; requests: number }>;
}

/** How many address + user agent pairs keep their hashed id in memory. */
const CLIENT_ID_MEMO = 50_000;
/** Distinct clients remembered per channel for the unique total; past it the total stops growing. */
export const MAX_UNIQUE = 100_000;

/**
 * Players told apart behind one address (by their user agent) at most: a client that changes its user agent on
 * every request counts as this many viewers, not as one per request.
 */
export const MAX_PLAYERS_PER_ADDRESS = 8;
/** Players behind one address that name themselves (the portal's player, `X-Ecdn-Player`), at most. */
export const MAX_NAMED_PLAYERS_PER_ADDRESS = 64;
const PLAYER_ID = /^[A-Za-z0-9_-]{8,64}$/;

/**
 * Whether a request is the dashboard's preview, carries credentials, or is the appliance's own (a push target
 * copying a rendition, `X-Ecdn-Internal`): not a viewer.
 */
export function isStaffRequest(req: ViewerRequest): boolean {
  if (req.headers.authorization !== undefined || req.headers[INTERNAL_HEADER] !== undefined) return true;
  const url = req.url ?? '';
  const q = url.indexOf('?');
  return q >= 0 && new URLSearchParams(url.slice(q + 1)).get(PREVIEW_QUERY) === '1';
}

/** The header the appliance's own requests to its origin carry (a push target copying a rendition). */
export const INTERNAL_HEADER = 'x-ecdn-internal';

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

  /**
   * One answered request: who (address and user agent), which rendition (or `manifest`), how many bytes; with the
   * request itself, the preview and credentialed requests are left out, a named player is told apart, and a
   * forwarding cache is noted.
   */
  record(
    pp: string,
    rendition: string,
    address: string,
    userAgent: string,
    bytes: number,
    req?: ViewerRequest,
  ): void {
    const v = this.viewer(address, userAgent, req);
    if (v) this.count(v, pp, rendition, bytes);
  }

  /**
   * Who sent a request, as {@link count} takes it; undefined when it is not a viewer's (the preview, credentials, the
   * appliance's own). The same for every request with the same address, user agent and request headers and no
   * query string (the preview is told by its query), so a listener may keep it while they repeat (the fast lane
   * does, per connection, for URLs without a query).
   */
  viewer(address: string, userAgent: string, req?: ViewerRequest): Viewer | undefined {
    if (req && isStaffRequest(req)) return undefined;
    const named = req?.headers['x-ecdn-player'];
    const player = typeof named === 'string' && PLAYER_ID.test(named) ? named : undefined;
    return {
      id: player ? this.clientId(address, `player:${player}`) : this.clientId(address, userAgent),
      address,
      named: player !== undefined,
      forwarder:
        req && (req.headers['x-forwarded-for'] !== undefined || req.headers.via !== undefined)
          ? (req.socket?.remoteAddress?.replace(/^::ffff:/, '') ?? 'unknown')
          : undefined,
    };
  }

  /** One answered request of viewer `v`: which rendition (or `manifest`), how many bytes. */
  count(v: Viewer, pp: string, rendition: string, bytes: number): void {
    const c = this.channel(pp);
    const now = this.now();
    let client = v.id;
    if (!c.clients.has(client)) {
      const players = c.perAddress.get(v.address) ?? new Set<string>();
      const bound = v.named ? MAX_NAMED_PLAYERS_PER_ADDRESS : MAX_PLAYERS_PER_ADDRESS;
      if (players.size >= bound && !players.has(client)) client = this.clientId(v.address, '*');
      else players.add(client);
      c.perAddress.set(v.address, players);
    }
    if (!c.clients.has(client)) {
      c.viewers++;
      if (c.unique.size < MAX_UNIQUE) c.unique.add(client);
      c.since ??= now;
      if (c.viewers > c.peak) {
        c.peak = c.viewers;
        c.peakAt = now;
      }
    }
    c.clients.set(client, now);
    if (v.forwarder !== undefined) c.edges.set(v.forwarder, now);
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
      for (const [edge, last] of c.edges) if (last < cutoff) c.edges.delete(edge);
      c.viewers = c.clients.size;
      const b = this.bucket(c);
      b.viewers = Math.max(b.viewers, c.viewers);
    }
  }

  /** Concurrent viewers, peak, unique, bytes served and edges, without the time series (sampled every 2 s). */
  totals(pp: string): ViewerTotals {
    const c = this.channels.get(pp);
    if (!c) {
      return {
        viewers: 0,
        bytesServed: 0,
        peakViewers: 0,
        peakAt: null,
        uniqueViewers: 0,
        viewersSince: null,
        edges: [],
      };
    }
    const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
    return {
      viewers: c.viewers,
      bytesServed: c.bytesServed,
      peakViewers: c.peak,
      peakAt: iso(c.peakAt),
      uniqueViewers: c.unique.size,
      viewersSince: iso(c.since),
      edges: [...c.edges.keys()].sort(),
    };
  }

  snapshot(pp: string): ViewerSnapshot {
    this.sweep();
    const c = this.channels.get(pp);
    return {
      ...this.totals(pp),
      requestsByRendition: c ? Object.fromEntries(c.requests) : {},
      series: (c?.series ?? []).map((b) => ({
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
        peak: 0,
        peakAt: null,
        unique: new Set(),
        since: null,
        bytesServed: 0,
        requests: new Map(),
        edges: new Map(),
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
