/**
 * Viewers' side of spaces on the origin listener: `/media/<space>/<item>` (progressive, with byte ranges) and
 * `/media/<space>/<item>/index.m3u8` (HLS remuxed on demand). Streaming can be off per space; a secure space
 * needs a signature for `/media/<space>/`, which its playlists carry into every child URL.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { clientAddress, verifyRequest } from '../access/signed-url.js';
import { denySigned, markSigned } from '../access/signed-cache.js';
import type { SigningKey } from '../access/signing-keys.js';
import type { AllowList } from '../lib/ip-allow-list.js';
import { SpaceMediaError, type SpaceFiles } from './space-media.js';
import type { SpaceStore } from './space-store.js';

export interface SpaceRoutesOptions {
  spaces: SpaceStore;
  files: SpaceFiles;
  keys: { find(id: string): SigningKey | undefined };
  trustedProxies: AllowList;
}

const TYPES: Record<string, string> = { mp3: 'audio/mpeg', m4a: 'audio/mp4' };

export function registerSpaceRoutes(app: FastifyInstance, o: SpaceRoutesOptions): void {
  app.get('/media/:space/:item', (req, reply) => serve(req as Req, reply, o, undefined));
  app.get('/media/:space/:item/:file', (req, reply) => serve(req as Req, reply, o, (req as Req).params.file));
}

type Req = FastifyRequest<{
  Params: { space: string; item: string; file?: string };
  Querystring: Record<string, string | string[] | undefined>;
}>;

async function serve(
  req: Req,
  reply: FastifyReply,
  o: SpaceRoutesOptions,
  file: string | undefined,
): Promise<FastifyReply> {
  const { space: id, item: name } = req.params;
  const space = o.spaces.get(id);
  const item = space && o.spaces.item(id, name);
  if (!space || !item) return reply.code(404).type('text/plain').send('404 no such item\n');
  if (!space.streaming)
    return reply.code(404).type('text/plain').send('404 streaming is off for this space\n');
  let suffix = '';
  if (space.access === 'secure') {
    const viewer = clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for'], o.trustedProxies);
    const v = verifyRequest(o.keys, `/media/${id}/${name}${file ? `/${file}` : ''}`, req.query, viewer);
    if (!v.ok) return denySigned(reply, v);
    suffix = v.suffix;
    markSigned(req, req.query);
  }
  try {
    if (file === undefined)
      return sendRange(req, reply, o.files.itemPath(id, name), contentType(item.format, item.kind));
    if (!/^(index\.m3u8|init\.mp4|seg\d{5}\.m4s)$/.test(file))
      return reply.code(404).type('text/plain').send('404 no such file\n');
    const playlist = await o.files.hls(id, name);
    const dir = path.dirname(playlist);
    if (file === 'index.m3u8') {
      // Every child URL carries the signature (players need no cookies).
      const text = fs.readFileSync(playlist, 'utf8');
      const signed = suffix
        ? text
            .replace(/^(?!#)(\S+)$/gm, `$1${suffix}`)
            .replace(/URI="([^"]+)"/g, (_m, uri: string) => `URI="${uri}${suffix}"`)
        : text;
      return reply
        .type('application/vnd.apple.mpegurl')
        .header('Cache-Control', 'public, max-age=60')
        .send(signed);
    }
    const data = await fs.promises.readFile(path.join(dir, file));
    return reply
      .type(file.endsWith('.mp4') ? 'video/mp4' : 'video/iso.segment')
      .header('Cache-Control', 'public, max-age=60')
      .send(data);
  } catch (err) {
    if (err instanceof SpaceMediaError)
      return reply.code(err.status).type('text/plain').send(`${err.status} ${err.message}\n`);
    throw err;
  }
}

function contentType(format: string, kind: 'video' | 'audio'): string {
  for (const [k, v] of Object.entries(TYPES))
    if (format.split(',').includes(k) && (kind === 'audio' || k !== 'm4a')) return v;
  return kind === 'audio' ? 'audio/mp4' : 'video/mp4';
}

/** A file with HTTP byte ranges (one range; 416 when it cannot be satisfied). */
async function sendRange(
  req: FastifyRequest,
  reply: FastifyReply,
  file: string,
  type: string,
): Promise<FastifyReply> {
  const size = (await fs.promises.stat(file)).size;
  reply.header('Accept-Ranges', 'bytes').header('Cache-Control', 'public, max-age=60').type(type);
  const range = req.headers.range;
  if (!range) return reply.header('Content-Length', size).send(fs.createReadStream(file));
  const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
  let start = m?.[1] ? Number(m[1]) : undefined;
  let end = m?.[2] ? Number(m[2]) : undefined;
  if (start === undefined && end !== undefined) {
    start = Math.max(0, size - end);
    end = size - 1;
  }
  if (!m || start === undefined || start >= size || (end !== undefined && end < start)) {
    return reply.code(416).header('Content-Range', `bytes */${size}`).send();
  }
  end = Math.min(end ?? size - 1, size - 1);
  return reply
    .code(206)
    .header('Content-Range', `bytes ${start}-${end}/${size}`)
    .header('Content-Length', end - start + 1)
    .send(fs.createReadStream(file, { start, end }));
}
