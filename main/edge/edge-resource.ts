/**
 * The edge as the origin listener serves it: `GET`/`HEAD /kCache/<origin-host>/<path...>` (and `/kVOD/`,
 * `/kThumbnail/`) answers what `<origin-host>/<path...>` answers upstream, through the edge's cache, with CORS for
 * players, single byte ranges from the cache and `If-None-Match`. It runs before the listener's router and its
 * hooks (the answer memo, viewer access, signed URLs, viewer statistics): the edge is its own resource.
 */
import type http from 'node:http';
import type { Logger } from '../lib/logger.js';
import type { EdgeAnswer, EdgeApp, EdgeCache } from './edge-cache.js';
import type { GrowingBody } from './edge-growing.js';
import type { EdgeOrigins } from './edge-origins.js';
import type { EdgeStats } from './edge-stats.js';

export interface EdgeResourceOptions {
  cache: EdgeCache;
  origins: EdgeOrigins;
  stats: EdgeStats;
  /** The viewer's address (behind trusted proxies), for the count of viewers pulling through the edge. */
  clientOf: (req: EdgeRequest) => string | undefined;
  log: Logger;
}

const EDGE_URL = /^\/(kCache|kVOD|kThumbnail)(?:\/|$|\?)/;
const PARTS = /^\/(kCache|kVOD|kThumbnail)\/([^/?#]+)(\/[^?#]*)?(\?[^#]*)?$/;
/** `..` or `.` segments, also percent-encoded: refused rather than normalised. */
const DOT_SEGMENT = /\/(?:\.|%2e){1,2}(?:\/|$)/i;

/** `/<app>/<origin-host><path>?<query>` taken apart, or undefined when the URL is not of that shape. */
function edgeUrlParts(
  url: string | undefined,
): { app: EdgeApp; hostKey: string; rawPath: string | undefined; query: string | undefined } | undefined {
  const m = PARTS.exec(url ?? '');
  if (!m) return undefined;
  return { app: m[1] as EdgeApp, hostKey: m[2] as string, rawPath: m[3], query: m[4] };
}

/** Whether a request URL is the edge's. */
export function isEdgeUrl(url: string | undefined): boolean {
  return url !== undefined && EDGE_URL.test(url);
}

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-expose-headers': 'Content-Length, Content-Range, Date, X-Cache',
};

export type EdgeHandler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** What the edge reads of a request to find a cache hit and its viewer (Node's request, or the fast lane's). */
export interface EdgeRequest {
  method?: string | undefined;
  url?: string | undefined;
  headers: http.IncomingHttpHeaders;
  socket: { remoteAddress?: string | undefined };
}

/** A whole 200 from memory, as the fast lane (main/lib/http-fast-lane.ts) writes it. */
export interface EdgeLaneAnswer {
  headers: Record<string, string | number>;
  body: Buffer;
}

const LANE_ANSWERS = new WeakMap<EdgeAnswer, EdgeLaneAnswer>();

/**
 * The answer to a plain GET that memory holds fresh and whole, counted as {@link edgeHandler} counts it, for the
 * listener's fast lane; undefined sends the request to {@link edgeHandler}, which answers everything else (refusals,
 * misses, ranges, validators, objects still arriving).
 */
export function edgeLaneAnswer(o: EdgeResourceOptions): (req: EdgeRequest) => EdgeLaneAnswer | undefined {
  return (req) => {
    if (req.method !== 'GET' || !o.origins.enabled) return undefined;
    const parts = edgeUrlParts(req.url);
    if (!parts) return undefined;
    const { app, hostKey, rawPath, query } = parts;
    const origin = o.origins.find(hostKey);
    if (!origin || DOT_SEGMENT.test(rawPath ?? '/')) return undefined;
    const hit = o.cache.cached(origin, app, `${rawPath ?? '/'}${query ?? ''}`);
    if (!hit || hit.status !== 200 || hit.growing) return undefined;
    o.stats.served(origin.key, hit.cache, hit.body.length, o.clientOf(req));
    let answer = LANE_ANSWERS.get(hit);
    if (!answer) {
      answer = { headers: wireHeaders(hit), body: hit.body };
      LANE_ANSWERS.set(hit, answer);
    }
    return answer;
  };
}

export function edgeHandler(o: EdgeResourceOptions): EdgeHandler {
  const plain = (
    res: http.ServerResponse,
    status: number,
    message: string,
    extra: Record<string, string> = {},
  ) => {
    const body = Buffer.from(`${message}\n`);
    res.writeHead(status, {
      ...CORS,
      'content-type': 'text/plain; charset=utf-8',
      'content-length': body.length,
      'cache-control': 'no-store',
      ...extra,
    });
    res.end(body);
  };
  return (req, res) => {
    const method = req.method ?? 'GET';
    if (method === 'OPTIONS') {
      res.writeHead(204, {
        ...CORS,
        'access-control-allow-methods': 'GET, HEAD, OPTIONS',
        'access-control-allow-headers': 'Range, If-None-Match',
        'access-control-max-age': '600',
      });
      return res.end();
    }
    if (method !== 'GET' && method !== 'HEAD')
      return plain(res, 405, 'edge: only GET and HEAD', { allow: 'GET, HEAD, OPTIONS' });
    const parts = edgeUrlParts(req.url);
    if (!parts) return plain(res, 404, 'edge: the URL is /kCache/<origin-host>/<path>');
    if (!o.origins.enabled) return plain(res, 404, 'edge: the edge is off (no --edge-origins)');
    const { app, hostKey, rawPath, query } = parts;
    const origin = o.origins.find(hostKey);
    if (!origin) {
      o.stats.refused++;
      return plain(res, 403, `edge: ${hostKey} is not an allowed edge origin (--edge-origins)`);
    }
    const path = `${rawPath ?? '/'}${query ?? ''}`;
    if (DOT_SEGMENT.test(rawPath ?? '/'))
      return plain(res, 400, 'edge: dot segments are not allowed in the path');
    const hit = o.cache.cached(origin, app, path);
    if (hit) {
      o.stats.served(origin.key, hit.cache, send(req, res, hit), o.clientOf(req));
      return;
    }
    o.cache.get(origin, app, path).then(
      (a) => {
        const done = (bytes: number) => o.stats.served(origin.key, a.cache, bytes, o.clientOf(req));
        if (a.growing) sendGrowing(req, res, a, a.growing, done);
        else done(send(req, res, a));
      },
      (err: Error) => {
        o.log.error({ url: req.url, err: err.message }, 'edge error');
        if (!res.headersSent) plain(res, 500, 'edge: internal error');
        else res.destroy();
      },
    );
  };
}

/**
 * An object still arriving from upstream: sent as it arrives. A range, a conditional request or a HEAD without a
 * known length waits for the whole object and is answered from it.
 */
function sendGrowing(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  a: EdgeAnswer,
  g: GrowingBody,
  done: (bytes: number) => void,
): void {
  const head = req.method === 'HEAD';
  if (
    req.headers.range !== undefined ||
    req.headers['if-none-match'] !== undefined ||
    (head && g.declaredLength === undefined)
  ) {
    void g.finished.then((ok) => {
      if (ok) return done(send(req, res, { ...a, growing: undefined, body: g.body() }));
      const body = Buffer.from('edge: upstream failed while sending the object\n');
      res.writeHead(502, {
        ...CORS,
        'content-type': 'text/plain; charset=utf-8',
        'content-length': body.length,
      });
      res.end(body);
      done(0);
    });
    return;
  }
  res.writeHead(200, {
    ...a.headers,
    ...CORS,
    'x-cache': a.cache,
    'accept-ranges': 'bytes',
    ...(g.declaredLength !== undefined ? { 'content-length': g.declaredLength } : {}),
  });
  if (head) {
    res.end();
    return done(0);
  }
  g.pipeTo(res, done);
}

const WIRE_HEADERS = new WeakMap<EdgeAnswer, Record<string, string | number>>();

/** The headers of a whole 200, made once per answer. */
function wireHeaders(a: EdgeAnswer): Record<string, string | number> {
  let wire = WIRE_HEADERS.get(a);
  if (!wire) {
    wire = {
      ...a.headers,
      ...CORS,
      'x-cache': a.cache,
      'accept-ranges': 'bytes',
      'content-length': a.body.length,
    };
    WIRE_HEADERS.set(a, wire);
  }
  return wire;
}

/** Writes an answer (a range of it, or 304, when asked); returns the body bytes sent. */
function send(req: http.IncomingMessage, res: http.ServerResponse, a: EdgeAnswer): number {
  const head = req.method === 'HEAD';
  // The common case, a whole 200 with nothing conditional: headers made once per answer.
  if (a.status === 200 && req.headers.range === undefined && req.headers['if-none-match'] === undefined) {
    res.writeHead(200, wireHeaders(a));
    res.end(head ? undefined : a.body);
    return head ? 0 : a.body.length;
  }
  const headers: Record<string, string | number> = { ...a.headers, ...CORS, 'x-cache': a.cache };
  if (a.status !== 200) {
    res.writeHead(a.status, { ...headers, 'content-length': a.body.length });
    res.end(head ? undefined : a.body);
    return head ? 0 : a.body.length;
  }
  headers['accept-ranges'] = 'bytes';
  const etag = a.headers.etag;
  const inm = req.headers['if-none-match'];
  if (
    etag !== undefined &&
    inm !== undefined &&
    inm.split(',').some((t) => t.trim() === etag || t.trim() === '*')
  ) {
    res.writeHead(304, headers);
    res.end();
    return 0;
  }
  const range = req.headers.range;
  const size = a.body.length;
  if (range !== undefined) {
    const r = parseRange(range, size);
    if (r === 'unsatisfiable') {
      res.writeHead(416, { ...headers, 'content-range': `bytes */${size}`, 'content-length': 0 });
      res.end();
      return 0;
    }
    if (r) {
      const part = a.body.subarray(r.start, r.end + 1);
      res.writeHead(206, {
        ...headers,
        'content-range': `bytes ${r.start}-${r.end}/${size}`,
        'content-length': part.length,
      });
      res.end(head ? undefined : part);
      return head ? 0 : part.length;
    }
  }
  res.writeHead(200, { ...headers, 'content-length': size });
  res.end(head ? undefined : a.body);
  return head ? 0 : size;
}

/**
 * One `bytes=` range (`a-b`, `a-`, `-n`) within `size`; undefined when the header is not one range we serve (the
 * whole object is sent instead), `unsatisfiable` when it starts past the end.
 */
export function parseRange(
  header: string,
  size: number,
): { start: number; end: number } | 'unsatisfiable' | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size) return 'unsatisfiable';
  if (end < start) return undefined;
  return { start, end };
}
