/**
 * Repeated viewer requests answered from the memo, before the router: the memo's validity rules, and the origin
 * listener over real HTTP (Fastify's inject never reaches the server, so it would not show a replay).
 */
import { adminCheck } from '../../main/access/admin-credentials.js';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseAllowList } from '../../main/lib/ip-allow-list.js';
import { createLogger } from '../../main/lib/logger.js';
import { AnswerMemo, type IndexVersion, type MemoAnswer } from '../../main/origin/answer-memo.js';
import { MAX_AGE_MS } from '../../main/origin/manifest-cache.js';
import { createOriginServer } from '../../main/app/viewer-listener.js';
import { OriginStorage } from '../../main/origin/origin-storage.js';
import { PublishingPoints } from '../../main/origin/publishing-points.js';
import { ViewerStats } from '../../main/origin/viewer-stats.js';
import { closeTestIndexes, testIndex } from '../helpers/index-fixtures.js';

const log = createLogger('silent');
const T0 = Date.UTC(2026, 10, 21, 10, 0, 0);

function answer(cacheControl: string, size = 10): MemoAnswer {
  return {
    pp: '0_abcdefgh',
    rendition: 'video_source',
    headers: { 'cache-control': cacheControl, 'content-length': size },
    body: Buffer.alloc(size, 1),
  };
}

describe('answer memo', () => {
  it('keeps an immutable answer across index writes, and drops it when anything is removed', () => {
    const v: IndexVersion = { writes: 1, removals: 0 };
    const memo = new AnswerMemo(() => v);
    memo.set('/f/1.m4s', answer('public, max-age=31536000, immutable'), { ...v }, T0);
    v.writes = 7;
    expect(memo.get('/f/1.m4s', T0 + 60_000)).toBeDefined();
    v.removals = 1;
    expect(memo.get('/f/1.m4s', T0 + 60_000)).toBeUndefined();
    expect(memo.count).toBe(0);
  });

  it('keeps any other answer for one index state and at most MAX_AGE_MS', () => {
    const v: IndexVersion = { writes: 1, removals: 0 };
    const memo = new AnswerMemo(() => v);
    memo.set('/p.m3u8', answer('public, max-age=1'), { ...v }, T0);
    expect(memo.get('/p.m3u8', T0 + MAX_AGE_MS)).toBeDefined();
    expect(memo.get('/p.m3u8', T0 + MAX_AGE_MS + 1)).toBeUndefined();
    memo.set('/p.m3u8', answer('public, max-age=1'), { ...v }, T0);
    v.writes = 2;
    expect(memo.get('/p.m3u8', T0)).toBeUndefined();
  });

  it('an answer computed before a change is stale at once', () => {
    const v: IndexVersion = { writes: 5, removals: 0 };
    const memo = new AnswerMemo(() => v);
    memo.set('/p.m3u8', answer('public, max-age=1'), { writes: 4, removals: 0 }, T0);
    expect(memo.get('/p.m3u8', T0)).toBeUndefined();
  });

  it('stays within its byte budget, oldest first, and never keeps what is an eighth of it or more', () => {
    const v: IndexVersion = { writes: 1, removals: 0 };
    const memo = new AnswerMemo(() => v, 1000);
    for (let i = 0; i < 20; i++) memo.set(`/f/${i}.m4s`, answer('immutable', 100), v, T0);
    expect(memo.size).toBeLessThanOrEqual(1000);
    expect(memo.get('/f/0.m4s', T0)).toBeUndefined();
    expect(memo.get('/f/19.m4s', T0)).toBeDefined();
    memo.set('/big.m4s', answer('immutable', 125), v, T0);
    expect(memo.get('/big.m4s', T0)).toBeUndefined();
  });
});

const apps: FastifyInstance[] = [];
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(apps.splice(0).map((a) => a.close()));
  closeTestIndexes();
});

