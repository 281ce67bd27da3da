/** The /kCache/ resource over real HTTP, with the upstream a stand-in: refusals, methods, ranges, 304, edge off. */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { Edge } from '../../main/edge/edge.js';
import { isEdgeUrl } from '../../main/edge/edge-resource.js';
import { fetchUpstream, type Upstream } from '../../main/edge/edge-upstream.js';
import { parseEdgeOrigin } from '../../main/edge/edge-origins.js';
import { FastLane } from '../../main/lib/http-fast-lane.js';
import { VIEWER_SOCKET_LIMITS } from '../../main/lib/http-server.js';
import { createLogger } from '../../main/lib/logger.js';

const dirs: string[] = [];
const servers: http.Server[] = [];
afterAll(() => {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

async function serve(
  origins: string,
  upstream: Upstream,
  withLane = false,
): Promise<{ base: string; edge: Edge; lane?: FastLane }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'edge-resource-'));
  dirs.push(dataDir);
  const edge = new Edge({ dataDir, origins, cacheBytes: 1_000_000, log: createLogger('silent'), upstream });
  const handler = edge.handler((req) => req.socket.remoteAddress);
  const server = http.createServer((req, res) => {
    if (isEdgeUrl(req.url)) handler(req, res);
    else res.writeHead(418).end();
  });
  // As the origin listener has it: memory hits answered by the fast lane, the rest by the handler.
  const laneAnswer = edge.laneAnswer((req) => req.socket.remoteAddress);
  const lane = withLane
    ? new FastLane(server, {
        answer: (req) => (isEdgeUrl(req.url) ? laneAnswer(req) : undefined),
        limits: VIEWER_SOCKET_LIMITS,
      })
    : undefined;
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    edge,
    ...(lane ? { lane } : {}),
  };
}

const BODY = Buffer.from('0123456789abcdefghij');
const calls: string[] = [];
const upstream: Upstream = async (_o, p) => {
  calls.push(p);
  return { status: 200, headers: { 'content-type': 'video/mp4', etag: '"v1"' }, body: BODY };
};

describe('the /kCache/ resource', () => {
  it('knows its URLs', () => {
    expect(isEdgeUrl('/kCache/h/x.ts')).toBe(true);
    expect(isEdgeUrl('/kVOD/h/x.mp4')).toBe(true);
    expect(isEdgeUrl('/kThumbnail/h/x.jpg')).toBe(true);
    expect(isEdgeUrl('/kCacheX/h')).toBe(false);
    expect(isEdgeUrl('/0_abc/0_abc.isml/.m3u8')).toBe(false);
  });

  it('answers 404 when the edge is off', async () => {
    const { base } = await serve('', upstream);
    const r = await fetch(`${base}/kCache/cdn.example.com/x.ts`);
    expect(r.status).toBe(404);
    expect(await r.text()).toMatch(/edge is off/);
  });

  it('refuses hosts not listed and methods other than GET and HEAD, before any upstream request', async () => {
    const { base, edge } = await serve('cdn.example.com', upstream);
    const before = calls.length;
    expect((await fetch(`${base}/kCache/other.example.com/x.ts`)).status).toBe(403);
    expect((await fetch(`${base}/kCache/cdn.example.com:8443/x.ts`)).status).toBe(403);
    expect((await fetch(`${base}/kCache/cdn.example.com/x.ts`, { method: 'DELETE' })).status).toBe(405);
    expect((await fetch(`${base}/kCache/`)).status).toBe(404);
    const pre = await fetch(`${base}/kCache/cdn.example.com/x.ts`, { method: 'OPTIONS' });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/Range/);
    expect(calls.length).toBe(before);
    expect(edge.view().refused).toBe(2);
  });

  it('answers memory hits through the fast lane as the handler does, counted; ranges and refusals stay with the handler', async () => {
    const { base, edge, lane } = await serve('cdn.example.com', upstream, true);
    const before = calls.length;
    const url = `${base}/kCache/cdn.example.com/lane/seg-1.ts`;
    const miss = await fetch(url);
    expect(miss.headers.get('x-cache')).toBe('MISS');
    expect(await miss.text()).toBe(BODY.toString());
    expect(lane?.counts.answered).toBe(0);
    const hit = await fetch(url);
    expect(lane?.counts.answered).toBe(1);
    expect(hit.status).toBe(200);
    expect(await hit.text()).toBe(BODY.toString());
    expect(Object.fromEntries(hit.headers)).toMatchObject({
      'x-cache': 'HIT',
      'content-type': 'video/mp4',
      'content-length': String(BODY.length),
      'access-control-allow-origin': '*',
      'accept-ranges': 'bytes',
      etag: '"v1"',
    });
    expect(calls.length - before).toBe(1);
    const tail = await fetch(url, { headers: { range: 'bytes=-5' } });
    expect(tail.status).toBe(206);
    expect(await tail.text()).toBe('fghij');
    expect((await fetch(url, { headers: { 'if-none-match': '"v1"' } })).status).toBe(304);
    expect((await fetch(`${base}/kCache/other.example.com/lane/seg-1.ts`)).status).toBe(403);
    expect(lane?.counts.answered).toBe(1);
    const host = edge.hosts().find((h) => h.host === 'cdn.example.com');
    expect(host).toMatchObject({ requests: 4, hits: 3, misses: 1 });
  });

  it('serves ranges, 304 and 416 from the cache', async () => {
    const { base, edge } = await serve('cdn.example.com', upstream);
    const url = `${base}/kCache/cdn.example.com/v/seg.m4s`;
    const whole = await fetch(url);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    expect(Buffer.from(await whole.arrayBuffer()).equals(BODY)).toBe(true);
    const tail = await fetch(url, { headers: { range: 'bytes=-5' } });
    expect(tail.status).toBe(206);
    expect(tail.headers.get('content-range')).toBe('bytes 15-19/20');
    expect(await tail.text()).toBe('fghij');
    expect((await fetch(url, { headers: { range: 'bytes=20-' } })).status).toBe(416);
    expect((await fetch(url, { headers: { 'if-none-match': '"v1"' } })).status).toBe(304);
    const [h] = edge.view().hosts;
    expect(h).toMatchObject({
      host: 'cdn.example.com',
      requests: 4,
      misses: 1,
      hits: 3,
      upstreamRequests: 1,
    });
  });
});

