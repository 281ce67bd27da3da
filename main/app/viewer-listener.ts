/**
 * The origin listener: what viewers and caches fetch. Publishing point URLs follow Unified Streaming:
 * `/<path>/<name>.isml/.m3u8` (HLS master), `.../.mpd` (DASH), under `tracks/` the media playlists, init
 * segments and fragments; `/state`, `/statistics`, `/archive` for allowed addresses or admin credentials;
 * `POST .../purge?t=` with admin credentials. Every answer comes from the segment index.
 *
 * This file only wires: the Fastify instance, its hooks (CORS, viewer statistics, the answer memo, signed
 * caching), the portal and spaces routes, and the resources of main/origin/viewer/ in the order they are
 * tried. The edge (main/edge/) is answered before all of them.
 */
import http from 'node:http';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { AdminCheck } from '../access/admin-credentials.js';
import { clientAddress } from '../access/signed-url.js';
import { registerSignedCaching } from '../access/signed-cache.js';
import type { SigningKey } from '../access/signing-keys.js';
import type { Edge } from '../edge/edge.js';
import { isEdgeUrl } from '../edge/edge-resource.js';
import {
  applySocketLimits,
  listenerOptions,
  serverOptions,
  VIEWER_SOCKET_LIMITS,
} from '../lib/http-server.js';
import { FastLane, type LaneRequest } from '../lib/http-fast-lane.js';
import type { AllowList } from '../lib/ip-allow-list.js';
import type { Logger } from '../lib/logger.js';
import type { IndexVersion, MemoAnswer } from '../origin/answer-memo.js';
import { FragmentWaiters } from '../origin/fragment-waiters.js';
import type { OriginStorage } from '../origin/origin-storage.js';
import { resolvePpOptions } from '../origin/publishing-point-options.js';
import type { PublishingPoints } from '../origin/publishing-points.js';
import type { SegmentIndex } from '../origin/segment-index.js';
import { BlockedRequests } from '../origin/viewer/blocked-requests.js';
import { fragmentResources } from '../origin/viewer/fragments.js';
import { manifestResources } from '../origin/viewer/manifests.js';
import { registerPurge } from '../origin/viewer/purge.js';
import { notFound } from '../origin/viewer/replies.js';
import { STATUS_RESOURCE, statusResources } from '../origin/viewer/status.js';
import { THUMBNAIL_RESOURCE, thumbnailResource } from '../origin/viewer/thumbnail.js';
import { viewerAccess } from '../origin/viewer/viewer-access.js';
import { ViewerCacheSet } from '../origin/viewer/viewer-caches.js';
import { ppLookup, renditionOf, targetOf } from '../origin/viewer/viewer-url.js';
import type { Viewer, ViewerStats } from '../origin/viewer-stats.js';
import type { SpaceFiles } from '../spaces/space-media.js';
import { registerSpaceRoutes } from '../spaces/space-routes.js';
import { registerPortal, signatureVerifier, type PortalDeps } from '../portal/portal.js';
import type { SpaceStore } from '../spaces/space-store.js';

export interface OriginServerOptions {
  index: SegmentIndex;
  storage: OriginStorage;
  pps: PublishingPoints;
  /** Whether a request carries the admin credentials (purge; status resources from other addresses). */
  isAdmin: AdminCheck;
  /** Who may read /state, /statistics and /archive without admin credentials. */
  statusAllow: AllowList;
  /** Where admin credentials are accepted from (`--admin-allow`), here as on the admin listener. */
  adminAllow: AllowList;
  /** Viewer access of a publishing point: `secure` ones need a signed URL. */
  accessFor: (pp: string) => 'open' | 'secure';
  /** A secure publishing point's signature generation: signed URLs made in an older one were revoked. */
  signedGeneration: (pp: string) => number;
  keys: { find(id: string): SigningKey | undefined };
  /** Proxies whose X-Forwarded-For names the viewer. */
  trustedProxies: AllowList;
  /** Viewer statistics: every answered manifest, init segment and fragment request. */
  stats?: ViewerStats;
  /** Stored media (spaces), served under /media/. */
  spaces?: { spaces: SpaceStore; files: SpaceFiles };
  /** The viewer portal (/, /watch, /embed, /spaces, /player): what it lists. No portal when absent. */
  portal?: Pick<PortalDeps, 'listChannels' | 'listSpaces'>;
  /** The edge (`/kCache/`, `/kVOD/`, `/kThumbnail/`): its own resource, answered before the router and its hooks. */
  edge?: Edge;
  /** Where a publishing point's live thumbnail is (main/monitor/ writes it); no thumbnails when absent. */
  thumbnailFile?: (pp: string) => string;
  log: Logger;
}

/** The fast lane in front of each origin listener made here. */
const fastLanes = new WeakMap<FastifyInstance, FastLane>();

