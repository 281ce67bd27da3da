import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EdgeCache } from '../../main/edge/edge-cache.js';
import { EdgeDiskStore } from '../../main/edge/edge-disk-store.js';
import { parseEdgeOrigin, parseEdgeOrigins } from '../../main/edge/edge-origins.js';
import { parseRange } from '../../main/edge/edge-resource.js';
import { EdgeStats } from '../../main/edge/edge-stats.js';
import {
  fetchUpstream,
  UpstreamFailure,
  type Upstream,
  type UpstreamAnswer,
} from '../../main/edge/edge-upstream.js';
import { createLogger } from '../../main/lib/logger.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'edge-unit-'));
  dirs.push(d);
  return d;
}

const live = (target: number, seq: number) =>
  `#EXTM3U\n#EXT-X-TARGETDURATION:${target}\n#EXT-X-MEDIA-SEQUENCE:${seq}\n#EXTINF:${target},\ns${seq}.ts\n`;

/** An upstream that answers from a table (or a function), counting requests, each held until released. */
function fakeUpstream() {
  const calls: string[] = [];
  const held: Array<() => void> = [];
  let hold = false;
  let answer: (path: string) => UpstreamAnswer | Error = (p) => ({
    status: 200,
    headers: { 'content-type': 'video/mp2t', etag: '"e1"' },
    body: Buffer.from(`body of ${p}`),
  });
  const upstream: Upstream = async (_origin, p) => {
    calls.push(p);
    if (hold) await new Promise<void>((r) => held.push(r));
    const a = answer(p);
    if (a instanceof Error) throw a;
    return a;
  };
  return {
    upstream,
    calls,
    set answer(f: (path: string) => UpstreamAnswer | Error) {
      answer = f;
    },
    holdAll() {
      hold = true;
    },
    releaseAll() {
      hold = false;
      for (const r of held.splice(0)) r();
    },
  };
}

function setUp(originsText = 'cdn.example.com, http://10.0.0.7:8080', maxBytes = 10_000_000) {
  const clock = { t: 1_000_000 };
  const up = fakeUpstream();
  const origins = parseEdgeOrigins(originsText);
  const store = new EdgeDiskStore(path.join(tempDir(), 'edge-cache'), maxBytes);
  store.init();
  const stats = new EdgeStats(() => clock.t);
  const cache = new EdgeCache({
    origins,
    store,
    stats,
    log: createLogger('silent'),
    upstream: up.upstream,
    now: () => clock.t,
  });
  const origin = origins.find('cdn.example.com')!;
  return { clock, up, cache, store, stats, origin, origins };
}