describe('streaming to everyone who waits', () => {
  it('sends an object to concurrent askers as it arrives, from one upstream request', async () => {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let requests = 0;
    const slow: Upstream = async (_o, _p, opts) => {
      requests++;
      const headers = { 'content-type': 'video/mp2t', 'content-length': '12' };
      opts.onHead?.(200, headers);
      opts.onData?.(Buffer.from('first-'));
      await released;
      opts.onData?.(Buffer.from('second'));
      return { status: 200, headers, body: Buffer.from('first-second') };
    };
    const { base } = await serve('cdn.example.com', slow);
    const url = `${base}/kCache/cdn.example.com/live/seg-9.ts`;
    const responses = await Promise.all(Array.from({ length: 10 }, () => fetch(url)));
    // Headers and the first half arrived while upstream is still sending.
    const readers = responses.map((r) => r.body!.getReader());
    const firsts = await Promise.all(readers.map((rd) => rd.read()));
    for (const f of firsts) expect(Buffer.from(f.value!).toString()).toBe('first-');
    expect(responses.map((r) => r.headers.get('content-length'))).toEqual(Array(10).fill('12'));
    expect(responses.filter((r) => r.headers.get('x-cache') === 'MISS')).toHaveLength(1);
    // A range waits for the whole object.
    const ranged = fetch(url, { headers: { range: 'bytes=6-' } });
    release();
    const rests = await Promise.all(readers.map((rd) => rd.read()));
    for (const r of rests) expect(Buffer.from(r.value!).toString()).toBe('second');
    expect(await (await ranged).text()).toBe('second');
    expect(requests).toBe(1);
    // Then it is in the cache.
    expect((await fetch(url)).headers.get('x-cache')).toBe('HIT');
  });

  it('cuts the answers short when upstream fails part way, and keeps nothing', async () => {
    let calls = 0;
    const failing: Upstream = async (_o, _p, opts) => {
      calls++;
      opts.onHead?.(200, { 'content-type': 'video/mp2t', 'content-length': '100' });
      opts.onData?.(Buffer.alloc(10));
      await new Promise((r) => setTimeout(r, 20));
      throw new Error('connection reset');
    };
    const { base } = await serve('cdn.example.com', failing);
    const url = `${base}/kCache/cdn.example.com/live/seg-10.ts`;
    const r = await fetch(url);
    expect(r.status).toBe(200);
    await expect(r.arrayBuffer()).rejects.toThrow();
    await fetch(url)
      .then((x) => x.arrayBuffer())
      .catch(() => undefined);
    expect(calls).toBe(2);
  });
});

describe('upstream bodies', () => {
  it('decodes a body upstream compressed although asked not to', async () => {
    const text = '#EXTM3U\n#EXT-X-TARGETDURATION:2\n';
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl', 'content-encoding': 'gzip' });
      res.end(zlib.gzipSync(text));
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const origin = parseEdgeOrigin(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    const r = await fetchUpstream(origin, '/a.m3u8', { timeoutMs: 2000, maxBytes: 10_000 });
    expect(r.body.toString()).toBe(text);
    expect(r.headers['content-encoding']).toBeUndefined();
  });
});
