/**
 * The admin listener: the control API (`/api/v1/...`), behind the admin token as a Bearer credential
 * (or HTTP Basic with the token as password). `GET /api/v1/health` is open so monitors can probe it.
 */
import fs from 'node:fs';
import type { Duplex } from 'node:stream';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { hasAdminCredentials } from '../access/admin-credentials.js';
import {
  ADMIN_SOCKET_LIMITS,
  applySocketLimits,
  listenerOptions,
  serverOptions,
} from '../lib/http-server.js';
import type { Logger } from '../lib/logger.js';
import type { ChannelStore } from '../channels/channel-store.js';
import { channelView, type PublicEndpoints } from '../channels/channel-view.js';
import type { LiveChannels } from '../channels/live-channels.js';
import type { SegmentIndex } from '../origin/segment-index.js';
import type { AllowList } from '../lib/ip-allow-list.js';
import { ArchiveExportError, archiveSegments, exportSegment } from '../origin/archive-export.js';
import type { PublishingPoints } from '../origin/publishing-points.js';
import type { SigningKeys } from '../access/signing-keys.js';
import type { ViewerStats } from '../origin/viewer-stats.js';
import {
  createMetrics,
  type AlertMetricsSource,
  type ApplianceMetricsSource,
  type EdgeMetricsSource,
  type FastLaneMetricsSource,
  type SrtMetricsSource,
} from '../api/metrics.js';
import { registerSpacesApi, type SpacesApiOptions } from '../api/spaces-api.js';
import type { ApiError } from '../contract/contract.js';
import type { ControlService } from '../api/control-service.js';
import { ControlFailure as ApiFailure } from '../contract/contract.js';
import type { ControlEvents } from '../api/control-events.js';
import { registerControlHttp, ticketOf, type EventTickets } from '../api/control-http.js';
import { dashboardAssets, registerDashboard } from '../api/dashboard-static.js';
import { registerPublishingPointApi } from '../api/publishing-point-api.js';
import { trackRanges } from '../origin/archive-ranges.js';

export interface AdminServerOptions {
  adminToken: string;
  partnerId: number;
  mode: 'standalone' | 'ecdn';
  channels: ChannelStore;
  live: LiveChannels;
  index: SegmentIndex;
  endpoints: PublicEndpoints;
  log: Logger;
  isReady: () => boolean;
  /** Addresses allowed on this listener (besides the token); empty = any. */
  allow: AllowList;
  pps: PublishingPoints;
  ffmpegPath: string;
  /** URL-signing secrets (secure viewer access). */
  keys: SigningKeys;
  stats: ViewerStats;
  /** The edge's per-origin-host counters, in /metrics. */
  edge?: EdgeMetricsSource;
  /** The content monitors' raised conditions, in /metrics. */
  alerts?: AlertMetricsSource;
  /** The appliance's own alerts and the disk, in /metrics. */
  applianceAlerts?: ApplianceMetricsSource;
  /** SRT's statistics of each SRT caller, in /metrics. */
  srt?: SrtMetricsSource;
  /** The origin listener's fast lane, in /metrics. */
  fastLane?: FastLaneMetricsSource;
  spaces: Omit<SpacesApiOptions, 'fail' | 'keys' | 'pps' | 'ffmpegPath'>;
  /** The control API's operations, events and WebSocket tickets. */
  service: ControlService;
  events: ControlEvents;
  tickets: EventTickets;
  /** Where the built dashboard is (default renderer/dist). */
  dashboardDir?: string;
}

/** The control API's failure (code + status); the name the HTTP-only routes use. */
export { ApiFailure };

/**
 * A browser attaches remembered Basic credentials to requests any site makes: a state-changing request, or a
 * WebSocket upgrade, whose `Origin` is not this listener's own is refused (its origin returned). Reads, and
 * tools that send no `Origin` (curl, scripts, encoders), are not affected.
 */
