/**
 * The edge role (Kaltura's KES), composed: the allow list, the disk store under `<dataDir>/edge-cache/`, the
 * engine, its statistics and the `/kCache/` resource the origin listener mounts.
 */
import path from 'node:path';
import type { EdgeView } from '../contract/contract.js';
import type { Logger } from '../lib/logger.js';
import { EdgeCache } from './edge-cache.js';
import { EdgeDiskStore } from './edge-disk-store.js';
import { parseEdgeOrigins, type EdgeOrigins } from './edge-origins.js';
import {
  edgeHandler,
  edgeLaneAnswer,
  type EdgeHandler,
  type EdgeLaneAnswer,
  type EdgeRequest,
  type EdgeResourceOptions,
} from './edge-resource.js';
import { EdgeStats, type EdgeHostCounters } from './edge-stats.js';
import type { Upstream } from './edge-upstream.js';

export const GIB = 1024 * 1024 * 1024;

export interface EdgeConfig {
  dataDir: string;
  /** `--edge-origins` as given (empty: the edge is off, /kCache/ answers 404). */
  origins: string;
  /** `--edge-cache-size` in bytes. */
  cacheBytes: number;
  log: Logger;
  now?: () => number;
  upstream?: Upstream;
  timeoutMs?: number;
}

/** The edge server node at Kaltura, as the view shows it (main/partner/server-node.ts's view). */
export type EdgeNodeView = NonNullable<EdgeView['node']>;

export class Edge {
  readonly origins: EdgeOrigins;
  readonly stats: EdgeStats;
  readonly store: EdgeDiskStore;
  readonly cache: EdgeCache;
  /** The edge server node's state at Kaltura, when one is reported (`--edge-name`). */
  node: (() => EdgeNodeView) | undefined;

  constructor(private readonly c: EdgeConfig) {
    this.origins = parseEdgeOrigins(c.origins);
    this.stats = new EdgeStats(c.now);
    this.store = new EdgeDiskStore(path.join(c.dataDir, 'edge-cache'), c.cacheBytes);
    if (this.origins.enabled) this.store.init();
    this.cache = new EdgeCache({
      origins: this.origins,
      store: this.store,
      stats: this.stats,
      log: c.log,
      ...(c.now ? { now: c.now } : {}),
      ...(c.upstream ? { upstream: c.upstream } : {}),
      ...(c.timeoutMs ? { timeoutMs: c.timeoutMs } : {}),
    });
  }

  /** The `/kCache/`, `/kVOD/`, `/kThumbnail/` resource. */
  handler(clientOf: (req: EdgeRequest) => string | undefined): EdgeHandler {
    return edgeHandler(this.resourceOptions(clientOf));
  }

  /** Its answers from memory to plain GETs, for the listener's fast lane (the rest goes to {@link handler}). */
  laneAnswer(
    clientOf: (req: EdgeRequest) => string | undefined,
  ): (req: EdgeRequest) => EdgeLaneAnswer | undefined {
    return edgeLaneAnswer(this.resourceOptions(clientOf));
  }

  private resourceOptions(clientOf: (req: EdgeRequest) => string | undefined): EdgeResourceOptions {
    return { cache: this.cache, origins: this.origins, stats: this.stats, clientOf, log: this.c.log };
  }

  get enabled(): boolean {
    return this.origins.enabled;
  }

  /** Per origin host: requests, hits, bytes, WAN saving, viewers (for /metrics). */
  hosts(): EdgeHostCounters[] {
    return this.stats.snapshot();
  }

  /** What the control API and the dashboard show. */
  view(): EdgeView {
    const node = this.node?.();
    return {
      enabled: this.origins.enabled,
      origins: this.origins.list.map((o) => (o.scheme === 'http' ? `http://${o.key}` : o.key)),
      cache: { bytes: this.store.bytes, maxBytes: this.store.maxBytes, objects: this.store.count },
      refused: this.stats.refused,
      hosts: this.stats.snapshot(),
      ...(node ? { node } : {}),
      at: new Date((this.c.now ?? Date.now)()).toISOString(),
    };
  }
}
