/**
 * Spaces in the control API (DuraCloud's spaces): create, list, change (name, open/secure, streaming on/off),
 * delete; upload items (streamed to disk, size-limited, type-checked with ffprobe), list and delete them;
 * get-url and get-signed-url per item; a live channel's archive range saved into a space as one MP4.
 */
import fs from 'node:fs';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { SignedUrlError, signQuery } from '../access/signed-url.js';
import type { SigningKeys } from '../access/signing-keys.js';
import { parseAllowList } from '../lib/ip-allow-list.js';
import { ArchiveExportError, exportRange } from '../origin/archive-export.js';
import type { PublishingPoints } from '../origin/publishing-points.js';
import { ITEM_NAME, type SpaceFiles } from '../spaces/space-media.js';
import type { SpaceItem, SpaceRecord, SpaceStore } from '../spaces/space-store.js';
import { admitItem } from '../spaces/archive-library.js';
import { signedUrlBody } from '../contract/contract.js';
import { randomHex } from '../lib/random-id.js';

export interface SpacesApiOptions {
  spaces: SpaceStore;
  files: SpaceFiles;
  keys: SigningKeys;
  pps: PublishingPoints;
  ffmpegPath: string;
  /** Base URL of the origin listener as viewers reach it (`http://host:8080`). */
  originBase: string;
  maxUploadBytes: number;
  fail: (status: number, code: string, message: string) => Error;
}

const spaceBody = z.object({ name: z.string().trim().min(1).max(200) }).strict();
const patchSpaceBody = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    access: z.enum(['open', 'secure']).optional(),
    streaming: z.boolean().optional(),
  })
  .strict();
const saveBody = z
  .object({
    spaceId: z.string(),
    name: z.string().regex(ITEM_NAME, 'name: letters, digits, . _ -'),
    from: z.string(),
    to: z.string(),
  })
  .strict();