describe('edge cache', () => {
  it('collapses concurrent misses for one object into one upstream request', async () => {
    const { up, cache, origin } = setUp();
    up.holdAll();
    const answers = Array.from({ length: 30 }, () => cache.get(origin, 'kCache', '/p/seg-1.ts'));
    await new Promise((r) => setTimeout(r, 10));
    expect(up.calls).toEqual(['/p/seg-1.ts']);
    up.releaseAll();
    const all = await Promise.all(answers);
    expect(all.every((a) => a.status === 200 && a.body.toString() === 'body of /p/seg-1.ts')).toBe(true);
    expect(all.filter((a) => a.cache === 'MISS')).toHaveLength(1);
    // And later askers get it from the cache.
    expect((await cache.get(origin, 'kCache', '/p/seg-1.ts')).cache).toBe('HIT');
    expect(up.calls).toHaveLength(1);
  });

  it('keeps segments on disk and serves them while upstream fails', async () => {
    const { up, cache, origin, store } = setUp();
    await cache.get(origin, 'kCache', '/p/seg-2.ts');
    await new Promise((r) => setTimeout(r, 20));
    expect(store.count).toBe(1);
    up.answer = () => new UpstreamFailure('NETWORK', 'connection refused');
    const again = await cache.get(origin, 'kCache', '/p/seg-2.ts');
    expect(again.status).toBe(200);
    expect(again.body.toString()).toBe('body of /p/seg-2.ts');
    expect(up.calls).toHaveLength(1);
  });

  it('keeps a live playlist half a target duration, then asks again', async () => {
    const { up, cache, origin, clock } = setUp();
    let seq = 1;
    up.answer = () => ({
      status: 200,
      headers: { 'content-type': 'application/vnd.apple.mpegurl' },
      body: Buffer.from(live(2, seq++)),
    });
    const first = await cache.get(origin, 'kCache', '/live/v.m3u8');
    expect(first.cache).toBe('MISS');
    clock.t += 900;
    expect((await cache.get(origin, 'kCache', '/live/v.m3u8')).body.toString()).toContain('s1.ts');
    expect(up.calls).toHaveLength(1);
    clock.t += 200;
    const second = await cache.get(origin, 'kCache', '/live/v.m3u8');
    expect(second.body.toString()).toContain('s2.ts');
    expect(up.calls).toHaveLength(2);
  });

  it('serves a live playlist stale for up to two target durations while upstream fails, then 502 or 504', async () => {
    const { up, cache, origin, clock } = setUp();
    up.answer = () => ({
      status: 200,
      headers: { 'content-type': 'application/vnd.apple.mpegurl' },
      body: Buffer.from(live(2, 7)),
    });
    await cache.get(origin, 'kCache', '/live/v.m3u8');
    up.answer = () => new UpstreamFailure('NETWORK', 'connection refused');
    clock.t += 1000 + 3900;
    const stale = await cache.get(origin, 'kCache', '/live/v.m3u8');
    expect(stale.cache).toBe('STALE');
    expect(stale.body.toString()).toContain('s7.ts');
    clock.t += 200;
    const failed = await cache.get(origin, 'kCache', '/live/v.m3u8');
    expect(failed.status).toBe(502);
    expect(failed.body.toString()).toMatch(/upstream cdn\.example\.com failed: connection refused/);
    up.answer = () => new UpstreamFailure('TIMEOUT', 'no answer within 10000 ms');
    expect((await cache.get(origin, 'kCache', '/live/other.m3u8')).status).toBe(504);
    up.answer = () => ({ status: 503, headers: {}, body: Buffer.from('busy') });
    expect((await cache.get(origin, 'kCache', '/live/third.m3u8')).status).toBe(502);
  });

  it("never keeps a playlist longer than upstream's max-age", async () => {
    const { up, cache, origin, clock } = setUp();
    up.answer = () => ({
      status: 200,
      headers: { 'content-type': 'application/vnd.apple.mpegurl', 'cache-control': 'max-age=0' },
      body: Buffer.from(live(6, 1)),
    });
    await cache.get(origin, 'kCache', '/live/v.m3u8');
    clock.t += 1;
    await cache.get(origin, 'kCache', '/live/v.m3u8');
    expect(up.calls).toHaveLength(2);
  });

  it('passes each distinct LL-HLS blocking request upstream once and shares its answer', async () => {
    const { up, cache, origin } = setUp();
    up.answer = (p) => ({
      status: 200,
      headers: { 'content-type': 'application/vnd.apple.mpegurl' },
      body: Buffer.from(`${live(2, 1)}#${p}\n`),
    });
    up.holdAll();
    const a = Array.from({ length: 10 }, () =>
      cache.get(origin, 'kCache', '/ll/v.m3u8?_HLS_msn=5&_HLS_part=1'),
    );
    const b = Array.from({ length: 10 }, () =>
      cache.get(origin, 'kCache', '/ll/v.m3u8?_HLS_msn=5&_HLS_part=2'),
    );
    await new Promise((r) => setTimeout(r, 10));
    expect(up.calls.sort()).toEqual([
      '/ll/v.m3u8?_HLS_msn=5&_HLS_part=1',
      '/ll/v.m3u8?_HLS_msn=5&_HLS_part=2',
    ]);
    up.releaseAll();
    const [ra, rb] = [await Promise.all(a), await Promise.all(b)];
    expect(new Set(ra.map((r) => r.body.toString())).size).toBe(1);
    expect(rb[0]!.body.toString()).toContain('_HLS_part=2');
  });

  it('rewrites a playlist for the app it was asked under', async () => {
    const { up, cache, origin } = setUp();
    up.answer = () => ({
      status: 200,
      headers: { 'content-type': 'application/vnd.apple.mpegurl' },
      body: Buffer.from('#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nhttps://cdn.example.com/a/s1.ts\n'),
    });
    expect((await cache.get(origin, 'kCache', '/a/v.m3u8')).body.toString()).toContain(
      '\n/kCache/cdn.example.com/a/s1.ts',
    );
    expect((await cache.get(origin, 'kVOD', '/a/v.m3u8')).body.toString()).toContain(
      '\n/kVOD/cdn.example.com/a/s1.ts',
    );
  });

  it('follows no redirect: one to a listed origin is passed rewritten, one elsewhere is a 502', async () => {
    const { up, cache, origin } = setUp();
    up.answer = (p) => ({
      status: 302,
      headers: { location: p === '/in' ? 'http://10.0.0.7:8080/x.ts' : 'https://evil.example.com/x.ts' },
      body: Buffer.alloc(0),
    });
    const inside = await cache.get(origin, 'kCache', '/in');
    expect(inside.status).toBe(302);
    expect(inside.headers.location).toBe('/kCache/10.0.0.7:8080/x.ts');
    const outside = await cache.get(origin, 'kCache', '/out');
    expect(outside.status).toBe(502);
    expect(outside.body.toString()).toMatch(/evil\.example\.com, which is not an allowed edge origin/);
    expect(up.calls).toEqual(['/in', '/out']);
  });

  it('passes client errors on without keeping them', async () => {
    const { up, cache, origin } = setUp();
    up.answer = () => ({ status: 404, headers: { 'content-type': 'text/plain' }, body: Buffer.from('nope') });
    expect((await cache.get(origin, 'kCache', '/missing.ts')).status).toBe(404);
    expect((await cache.get(origin, 'kCache', '/missing.ts')).status).toBe(404);
    expect(up.calls).toHaveLength(2);
  });

  it('counts requests, hits, bytes and viewers per origin host', async () => {
    const { cache, origin, stats } = setUp();
    const a = await cache.get(origin, 'kCache', '/s.ts');
    stats.served(origin.key, a.cache, a.body.length, '10.0.0.1');
    const b = await cache.get(origin, 'kCache', '/s.ts');
    stats.served(origin.key, b.cache, b.body.length, '10.0.0.2');
    const [h] = stats.snapshot();
    expect(h).toMatchObject({
      host: 'cdn.example.com',
      requests: 2,
      hits: 1,
      misses: 1,
      upstreamRequests: 1,
      viewers: 2,
    });
    expect(h!.hitRatio).toBe(0.5);
    expect(h!.wanSavingPercent).toBe(50);
  });
});