/** A stopped publishing point with three 2 s video fragments, served by the origin on a loopback port. */
async function served() {
  const s = testIndex({ dvr_window_length: '30' }, Date.now() - 60_000);
  const storage = new OriginStorage(s.dir);
  const video = s.track('video_source', 'video', 90_000);
  fs.mkdirSync(storage.trackDir(s.pp.name, 'video_source'), { recursive: true });
  fs.writeFileSync(storage.initPath(s.pp.name, 'video_source'), Buffer.from('init'));
  const add = (i: number) => {
    const mediaTime = i * 180_000;
    const file = storage.fragmentFile('video_source', mediaTime);
    fs.writeFileSync(storage.resolve(s.pp.name, file), Buffer.alloc(5000 + i, i));
    return s.index.addFragment({
      trackId: video.id,
      mediaTime,
      duration: 180_000,
      utc: s.pp.epoch + mediaTime / 90,
      size: 5000 + i,
      file,
      discontinuity: false,
      serverIndex: 0,
    });
  };
  for (let i = 0; i < 3; i++) add(i);
  s.index.setTrackState(video.id, 'stopped');
  s.index.setState(s.pp.name, 'stopped');
  const access = { mode: 'open' as 'open' | 'secure' };
  const stats = new ViewerStats();
  const app = createOriginServer({
    index: s.index,
    storage,
    pps: new PublishingPoints(s.index, storage, log),
    isAdmin: adminCheck('admin-token'),
    adminAllow: parseAllowList(''),
    statusAllow: parseAllowList('127.0.0.1'),
    signedGeneration: () => 0,
    accessFor: () => access.mode,
    keys: { find: () => undefined },
    trustedProxies: parseAllowList(''),
    stats,
    log,
  });
  apps.push(app);
  // Requests that reach the router; a replayed one never does.
  let routed = 0;
  app.addHook('onRequest', (_req, _reply, done) => {
    routed++;
    done();
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as AddressInfo).port;
  const base = `http://127.0.0.1:${port}/${s.pp.name}/${s.pp.name}.isml/`;
  const get = async (url: string, init?: RequestInit) => {
    const r = await fetch(base + url, init);
    return {
      status: r.status,
      headers: Object.fromEntries(r.headers),
      body: Buffer.from(await r.arrayBuffer()),
    };
  };
  return { ...s, storage, video, add, access, stats, get, port, base, routed: () => routed };
}

const withoutDate = (h: Record<string, string>) => ({ ...h, date: undefined });

describe('origin listener replays repeated viewer requests', () => {
  it('answers a fragment again without the router, with the same headers and bytes, and counts the viewer', async () => {
    const o = await served();
    const url = `tracks/video_source/${180_000}.m4s`;
    const first = await o.get(url);
    expect(first.status).toBe(200);
    expect(first.headers['cache-control']).toContain('immutable');
    const routed = o.routed();
    const again = await o.get(url);
    expect(o.routed()).toBe(routed);
    expect(again.status).toBe(200);
    expect(again.body.equals(first.body)).toBe(true);
    expect(withoutDate(again.headers)).toEqual(withoutDate(first.headers));
    expect(o.stats.snapshot(o.pp.name).requestsByRendition).toEqual({ video_source: 2 });
    expect(o.stats.totals(o.pp.name).bytesServed).toBe(2 * first.body.length);
  });

  it('replays a playlist only while the index is unchanged', async () => {
    const o = await served();
    const first = await o.get('tracks/video_source.m3u8');
    expect(first.status).toBe(200);
    const routed = o.routed();
    expect((await o.get('tracks/video_source.m3u8')).body.equals(first.body)).toBe(true);
    expect(o.routed()).toBe(routed);
    o.add(3);
    const changed = await o.get('tracks/video_source.m3u8');
    expect(o.routed()).toBe(routed + 1);
    expect(changed.body.toString()).toContain(`${3 * 180_000}.m4s`);
    expect(o.stats.snapshot(o.pp.name).requestsByRendition).toEqual({ manifest: 3 });
  });

  it('never replays to a publishing point that has become secure', async () => {
    const o = await served();
    const url = `tracks/video_source/0.m4s`;
    expect((await o.get(url)).status).toBe(200);
    o.access.mode = 'secure';
    const denied = await o.get(url);
    expect(denied.status).toBe(403);
  });

  it('never replays a purged fragment', async () => {
    const o = await served();
    const url = `tracks/video_source/0.m4s`;
    expect((await o.get(url)).status).toBe(200);
    const first = o.index.fragmentByTime(o.video.id, 0);
    o.index.deleteFragments([first?.id as number]);
    expect((await o.get(url)).status).toBe(404);
  });

  it('never keeps what has a query string, a status other than 200, or a method other than GET', async () => {
    const o = await served();
    const before = o.routed();
    await o.get('tracks/video_source/0.m4s?x=1');
    await o.get('tracks/video_source/0.m4s?x=1');
    await o.get('tracks/video_source/99.m4s');
    await o.get('tracks/video_source/99.m4s');
    await o.get('state');
    await o.get('state');
    await o.get('tracks/video_source/0.m4s', { method: 'HEAD' });
    await o.get('tracks/video_source/0.m4s', { method: 'HEAD' });
    expect(o.routed()).toBe(before + 8);
  });

  it('counts the viewers of answers on kept-alive connections per address and player, not per request', async () => {
    const o = await served();
    const url = new URL(`${o.base}tracks/video_source/${180_000}.m4s`);
    // One connection for every request, as a player's; only its user agent (and, last, credentials) change.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set<unknown>();
    const fetchWith = (headers: http.OutgoingHttpHeaders) =>
      new Promise<number>((resolve, reject) => {
        http
          .get(url, { agent, headers }, (res) => {
            sockets.add(res.socket);
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          })
          .on('error', reject);
      });
    try {
      for (let i = 0; i < 3; i++) expect(await fetchWith({ 'user-agent': 'player one' })).toBe(200);
      for (let i = 0; i < 2; i++) expect(await fetchWith({ 'user-agent': 'player two' })).toBe(200);
      expect(await fetchWith({ 'user-agent': 'player two', authorization: 'Basic eDp5' })).toBe(200);
    } finally {
      agent.destroy();
    }
    expect(sockets.size).toBe(1);
    // The requests after the first never reached the router: the fast lane answered them and counted them.
    expect(o.routed()).toBe(1);
    const totals = o.stats.totals(o.pp.name);
    expect(totals.viewers).toBe(2);
    expect(totals.uniqueViewers).toBe(2);
    expect(o.stats.snapshot(o.pp.name).requestsByRendition).toEqual({ video_source: 5 });
  });
});
