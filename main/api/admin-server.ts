/**
 * The admin listener: the control API (`/api/v1/...`), behind the admin token as a Bearer credential
 * (or HTTP Basic with the token as password). `GET /api/v1/health` is open so monitors can probe it.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { listenerOptions } from '../core/http-server.js';
import type { Logger } from '../core/logger.js';
import type { ChannelStore } from '../channels/channel-store.js';
import { channelView, eventView, type PublicEndpoints } from '../channels/channel-view.js';
import type { LiveChannels } from '../channels/live-channels.js';
import type { SegmentIndex } from '../origin/segment-index.js';
import type { AllowList } from '../core/ip-allow-list.js';
import { ArchiveExportError, archiveSegments, exportSegment } from '../origin/archive-export.js';
import type { PublishingPoints } from '../origin/publishing-points.js';
import { SignedUrlError, signQuery } from '../access/signed-url.js';
import type { SigningKeys } from '../access/signing-keys.js';
import { parseAllowList } from '../core/ip-allow-list.js';
import type { ViewerStats } from '../origin/viewer-stats.js';
import { createMetrics } from './metrics.js';
import { registerSpacesApi, type SpacesApiOptions } from './spaces-api.js';
import { createChannelBody, patchChannelBody, signedUrlBody, type ApiError } from './contract.js';
import { registerPublishingPointApi } from './publishing-point-api.js';

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
  spaces: Omit<SpacesApiOptions, 'fail' | 'keys' | 'pps' | 'ffmpegPath'>;
  /** Process facts for IT and fault drills (authenticated). */
  status: () => Record<string, unknown>;
}

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Whether the request carries the admin token, as Bearer or as the Basic password. */
export function hasAdminCredentials(req: FastifyRequest, token: string): boolean {
  const header = req.headers.authorization ?? '';
  let presented: string | undefined;
  if (header.startsWith('Bearer ')) presented = header.slice(7).trim();
  else if (header.startsWith('Basic ')) {
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    presented = decoded.slice(decoded.indexOf(':') + 1);
  }
  if (presented === undefined) return false;
  const a = crypto.createHash('sha256').update(presented).digest();
  const b = crypto.createHash('sha256').update(token).digest();
  return crypto.timingSafeEqual(a, b);
}

