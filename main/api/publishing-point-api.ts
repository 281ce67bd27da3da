/**
 * Unified Streaming's publishing point REST API on the admin listener: `POST|GET|PUT|DELETE /<path>/<name>.isml`
 * with a SMIL body. Bodies are read as a stream and refused (413) the moment they pass the limit.
 */
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PublishingPointError, PublishingPoints } from '../origin/publishing-points.js';

/** The seed's limit for a server manifest: 50 megabytes. */
export const MAX_SMIL_BYTES = 50 * 1024 * 1024;

export interface PublishingPointApiOptions {
  pps: PublishingPoints;
  maxBodyBytes?: number;
}

class BodyTooLarge extends Error {}

/**
 * Reads a request body as UTF-8, refusing it as soon as it passes `limit` bytes. The stream is paused, not
 * destroyed, so the 413 can still be sent before the connection is closed.
 */
function readBody(stream: Readable, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        stream.off('data', onData);
        stream.pause();
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    };
    stream.on('data', onData);
    stream.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    stream.once('error', reject);
  });
}

export function registerPublishingPointApi(app: FastifyInstance, o: PublishingPointApiOptions): void {
  const limit = o.maxBodyBytes ?? MAX_SMIL_BYTES;
  void app.register(async (scope) => {
    // Encoders and curl send SMIL with any content type (curl -d says form-urlencoded): take the raw stream.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, payload, done) => done(null, payload));

    scope.route({
      method: ['GET', 'POST', 'PUT', 'DELETE'],
      url: '/*',
      handler: async (req: FastifyRequest, reply: FastifyReply) => {
        const rawUrl = req.raw.url ?? '/';
        const q = rawUrl.indexOf('?');
        const urlPath = q === -1 ? rawUrl : rawUrl.slice(0, q);
        if (urlPath.startsWith('/api/')) {
          return reply
            .code(404)
            .send({ error: { code: 'NOT_FOUND', message: `no route ${req.method} ${urlPath}` } });
        }
        const writes = req.method === 'POST' || req.method === 'PUT';
        try {
          if (req.method === 'POST' && q !== -1) throw new PublishingPointError(405, 'query string in URL');
          let id: string;
          try {
            id = PublishingPoints.idFromUrlPath(urlPath);
          } catch (err) {
            // Reading or deleting something that is no publishing point URL: it does not exist.
            if (err instanceof PublishingPointError && err.status === 415 && !writes)
              throw new PublishingPointError(404, 'not found');
            throw err;
          }
          let body = '';
          if (writes) {
            const declared = Number(req.headers['content-length'] ?? 0);
            if (declared > limit) throw new BodyTooLarge();
            body = req.body ? await readBody(req.body as Readable, limit) : '';
          }
          // Every method named: HEAD (which Fastify adds to a GET route) reads, never deletes.
          switch (req.method) {
            case 'POST':
              o.pps.create(id, body);
              return reply.code(201).send();
            case 'GET':
            case 'HEAD':
              return reply.type('application/smil+xml; charset=utf-8').send(o.pps.read(id));
            case 'PUT':
              o.pps.update(id, body);
              return reply.code(200).send();
            case 'DELETE':
              o.pps.remove(id);
              return reply.code(200).send();
            default:
              throw new PublishingPointError(405, `method ${req.method} not allowed`);
          }
        } catch (err) {
          if (err instanceof BodyTooLarge) {
            // Answer now and drop the rest of the upload with the connection.
            reply.raw.once('finish', () => req.raw.socket.destroy());
            reply.header('Connection', 'close');
            return reply.code(413).type('text/plain').send('SMIL file larger than 50 megabytes\n');
          }
          if (err instanceof PublishingPointError) {
            req.log.info(
              { status: err.status, url: urlPath, method: req.method, reason: err.message },
              'publishing point API refusal',
            );
            return reply.code(err.status).type('text/plain').send(`${err.message}\n`);
          }
          throw err;
        }
      },
    });
  });
}
