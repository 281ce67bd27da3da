/** Publishing point URLs on the origin: `/<path>/<name>.isml[/<rest>]`, split once per request. */
import type { FastifyRequest } from 'fastify';
import { PublishingPoints } from '../publishing-points.js';
import type { PublishingPointRecord } from '../segment-index.js';
import type { PpLookup, ViewerCaches } from './viewer-deps.js';

/** Init segments and fragments count per rendition; playlists and MPDs as manifest requests. */
export function renditionOf(rest: string): string {
  return /^tracks\/([A-Za-z0-9_-]+)\//.exec(rest)?.[1] ?? 'manifest';
}

/** `/<path>/<name>.isml[/<rest>]` → the publishing point id and the virtual path after it. */
function splitPpUrl(urlPath: string): { id: string; rest: string } | undefined {
  const m = /^(\/.+?\.isml)(?:\/(.*))?$/.exec(urlPath);
  if (!m) return undefined;
  try {
    return { id: PublishingPoints.idFromUrlPath(m[1] as string), rest: m[2] ?? '' };
  } catch {
    return undefined;
  }
}

/** The request's publishing point and path within it, worked out once per request (handler and statistics). */
const targets = new WeakMap<FastifyRequest, { id: string; rest: string } | null>();
export function targetOf(req: FastifyRequest): { id: string; rest: string } | undefined {
  let t = targets.get(req);
  if (t === undefined) {
    const url = req.raw.url ?? '/';
    const q = url.indexOf('?');
    t = splitPpUrl(q === -1 ? url : url.slice(0, q)) ?? null;
    targets.set(req, t);
  }
  return t ?? undefined;
}

/** The publishing point a request names, looked up in the segment index through the index memo. */
export function ppLookup(
  index: { getPublishingPoint(id: string): PublishingPointRecord | undefined },
  caches: Pick<ViewerCaches, 'indexed'>,
): PpLookup {
  return (req) => {
    const target = targetOf(req);
    const pp = target && caches.indexed(`p ${target.id}`, () => index.getPublishingPoint(target.id));
    return pp && target ? { pp, rest: target.rest } : undefined;
  };
}