export function registerSpacesApi(app: FastifyInstance, o: SpacesApiOptions): void {
  const parse = <T>(schema: z.ZodType<T>, body: unknown): T => {
    const r = schema.safeParse(body ?? {});
    if (!r.success)
      throw o.fail(
        400,
        'BAD_REQUEST',
        r.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
      );
    return r.data;
  };
  const space = (id: string): SpaceRecord => {
    const s = o.spaces.get(id);
    if (!s) throw o.fail(404, 'SPACE_NOT_FOUND', `no space ${id}`);
    return s;
  };
  const itemOf = (id: string, name: string): SpaceItem => {
    const i = o.spaces.item(id, name);
    if (!i) throw o.fail(404, 'ITEM_NOT_FOUND', `no item ${name} in space ${id}`);
    return i;
  };
  const urls = (s: SpaceRecord, i: SpaceItem) => ({
    hls: `${o.originBase}/media/${s.id}/${encodeURIComponent(i.name)}/index.m3u8`,
    progressive: `${o.originBase}/media/${s.id}/${encodeURIComponent(i.name)}`,
  });
  const view = (s: SpaceRecord) => ({
    ...s,
    createdAt: new Date(s.createdAt).toISOString(),
    items: o.spaces.items(s.id).map((i) => ({
      name: i.name,
      kind: i.kind,
      format: i.format,
      size: i.size,
      duration: i.duration,
      ...urls(s, i),
    })),
  });

  app.post('/api/v1/spaces', async (req, reply) => {
    const s = o.spaces.create(parse(spaceBody, req.body).name);
    fs.mkdirSync(o.files.spaceDir(s.id), { recursive: true });
    return reply.code(201).send(view(s));
  });
  app.get('/api/v1/spaces', async () => ({ spaces: o.spaces.list().map(view) }));
  app.get('/api/v1/spaces/:id', async (req: FastifyRequest<{ Params: { id: string } }>) =>
    view(space(req.params.id)),
  );
  app.patch('/api/v1/spaces/:id', async (req: FastifyRequest<{ Params: { id: string } }>) => {
    space(req.params.id);
    o.spaces.update(req.params.id, parse(patchSpaceBody, req.body));
    return view(space(req.params.id));
  });
  app.delete('/api/v1/spaces/:id', async (req: FastifyRequest<{ Params: { id: string } }>) => {
    space(req.params.id);
    fs.rmSync(o.files.spaceDir(req.params.id), { recursive: true, force: true });
    o.spaces.delete(req.params.id);
    return { deleted: req.params.id };
  });

  app.get(
    '/api/v1/spaces/:id/items/:name/url',
    async (req: FastifyRequest<{ Params: { id: string; name: string } }>) => {
      const s = space(req.params.id);
      return {
        ...urls(s, itemOf(s.id, req.params.name)),
        url: urls(s, itemOf(s.id, req.params.name)).hls,
        access: s.access,
      };
    },
  );
  app.post(
    '/api/v1/spaces/:id/items/:name/signed-url',
    async (req: FastifyRequest<{ Params: { id: string; name: string } }>) => {
      const s = space(req.params.id);
      const i = itemOf(s.id, req.params.name);
      const { expiresIn, resourcePrefix } = parse(signedUrlBody, req.body);
      const ipRange = (req.body as { ipRange?: string } | undefined)?.ipRange?.trim();
      if (ipRange !== undefined) {
        try {
          if (ipRange.includes(',')) throw new Error('give one address, CIDR or range');
          parseAllowList(ipRange);
        } catch (err) {
          throw o.fail(400, 'BAD_REQUEST', `ipRange: ${(err as Error).message}`);
        }
      }
      const expiresAt = Math.floor(Date.now() / 1000) + expiresIn;
      let query: string;
      try {
        query = signQuery(o.keys.current(), {
          scope: `/media/${s.id}/`,
          expiresAt,
          ...(ipRange ? { ipRange } : {}),
        });
      } catch (err) {
        if (err instanceof SignedUrlError) throw o.fail(400, 'BAD_REQUEST', err.message);
        throw err;
      }
      const u = urls(s, i);
      return {
        url: `${u.hls}?${query}`,
        progressive: `${u.progressive}?${query}`,
        expiresAt: new Date(expiresAt * 1000).toISOString(),
        ...(resourcePrefix ? { resourcePrefix, streamName: `${resourcePrefix}${i.name}` } : {}),
      };
    },
  );

  app.delete(
    '/api/v1/spaces/:id/items/:name',
    async (req: FastifyRequest<{ Params: { id: string; name: string } }>) => {
      const s = space(req.params.id);
      itemOf(s.id, req.params.name);
      o.spaces.deleteItem(s.id, req.params.name);
      fs.rmSync(o.files.itemPath(s.id, req.params.name), { force: true });
      fs.rmSync(o.files.hlsDir(s.id, req.params.name), { recursive: true, force: true });
      return { deleted: req.params.name };
    },
  );

  /** Adds a file (already in `tmp`) to a space once ffprobe says what it is (415 `UNSUPPORTED_MEDIA_TYPE` if not). */
  const admit = (s: SpaceRecord, name: string, tmp: string): Promise<SpaceItem> =>
    admitItem(o.spaces, o.files, s, name, tmp);

  app.post(
    '/api/v1/channels/:entryId/archive/save',
    async (req: FastifyRequest<{ Params: { entryId: string } }>, reply) => {
      const b = parse(saveBody, req.body);
      const pp = o.pps.get(req.params.entryId);
      if (!pp) throw o.fail(404, 'PUBLISHING_POINT_NOT_FOUND', `no publishing point ${req.params.entryId}`);
      const s = space(b.spaceId);
      const from = Date.parse(b.from);
      const to = Date.parse(b.to);
      if (!Number.isFinite(from) || !Number.isFinite(to) || from >= to)
        throw o.fail(400, 'BAD_REQUEST', 'from and to: ISO times, from before to');
      let exported;
      try {
        exported = await exportRange(o.pps, pp, from, to, o.ffmpegPath);
      } catch (err) {
        if (err instanceof ArchiveExportError)
          throw o.fail(err.status, err.status === 404 ? 'NOT_FOUND' : 'EXPORT_FAILED', err.message);
        throw err;
      }
      try {
        const tmp = `${o.files.itemPath(s.id, b.name)}.upload-${randomHex(6)}`;
        fs.copyFileSync(exported.file, tmp);
        const item = await admit(s, b.name, tmp);
        return reply.code(201).send({
          name: item.name,
          kind: item.kind,
          size: item.size,
          duration: item.duration,
          ...urls(s, item),
        });
      } finally {
        exported.cleanup();
      }
    },
  );

  // Uploads take the raw body as a stream, whatever its content type.
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
    scope.put(
      '/api/v1/spaces/:id/items/:name',
      async (req: FastifyRequest<{ Params: { id: string; name: string } }>, reply) => {
        const s = space(req.params.id);
        const name = req.params.name;
        if (!ITEM_NAME.test(name) || name.includes('..'))
          throw o.fail(
            400,
            'BAD_REQUEST',
            'item names use letters, digits, . _ - and do not start with a dot',
          );
        if (Number(req.headers['content-length'] ?? 0) > o.maxUploadBytes) {
          reply.raw.once('finish', () => req.raw.socket.destroy());
          throw o.fail(413, 'PAYLOAD_TOO_LARGE', `uploads are limited to ${o.maxUploadBytes} bytes`);
        }
        const tmp = `${o.files.itemPath(s.id, name)}.upload-${randomHex(6)}`;
        let size = 0;
        const limit = o.maxUploadBytes;
        const counter = new Transform({
          transform(chunk: Buffer, _enc, cb) {
            size += chunk.length;
            cb(size > limit ? new Error('too large') : null, chunk);
          },
        });
        try {
          await pipeline(req.body as Readable, counter, fs.createWriteStream(tmp));
        } catch (err) {
          fs.rmSync(tmp, { force: true });
          if (size > limit) {
            reply.raw.once('finish', () => req.raw.socket.destroy());
            throw o.fail(413, 'PAYLOAD_TOO_LARGE', `uploads are limited to ${limit} bytes`);
          }
          throw err;
        }
        if (size === 0) {
          fs.rmSync(tmp, { force: true });
          throw o.fail(400, 'BAD_REQUEST', 'empty upload');
        }
        const item = await admit(s, name, tmp);
        return reply.code(201).send({
          name: item.name,
          kind: item.kind,
          format: item.format,
          size: item.size,
          duration: item.duration,
          ...urls(s, item),
        });
      },
    );
  });
}