export function crossSiteOrigin(req: FastifyRequest): string | undefined {
  const origin = req.headers.origin;
  if (origin === undefined) return undefined;
  const upgrade = String(req.headers.upgrade ?? '').toLowerCase() === 'websocket';
  if (!upgrade && (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS'))
    return undefined;
  let host: string | undefined;
  try {
    host = new URL(origin).host;
  } catch {
    host = undefined;
  }
  return host !== undefined && host === req.headers.host ? undefined : origin;
}

export function createAdminServer(o: AdminServerOptions): FastifyInstance {
  const app = Fastify({ ...listenerOptions(o.log, 'admin'), http: serverOptions(ADMIN_SOCKET_LIMITS) });

  app.get('/api/v1/health', async (_req, reply) => {
    if (!o.isReady()) return reply.code(503).send({ status: 'starting' });
    return { status: 'ok' };
  });

  // Sockets handed to the WebSocket upgrade (accepted or refused) are not the HTTP server's to close: without
  // this, one client that keeps a refused upgrade open would hold up shutdown and every settings restart.
  applySocketLimits(app.server, ADMIN_SOCKET_LIMITS);
  const upgraded = new Set<Duplex>();
  app.server.on('upgrade', (_req, socket: Duplex) => {
    // A dashboard's event socket may be quiet for minutes: it is the WebSocket's to keep alive, not the idle timer's.
    (socket as Duplex & { setTimeout?: (ms: number) => void }).setTimeout?.(0);
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
  });
  app.addHook('preClose', async () => {
    for (const s of upgraded) s.destroy();
  });

  const isDashboardAsset = dashboardAssets(o.dashboardDir);
  app.addHook('onRequest', async (req, reply) => {
    if (req.url === '/api/v1/health') return;
    if (!o.allow.allows(req.socket.remoteAddress)) {
      throw new ApiFailure(
        403,
        'FORBIDDEN',
        `address ${req.socket.remoteAddress ?? '?'} is not on the admin allow list`,
      );
    }
    const foreign = crossSiteOrigin(req);
    if (foreign !== undefined)
      throw new ApiFailure(403, 'FORBIDDEN', `a cross-site request from ${foreign} is refused`);
    if (isDashboardAsset(req)) return;
    const ticket = ticketOf(req);
    if (ticket !== undefined && !req.headers.authorization) {
      if (o.tickets.redeem(ticket)) return;
      throw new ApiFailure(
        401,
        'UNAUTHORIZED',
        'the event ticket is unknown, used or expired: ask for a new one',
      );
    }
    if (!hasAdminCredentials(req, o.adminToken)) {
      reply.header('WWW-Authenticate', 'Bearer realm="ecdn-admin"');
      throw new ApiFailure(
        401,
        'UNAUTHORIZED',
        'admin credentials required: Authorization: Bearer <admin token>',
      );
    }
  });

  const view = (entryId: string) => {
    const c = o.channels.get(entryId);
    if (!c) throw new ApiFailure(404, 'CHANNEL_NOT_FOUND', `no channel with entry id ${entryId}`);
    return channelView(c, o.endpoints, o.index, o.live);
  };

  // get-url: the predictable URLs (they play only while the channel is open).
  app.get('/api/v1/channels/:entryId/url', async (req: FastifyRequest<{ Params: { entryId: string } }>) => {
    const c = view(req.params.entryId);
    return { url: c.playback.hls, dash: c.playback.dash, access: c.access };
  });

  app.get(
    '/api/v1/channels/:entryId/viewers',
    async (req: FastifyRequest<{ Params: { entryId: string } }>) => {
      view(req.params.entryId);
      return o.stats.snapshot(req.params.entryId);
    },
  );

  const metrics = createMetrics(o.stats, {
    edge: o.edge,
    alerts: o.alerts,
    appliance: o.applianceAlerts,
    srt: o.srt,
    fastLane: o.fastLane,
  });
  app.get('/metrics', async (_req, reply) => reply.type(metrics.contentType).send(await metrics.metrics()));

  app.get('/api/v1/access/keys', async () => ({ keys: o.keys.list() }));
  app.post('/api/v1/access/keys/:id/revoke', async (req: FastifyRequest<{ Params: { id: string } }>) => {
    if (!o.keys.revoke(req.params.id))
      throw new ApiFailure(404, 'NOT_FOUND', `no signing key ${req.params.id}`);
    return { revoked: req.params.id, keys: o.keys.list() };
  });
  app.post('/api/v1/access/rotate', async () => {
    const key = o.keys.rotate();
    return { current: key.id, keys: o.keys.list() };
  });

  const publishingPoint = (ppId: string) => {
    const pp = o.pps.get(ppId);
    if (!pp) throw new ApiFailure(404, 'PUBLISHING_POINT_NOT_FOUND', `no publishing point ${ppId}`);
    return pp;
  };

  app.get(
    '/api/v1/publishing-points/:ppId/archive',
    async (req: FastifyRequest<{ Params: { ppId: string } }>) => {
      const pp = publishingPoint(req.params.ppId);
      return {
        publishingPoint: pp.name,
        state: pp.state,
        tracks: trackRanges(o.index, pp).map(({ trackName, kind, ranges }) => ({ trackName, kind, ranges })),
      };
    },
  );

  app.get(
    '/api/v1/publishing-points/:ppId/archive/segments',
    async (req: FastifyRequest<{ Params: { ppId: string } }>) => {
      const pp = publishingPoint(req.params.ppId);
      return {
        publishingPoint: pp.name,
        segments: archiveSegments(o.pps, pp).map((s) => ({
          index: s.index,
          start: new Date(s.start).toISOString(),
          end: new Date(s.end).toISOString(),
          fragments: s.fragments,
          download: `/api/v1/publishing-points/${encodeURIComponent(pp.name)}/archive/segments/${s.index}.mp4`,
        })),
      };
    },
  );

  app.get(
    '/api/v1/publishing-points/:ppId/archive/segments/:file',
    async (req: FastifyRequest<{ Params: { ppId: string; file: string } }>, reply) => {
      const pp = publishingPoint(req.params.ppId);
      const m = /^(\d{1,12})\.mp4$/.exec(req.params.file);
      if (!m) throw new ApiFailure(404, 'NOT_FOUND', 'segments are named <index>.mp4');
      let exported;
      try {
        exported = await exportSegment(o.pps, pp, Number(m[1]), o.ffmpegPath);
      } catch (err) {
        if (err instanceof ArchiveExportError)
          throw new ApiFailure(err.status, err.status === 404 ? 'NOT_FOUND' : 'EXPORT_FAILED', err.message);
        throw err;
      }
      const stream = fs.createReadStream(exported.file);
      stream.once('close', exported.cleanup);
      const safeName = pp.name.replace(/\//g, '_');
      return reply
        .type('video/mp4')
        .header('Content-Length', fs.statSync(exported.file).size)
        .header('Content-Disposition', `attachment; filename="${safeName}-${m[1]}.mp4"`)
        .send(stream);
    },
  );

  registerSpacesApi(app, {
    ...o.spaces,
    keys: o.keys,
    pps: o.pps,
    ffmpegPath: o.ffmpegPath,
    fail: (status, code, message) => new ApiFailure(status, code, message),
  });
  registerPublishingPointApi(app, { pps: o.pps });
  registerControlHttp(app, { service: o.service, events: o.events, tickets: o.tickets });
  registerDashboard(app, o.dashboardDir);

  app.setNotFoundHandler((req, reply) =>
    sendError(reply, 404, 'NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`),
  );
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    if (err instanceof ApiFailure) return sendError(reply, err.status, err.code, err.message);
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      return sendError(reply, 413, 'PAYLOAD_TOO_LARGE', 'request body is larger than 1 MiB');
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
      return sendError(reply, 415, 'UNSUPPORTED_MEDIA_TYPE', 'send application/json');
    if (err.statusCode === 400) return sendError(reply, 400, 'BAD_REQUEST', err.message);
    req.log.error({ err: err.message, stack: err.stack, url: req.url }, 'admin API error');
    return sendError(reply, 500, 'INTERNAL', 'internal error; see the appliance log');
  });
  return app;
}

function sendError(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  const body: ApiError = { error: { code, message } };
  return reply.code(status).send(body);
}