/** The fast lane in front of an origin listener (its counters and what it holds, for /metrics). */
export function fastLaneOf(app: FastifyInstance): FastLane | undefined {
  return fastLanes.get(app);
}

export function createOriginServer(o: OriginServerOptions): FastifyInstance {
  // Repeated viewer requests are answered from the memo before the router sees them (by the fast lane, or by the
  // handler on a connection Node parses); everything else (and every first request) goes through the routes
  // below, which fill the memo.
  const caches = new ViewerCacheSet(o.index, o.storage.cache);
  const answers = caches.answers;
  const clientOf = (req: {
    socket: { remoteAddress?: string | undefined };
    headers: http.IncomingHttpHeaders;
  }) => clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for'], o.trustedProxies);
  // Admin credentials count here only from the admin allow list's addresses, as on the admin listener.
  const isAdmin = (req: FastifyRequest): boolean => {
    const client = clientOf(req);
    return client !== undefined && o.adminAllow.allows(client) && o.isAdmin(req);
  };
  let closing = false;
  const countViewer = (
    req: LaneRequest | http.IncomingMessage,
    pp: string,
    rendition: string,
    bytes: number,
  ) =>
    o.stats?.record(
      pp,
      rendition,
      clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for'], o.trustedProxies) ?? 'unknown',
      String(req.headers['user-agent'] ?? ''),
      bytes,
      req,
    );
  /** The memo's answer for a URL, if any viewer may be given it (an open publishing point). */
  const memoOf = (url: string | undefined): MemoAnswer | undefined => {
    if (closing || url === undefined) return undefined;
    const a = answers.get(url);
    return a && o.accessFor(a.pp) === 'open' ? a : undefined;
  };
  /** A plain GET (no range or validators) the memo answers, counted as a viewer's; false sends it to the router. */
  const replay = (req: http.IncomingMessage, res: http.ServerResponse): boolean => {
    const h = req.headers;
    if (req.method !== 'GET') return false;
    if (h.range !== undefined || h['if-none-match'] !== undefined || h['if-modified-since'] !== undefined)
      return false;
    const a = memoOf(req.url);
    if (!a) return false;
    countViewer(req, a.pp, a.rendition, a.body.length);
    res.writeHead(200, a.headers);
    res.end(a.body);
    return true;
  };
  /**
   * The viewer behind a lane connection's header fields: the lane hands every request of a connection the same
   * fields object while they repeat, so who the viewer is (address, player, forwarder) is worked out once.
   */
  const laneViewers = new WeakMap<object, Viewer | null>();
  /** The memo's answer to a plain GET the lane asks about (it asks about no other), counted as a viewer's. */
  const laneMemoAnswer = (req: LaneRequest): MemoAnswer | undefined => {
    const a = memoOf(req.url);
    if (!a || !o.stats) return a;
    // A query (the dashboard's preview) is part of who asks: such requests are not kept (the memo holds none).
    if (req.url.includes('?')) {
      countViewer(req, a.pp, a.rendition, a.body.length);
      return a;
    }
    let v = laneViewers.get(req.headers);
    if (v === undefined) {
      v = o.stats.viewer(clientOf(req) ?? 'unknown', String(req.headers['user-agent'] ?? ''), req) ?? null;
      laneViewers.set(req.headers, v);
    }
    if (v) o.stats.count(v, a.pp, a.rendition, a.body.length);
    return a;
  };
  const edge = o.edge?.handler(clientOf);
  const edgeAnswer = o.edge?.laneAnswer(clientOf);
  let lane: FastLane | undefined;
  const base = listenerOptions(o.log, 'origin');
  const app = Fastify({
    ...base,
    serverFactory: (handler) => {
      const server = http.createServer(serverOptions(VIEWER_SOCKET_LIMITS), (req, res) => {
        if (edge && isEdgeUrl(req.url)) edge(req, res);
        else if (!replay(req, res)) handler(req, res);
      });
      applySocketLimits(server, VIEWER_SOCKET_LIMITS);
      // Repeated viewer requests are answered from the memo's bytes before Node's HTTP machinery; the rest reach
      // the handler above on the same connection.
      lane = new FastLane(server, {
        answer: (req) => (edgeAnswer && isEdgeUrl(req.url) ? edgeAnswer(req) : laneMemoAnswer(req)),
        limits: VIEWER_SOCKET_LIMITS,
      });
      return server;
    },
  });

  if (lane) fastLanes.set(app, lane);

  /** The index counters when each plain GET arrived: an answer is memoised at the version it was computed at. */
  const versions = new WeakMap<FastifyRequest, IndexVersion>();
  // Callback-style hooks (not async): they run on every response, and a promise each costs at viewer scale.
  app.addHook('onRequest', (req, reply, done) => {
    reply.header('Access-Control-Allow-Origin', '*');
    reply.header('Access-Control-Expose-Headers', 'Content-Length, Content-Range, Date');
    if (req.method === 'GET') versions.set(req, { writes: o.index.writes, removals: o.index.removals });
    done();
  });
  app.addHook('onResponse', (req, reply, done) => {
    try {
      if (!o.stats || req.method !== 'GET' || reply.statusCode >= 300) return;
      const target = targetOf(req);
      if (!target || STATUS_RESOURCE.test(target.rest) || target.rest === THUMBNAIL_RESOURCE) return;
      const bytes = Number(reply.getHeader('content-length') ?? 0) || 0;
      countViewer(req.raw, target.id, renditionOf(target.rest), bytes);
    } finally {
      done();
    }
  });
  app.options('/*', async (_req, reply) => {
    reply
      .header('Access-Control-Allow-Methods', 'GET, HEAD, OPTIONS')
      .header('Access-Control-Allow-Headers', 'Range')
      .code(204)
      .send();
  });
  // purge carries no body worth reading.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));

  // Low-latency HLS: requests waiting for a fragment, woken by the fragment writer; released at once when the listener
  // closes, so a shutdown never waits for them.
  const waiters = FragmentWaiters.for(o.index);
  const blocking = new BlockedRequests();
  app.addHook('preClose', async () => {
    closing = true;
    answers.clear();
    lane?.closeAll();
    blocking.releaseAll();
  });
  // Keeps what any viewer may be given again: a signed answer is never kept (its URL has a query string).
  app.addHook('onSend', (req, reply, payload, done) => {
    const url = req.raw.url ?? '';
    const version = versions.get(req);
    const target = targetOf(req);
    if (
      version &&
      reply.statusCode === 200 &&
      !url.includes('?') &&
      target &&
      !STATUS_RESOURCE.test(target.rest) &&
      target.rest !== THUMBNAIL_RESOURCE &&
      (typeof payload === 'string' || Buffer.isBuffer(payload)) &&
      o.accessFor(target.id) === 'open'
    ) {
      const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
      const headers: http.OutgoingHttpHeaders = {
        ...(reply.getHeaders() as http.OutgoingHttpHeaders),
        'content-length': body.length,
      };
      answers.set(url, { pp: target.id, rendition: renditionOf(target.rest), headers, body }, version);
    }
    done(null, payload);
  });

  const lookup = ppLookup(o.index, caches);

  registerSignedCaching(app);
  if (o.spaces) registerSpaceRoutes(app, { ...o.spaces, keys: o.keys, trustedProxies: o.trustedProxies });
  if (o.portal)
    registerPortal(app, {
      ...o.portal,
      verify: signatureVerifier(o.keys, o.trustedProxies, o.signedGeneration),
    });

  // A publishing point's resources, tried in this order: the status resources (before viewer access: they
  // have their own rule), then viewer access, then manifests and media.
  const status = statusResources({
    index: o.index,
    smilTracks: (pp) => o.pps.smilTracks(pp),
    statusAllow: o.statusAllow,
    clientOf,
    isAdmin,
  });
  const access = viewerAccess({
    accessFor: o.accessFor,
    signedGeneration: o.signedGeneration,
    keys: o.keys,
    trustedProxies: o.trustedProxies,
  });
  const manifests = manifestResources({ index: o.index, accessFor: o.accessFor, caches, waiters, blocking });
  const media = fragmentResources({ index: o.index, storage: o.storage, caches, waiters, blocking });
  const thumbnail = o.thumbnailFile ? thumbnailResource({ thumbnailFile: o.thumbnailFile }) : () => undefined;
  app.get('/*', async (req, reply) => {
    const found = lookup(req);
    if (!found) return notFound(reply, 'no such publishing point');
    const operator = status(req, reply, found);
    if (operator) return operator;
    const urlSuffix = access(req, reply, found.pp);
    if (typeof urlSuffix !== 'string') return urlSuffix;
    const granted = { ...found, opts: resolvePpOptions(found.pp.options), urlSuffix };
    return (
      manifests(req, reply, granted) ??
      media(req, reply, granted) ??
      thumbnail(req, reply, granted) ??
      notFound(reply, 'unknown resource')
    );
  });

  registerPurge(app, { lookup, isAdmin, purge: (pp, spec) => o.pps.purge(pp, spec) });

  app.setNotFoundHandler((_req, reply) => notFound(reply, 'unknown resource'));
  app.setErrorHandler((err: { statusCode?: number; message: string }, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status >= 500) req.log.error({ err: err.message, url: req.url }, 'origin error');
    reply
      .code(status)
      .type('text/plain')
      .send(status >= 500 ? 'internal error' : err.message);
  });
  return app;
}