export function createAdminServer(o: AdminServerOptions): FastifyInstance {
  const app = Fastify(listenerOptions(o.log, 'admin'));

  app.get('/api/v1/health', async (_req, reply) => {
    if (!o.isReady()) return reply.code(503).send({ status: 'starting' });
    return { status: 'ok' };
  });

  app.addHook('onRequest', async (req, reply) => {
    if (req.url === '/api/v1/health') return;
    if (!o.allow.allows(req.socket.remoteAddress)) {
      throw new ApiFailure(
        403,
        'FORBIDDEN',
        `address ${req.socket.remoteAddress ?? '?'} is not on the admin allow list`,
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

  app.get('/api/v1/status', async () => o.status());

  const view = (entryId: string) => {
    const c = o.channels.get(entryId);
    if (!c) throw new ApiFailure(404, 'CHANNEL_NOT_FOUND', `no channel with entry id ${entryId}`);
    return channelView(c, o.endpoints, o.index, o.live);
  };

  app.post('/api/v1/channels', async (req, reply) => {
    const parsed = createChannelBody.safeParse(req.body);
    if (!parsed.success) {
      throw new ApiFailure(
        400,
        'BAD_REQUEST',
        parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
      );
    }
    if (o.mode === 'ecdn') {
      throw new ApiFailure(
        409,
        'MODE_ECDN',
        "in eCDN mode, channels are the partner's live entries: create them in Kaltura; they appear here on first publish",
      );
    }
    const c = o.channels.create(parsed.data.name, o.partnerId);
    o.channels.addEvent(c.entryId, 'info', 'CHANNEL_CREATED', `channel "${c.name}" created`);
    return reply.code(201).send(channelView(c, o.endpoints, o.index, o.live));
  });

  app.patch('/api/v1/channels/:entryId', async (req: FastifyRequest<{ Params: { entryId: string } }>) => {
    const { entryId } = req.params;
    view(entryId);
    const parsed = patchChannelBody.safeParse(req.body);
    if (!parsed.success) {
      throw new ApiFailure(
        400,
        'BAD_REQUEST',
        parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
      );
    }
    o.channels.update(entryId, parsed.data);
    if (parsed.data.access)
      o.channels.addEvent(entryId, 'info', 'ACCESS_CHANGED', `viewer access is now ${parsed.data.access}`);
    return view(entryId);
  });

  // get-url: the predictable URLs (they play only while the channel is open).
  app.get('/api/v1/channels/:entryId/url', async (req: FastifyRequest<{ Params: { entryId: string } }>) => {
    const c = view(req.params.entryId);
    return { url: c.playback.hls, dash: c.playback.dash, access: c.access };
  });

  // get-signed-url: URLs that expire (default 8 hours), optionally bound to an address or range.
  app.post(
    '/api/v1/channels/:entryId/signed-url',
    async (req: FastifyRequest<{ Params: { entryId: string } }>) => {
      const c = view(req.params.entryId);
      const parsed = signedUrlBody.safeParse(req.body ?? {});
      if (!parsed.success) {
        throw new ApiFailure(
          400,
          'BAD_REQUEST',
          parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
        );
      }
      const { expiresIn, resourcePrefix } = parsed.data;
      const ipRange = parsed.data.ipRange?.trim();
      if (ipRange !== undefined) {
        try {
          if (ipRange.includes(',')) throw new Error('give one address, CIDR or range');
          parseAllowList(ipRange);
        } catch (err) {
          throw new ApiFailure(400, 'BAD_REQUEST', `ipRange: ${(err as Error).message}`);
        }
      }
      const expiresAt = Math.floor(Date.now() / 1000) + expiresIn;
      const scope = `${c.publishingPoint.path}/`;
      const key = o.keys.current();
      let query: string;
      try {
        query = signQuery(key, { scope, expiresAt, ...(ipRange !== undefined ? { ipRange } : {}) });
      } catch (err) {
        if (err instanceof SignedUrlError) throw new ApiFailure(400, 'BAD_REQUEST', err.message);
        throw err;
      }
      const originBase = c.playback.hls.slice(0, c.playback.hls.length - '.m3u8'.length);
      const name = resourcePrefix ? `${resourcePrefix}playlist` : '';
      return {
        url: `${originBase}${name}.m3u8?${query}`,
        dash: `${originBase}${resourcePrefix ? `${resourcePrefix}manifest` : ''}.mpd?${query}`,
        expiresAt: new Date(expiresAt * 1000).toISOString(),
        ...(ipRange !== undefined ? { ipRange } : {}),
        keyId: key.id,
      };
    },
  );

  app.get(
    '/api/v1/channels/:entryId/viewers',
    async (req: FastifyRequest<{ Params: { entryId: string } }>) => {
      view(req.params.entryId);
      return o.stats.snapshot(req.params.entryId);
    },
  );

  const metrics = createMetrics(o.stats);
  app.get('/metrics', async (_req, reply) => reply.type(metrics.contentType).send(await metrics.metrics()));

  app.get('/api/v1/access/keys', async () => ({ keys: o.keys.list() }));
  app.post('/api/v1/access/rotate', async () => {
    const key = o.keys.rotate();
    return { current: key.id, keys: o.keys.list() };
  });

  app.get('/api/v1/channels', async () => ({
    channels: o.channels.list().map((c) => channelView(c, o.endpoints, o.index, o.live)),
  }));

  app.get('/api/v1/channels/:entryId', async (req: FastifyRequest<{ Params: { entryId: string } }>) =>
    view(req.params.entryId),
  );

  app.get(
    '/api/v1/channels/:entryId/events',
    async (req: FastifyRequest<{ Params: { entryId: string } }>) => {
      view(req.params.entryId);
      return { events: o.channels.events(req.params.entryId).map(eventView) };
    },
  );

  for (const action of ['stop', 'start', 'restart'] as const) {
    app.post(
      `/api/v1/channels/:entryId/${action}`,
      async (req: FastifyRequest<{ Params: { entryId: string } }>) => {
        const { entryId } = req.params;
        view(entryId);
        if (action === 'stop') await o.live.stopChannel(entryId);
        else if (action === 'start') await o.live.startChannel(entryId);
        else await o.live.restartChannel(entryId);
        return view(entryId);
      },
    );
  }

  const publishingPoint = (ppId: string) => {
    const pp = o.pps.get(ppId);
    if (!pp) throw new ApiFailure(404, 'PUBLISHING_POINT_NOT_FOUND', `no publishing point ${ppId}`);
    return pp;
  };

  app.get(
    '/api/v1/publishing-points/:ppId/archive',
    async (req: FastifyRequest<{ Params: { ppId: string } }>) => {
      const pp = publishingPoint(req.params.ppId);
      const iso = (t: { timescale: number }, v: number) =>
        new Date(pp.epoch + (v / t.timescale) * 1000).toISOString();
      return {
        publishingPoint: pp.name,
        state: pp.state,
        tracks: o.index.tracks(pp.name).map((t) => ({
          trackName: t.trackName,
          kind: t.kind,
          ranges: o.index.rangesByIngest(t.id, Math.round(t.timescale / 10)).map((r) => ({
            start: iso(t, r.start),
            end: iso(t, r.end),
            ingest: r.serverIndex === 0 ? 'primary' : 'backup',
          })),
        })),
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

  app.delete('/api/v1/channels/:entryId', async (req: FastifyRequest<{ Params: { entryId: string } }>) => {
    const { entryId } = req.params;
    view(entryId);
    await o.live.deleteEntry(entryId);
    o.channels.delete(entryId);
    return { deleted: entryId };
  });

  registerSpacesApi(app, {
    ...o.spaces,
    keys: o.keys,
    pps: o.pps,
    ffmpegPath: o.ffmpegPath,
    fail: (status, code, message) => new ApiFailure(status, code, message),
  });
  registerPublishingPointApi(app, { pps: o.pps });

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
