/**
 * The origin listener: what viewers and caches fetch. Publishing point URLs follow Unified Streaming:
 * `/<pp>/<pp>.isml/.m3u8` (HLS master), `/<pp>/<pp>.isml/.mpd` (DASH), and under `tracks/` the media
 * playlists, init segments and fragments. Every answer comes from the segment index.
 */
import fs from 'node:fs';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { listenerOptions } from '../core/http-server.js';
import type { Logger } from '../core/logger.js';
import { renderMpd } from './dash.js';
import { renderMasterPlaylist, renderMediaPlaylist } from './hls.js';
import { SAFE_NAME, type OriginStorage } from './origin-storage.js';
import { livePresentation } from './presentation.js';
import { resolvePpOptions } from './publishing-point-options.js';
import type { SegmentIndex } from './segment-index.js';

export interface OriginServerOptions {
  index: SegmentIndex;
  storage: OriginStorage;
  log: Logger;
}

const IMMUTABLE = 'public, max-age=31536000, immutable';

export function createOriginServer(o: OriginServerOptions): FastifyInstance {
  const app = Fastify(listenerOptions(o.log, 'origin'));

  app.addHook('onSend', async (_req, reply) => {
    reply.header('Access-Control-Allow-Origin', '*');
    reply.header('Access-Control-Expose-Headers', 'Content-Length, Content-Range, Date');
  });
  app.options('/*', async (_req, reply) => {
    reply
      .header('Access-Control-Allow-Methods', 'GET, HEAD, OPTIONS')
      .header('Access-Control-Allow-Headers', 'Range')
      .code(204)
      .send();
  });

  app.get(
    '/:pp/:manifest/*',
    async (req: FastifyRequest<{ Params: { pp: string; manifest: string; '*': string } }>, reply) => {
      const { pp: name, manifest } = req.params;
      const rest = req.params['*'];
      if (!SAFE_NAME.test(name) || manifest !== `${name}.isml`)
        return notFound(reply, 'no such publishing point');
      const pp = o.index.getPublishingPoint(name);
      if (!pp) return notFound(reply, 'no such publishing point');
      const opts = resolvePpOptions(pp.options);
      const q = req.query as Record<string, string | undefined>;
      const dvr = q.dvr_window_length !== undefined ? Number(q.dvr_window_length) : undefined;
      if (dvr !== undefined && (!Number.isFinite(dvr) || dvr <= 0))
        return badRequest(reply, 'dvr_window_length must be a positive number');
      const manifestCache =
        pp.state === 'stopped'
          ? 'public, max-age=10'
          : `public, max-age=${Math.max(1, Math.floor(opts.fragmentDuration / 2))}`;

      // Master playlist and MPD: any file name directly under the .isml (".m3u8", "playlist.m3u8").
      if (/^[^/]*\.m3u8$/.test(rest)) {
        const view = livePresentation(o.index, pp, { dvrWindow: dvr });
        if (view.tracks.length === 0 || !view.complete) return notFound(reply, 'nothing published yet');
        return reply
          .type('application/vnd.apple.mpegurl')
          .header('Cache-Control', manifestCache)
          .send(renderMasterPlaylist(view));
      }
      if (/^[^/]*\.mpd$/.test(rest)) {
        const view = livePresentation(o.index, pp, { dvrWindow: dvr });
        if (view.tracks.length === 0 || !view.complete) return notFound(reply, 'nothing published yet');
        return reply
          .type('application/dash+xml')
          .header('Cache-Control', manifestCache)
          .send(renderMpd(view));
      }
      const media = /^tracks\/([A-Za-z0-9_-]+)\.m3u8$/.exec(rest);
      if (media) {
        const view = livePresentation(o.index, pp, { dvrWindow: dvr });
        const trackName = media[1] as string;
        if (!view.tracks.some((t) => t.trackName === trackName)) return notFound(reply, 'no such track');
        return reply
          .type('application/vnd.apple.mpegurl')
          .header('Cache-Control', manifestCache)
          .send(renderMediaPlaylist(view, trackName));
      }
      const file = /^tracks\/([A-Za-z0-9_-]+)\/(init\.mp4|(\d{1,16})\.m4s|n(\d{1,12})\.m4s)$/.exec(rest);
      if (file) {
        const track = o.index.getTrack(name, file[1] as string);
        if (!track) return notFound(reply, 'no such track');
        if (file[2] === 'init.mp4')
          return sendFile(reply, o.storage.initPath(name, track.trackName), 'public, max-age=60');
        const fragment =
          file[3] !== undefined
            ? o.index.fragmentByTime(track.id, Number(file[3]))
            : o.index.fragmentBySequence(track.id, Number(file[4]));
        if (!fragment) return notFound(reply, 'no such fragment');
        return sendFile(reply, o.storage.resolve(name, fragment.file), IMMUTABLE);
      }
      return notFound(reply, 'unknown resource');
    },
  );

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

function notFound(reply: FastifyReply, reason: string): FastifyReply {
  return reply.code(404).type('text/plain').header('Cache-Control', 'no-cache').send(`404 ${reason}\n`);
}

function badRequest(reply: FastifyReply, reason: string): FastifyReply {
  return reply.code(400).type('text/plain').send(`400 ${reason}\n`);
}

async function sendFile(reply: FastifyReply, file: string, cache: string): Promise<FastifyReply> {
  try {
    const data = await fs.promises.readFile(file);
    return reply
      .type(file.endsWith('.mp4') ? 'video/mp4' : 'video/iso.segment')
      .header('Cache-Control', cache)
      .send(data);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return notFound(reply, 'fragment not on disk');
    throw err;
  }
}