describe('edge disk store', () => {
  it('stays within its bound, least recently used out first', async () => {
    const dir = path.join(tempDir(), 'edge-cache');
    const store = new EdgeDiskStore(dir, 1000);
    store.init();
    const meta = { status: 200, headers: {} };
    for (const k of ['a', 'b', 'c']) await store.put(k, meta, Buffer.alloc(300, k));
    expect(store.bytes).toBe(900);
    store.lookup('a'); // a is now the most recently used
    await store.put('d', meta, Buffer.alloc(300, 'd'));
    expect(store.lookup('b')).toBeUndefined();
    expect(store.lookup('a')).toBeDefined();
    expect(store.bytes).toBeLessThanOrEqual(1000);
    const onDisk = fs.readdirSync(dir).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
    expect(onDisk).toBe(store.bytes);
    // Larger than the whole bound: not kept.
    await store.put('huge', meta, Buffer.alloc(1001));
    expect(store.lookup('huge')).toBeUndefined();
    expect((await store.read('a'))?.body.toString()).toBe('a'.repeat(300));
  });

  it('never exceeds its bound under concurrent writes', async () => {
    const dir = path.join(tempDir(), 'edge-cache');
    const store = new EdgeDiskStore(dir, 10_000);
    store.init();
    await Promise.all(
      Array.from({ length: 50 }, (_v, i) =>
        store.put(`k${i}`, { status: 200, headers: {} }, Buffer.alloc(900 + i)),
      ),
    );
    const onDisk = fs.readdirSync(dir).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
    expect(onDisk).toBeLessThanOrEqual(10_000);
    expect(store.bytes).toBeLessThanOrEqual(10_000);
  });

  it('starts empty', () => {
    const dir = path.join(tempDir(), 'edge-cache');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'left-over'), 'x');
    new EdgeDiskStore(dir, 100).init();
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});

describe('edge upstream requests', () => {
  it('does not connect to a listed name that resolves to a loopback address', async () => {
    await expect(
      fetchUpstream(parseEdgeOrigin('http://localhost:9'), '/x', { timeoutMs: 1000, maxBytes: 1000 }),
    ).rejects.toMatchObject({ code: 'PRIVATE_ADDRESS' });
  });

  it('times out, bounds bodies and follows no redirect', async () => {
    const server = http.createServer((req, res) => {
      if (req.url === '/slow') return; // never answers
      if (req.url === '/big') return res.end(Buffer.alloc(5000));
      res.writeHead(302, { location: 'https://evil.example.com/' });
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const origin = parseEdgeOrigin(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    try {
      await expect(fetchUpstream(origin, '/slow', { timeoutMs: 200, maxBytes: 1000 })).rejects.toMatchObject({
        code: 'TIMEOUT',
      });
      await expect(fetchUpstream(origin, '/big', { timeoutMs: 2000, maxBytes: 1000 })).rejects.toMatchObject({
        code: 'TOO_LARGE',
      });
      const r = await fetchUpstream(origin, '/redirect', { timeoutMs: 2000, maxBytes: 1000 });
      expect(r.status).toBe(302);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('edge byte ranges', () => {
  it('reads one range', () => {
    expect(parseRange('bytes=0-9', 100)).toEqual({ start: 0, end: 9 });
    expect(parseRange('bytes=90-', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=-10', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=50-500', 100)).toEqual({ start: 50, end: 99 });
    expect(parseRange('bytes=100-', 100)).toBe('unsatisfiable');
    expect(parseRange('bytes=0-1,5-6', 100)).toBeUndefined();
    expect(parseRange('items=0-1', 100)).toBeUndefined();
  });
});
