/**
 * The edge (Kaltura's KES role): `/kCache/<origin-host>/<path>` on the origin listener, in front of Debian's nginx
 * serving a live HLS that real ffmpeg writes (a TS and an fMP4 variant), counted from nginx's access log: many
 * viewers cost the upstream one request per segment; hls.js plays through it and rides out an upstream outage;
 * hosts not listed are refused without an upstream request; the disk bound holds; a second appliance pulls through
 * the first (tiers); both report edge server nodes to the Kaltura double.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, waitFor, type RunningAppliance } from '../helpers/appliance.js';
import { ensureDashboardBuilt, openDashboard, until } from '../helpers/dashboard.js';
import { test as base, describe, expect } from '../helpers/fixtures.js';
import { startHlsUpstream } from '../helpers/hls-upstream.js';
import { rawRequest } from '../helpers/http-raw.js';
import { ECDN_FEATURES, FakeKaltura } from '../helpers/kaltura-server.js';
import { edgeViewSchema } from '../../main/contract/contract.js';

const SEGMENT = 2;
const SECRET = 'edge-partner-secret-7d2e';
const PARTNER = 102;
const PARENT_EDGE = 'edge-parent.test.example';
const CHILD_EDGE = 'edge-child.test.example';
/** The disk bound of the first appliance: 0.002 GiB (about 2.1 MB), so a few objects overflow it. */
const CACHE_GB = 0.002;

const kaltura = new FakeKaltura({
  partners: [{ id: PARTNER, adminSecret: SECRET, name: 'Branch office', features: ECDN_FEATURES }],
  entries: [],
});

const ecdnArgs = (serviceUrl: string, mediaNode: string, edgeNode: string) => [
  '--mode',
  'ecdn',
  '--service-url',
  serviceUrl,
  '--partner-id',
  String(PARTNER),
  '--server-node-name',
  mediaNode,
  '--server-node-interval',
  '1',
  '--edge-name',
  edgeNode,
];

const test = base
  // eslint-disable-next-line no-empty-pattern
  .extend('upstream', { scope: 'file' }, async ({}, { onCleanup }) => {
    const u = await startHlsUpstream({
      seconds: 120,
      segment: SEGMENT,
      staticFiles: { count: 6, bytes: 600_000 },
    });
    onCleanup(() => u.stop());
    return u;
  })
  // eslint-disable-next-line no-empty-pattern
  .extend('serviceUrl', { scope: 'file' }, async ({}, { onCleanup }) => {
    const url = await kaltura.start();
    onCleanup(() => kaltura.stop());
    return url;
  })
  // The admin listener serves renderer/dist as it finds it at start: build first (the Edge page).
  .override('applianceOptions', async ({ upstream, serviceUrl }) => {
    await ensureDashboardBuilt();
    return {
      extraArgs: [
        '--edge-origins',
        `${upstream.listed}, cdn.example.com`,
        '--edge-cache-size',
        String(CACHE_GB),
        ...ecdnArgs(serviceUrl, 'media-a.test.example', PARENT_EDGE),
      ],
      env: { ECDN_PARTNER_SECRET: SECRET },
    };
  });

const edgeUrl = (a: RunningAppliance, host: string, p: string) => `${a.origin}/kCache/${host}${p}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** URIs a playlist lists (segment lines and URI="..." attributes). */
function listed(playlist: string): string[] {
  const out: string[] = [];
  for (const line of playlist.split('\n')) {
    const t = line.trim();
    if (t === '') continue;
    if (t.startsWith('#')) for (const m of t.matchAll(/URI="([^"]*)"/g)) out.push(m[1] as string);
    else out.push(t);
  }
  return out;
}

describe('the edge at /kCache/', () => {
  test('refuses hosts not in --edge-origins without an upstream request', async ({
    appliance: a,
    upstream,
  }) => {
    const before = upstream.requests().length;
    for (const host of [
      'evil.example.com',
      '127.0.0.1',
      `127.0.0.1:${upstream.port + 1}`,
      `localhost:${upstream.port}`,
    ]) {
      const r = await fetch(edgeUrl(a, host, '/ts/index.m3u8'));
      expect(r.status, host).toBe(403);
      expect(await r.text()).toMatch(/not an allowed edge origin/);
    }
    // Dot segments are refused, not resolved (fetch would resolve them before sending).
    for (const p of ['/ts/../master.m3u8', '/ts/%2e%2e/master.m3u8', '/..'])
      expect((await rawRequest(a.origin, 'GET', `/kCache/${upstream.key}${p}`)).status, p).toBe(400);
    expect((await fetch(edgeUrl(a, upstream.key, '/ts/index.m3u8'), { method: 'POST' })).status).toBe(405);
    expect(upstream.requests().length).toBe(before);
  });

  test('answers what upstream answers, with its headers, byte ranges and CORS; absolute URIs come back through the edge', async ({
    appliance: a,
    upstream,
  }) => {
    const master = await fetch(edgeUrl(a, upstream.key, '/master.m3u8'));
    expect(master.status).toBe(200);
    expect(master.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
    expect(master.headers.get('access-control-allow-origin')).toBe('*');
    expect(await master.text()).toContain(`\n/kCache/${upstream.key}/ts/index.m3u8\n`);
    const media = await (await fetch(edgeUrl(a, upstream.key, '/fmp4/index.m3u8'))).text();
    // Relative URIs are untouched.
    expect(media).toContain('#EXT-X-MAP:URI="init.mp4"');
    const segment = listed(media).pop() as string;
    expect(segment).toMatch(/^index\d+\.m4s$/);
    const whole = await fetch(edgeUrl(a, upstream.key, `/fmp4/${segment}`));
    const body = Buffer.from(await whole.arrayBuffer());
    expect(whole.headers.get('content-type')).toBe('video/mp4');
    expect(Number(whole.headers.get('content-length'))).toBe(body.length);
    expect(whole.headers.get('etag')).toBeTruthy();
    expect(body.equals(fs.readFileSync(path.join(upstream.dir, 'www', 'fmp4', segment)))).toBe(true);
    const part = await fetch(edgeUrl(a, upstream.key, `/fmp4/${segment}`), {
      headers: { range: 'bytes=8-15' },
    });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 8-15/${body.length}`);
    expect(part.headers.get('x-cache')).toBe('HIT');
    expect(Buffer.from(await part.arrayBuffer()).equals(body.subarray(8, 16))).toBe(true);
    const head = await fetch(edgeUrl(a, upstream.key, `/fmp4/${segment}`), { method: 'HEAD' });
    expect(head.headers.get('content-length')).toBe(String(body.length));
    expect((await fetch(edgeUrl(a, upstream.key, '/no/such.ts'))).status).toBe(404);
    // One upstream request for the segment, however it was asked for.
    expect(upstream.requests().filter((r) => r.uri === `/fmp4/${segment}`)).toHaveLength(1);
  });

  test('30 viewers following the live playlists cost one upstream request per segment and about one playlist request a second', async ({
    appliance: a,
    upstream,
  }) => {
    const SECONDS = 10;
    const from = upstream.requests().length;
    const started = Date.now();
    const follow = async (variant: string, viewer: number) => {
      const seen = new Set<string>();
      await sleep((viewer * 97) % 1000);
      while (Date.now() - started < SECONDS * 1000) {
        const r = await fetch(edgeUrl(a, upstream.key, `/${variant}/index.m3u8`), {
          headers: { 'user-agent': `viewer-${viewer}` },
        });
        expect(r.status).toBe(200);
        const uris = listed(await r.text());
        const wanted = [...uris.filter((u) => !u.endsWith('.m4s') && !u.endsWith('.ts')), ...uris.slice(-3)];
        for (const u of wanted) {
          if (seen.has(u)) continue;
          seen.add(u);
          const s = await fetch(edgeUrl(a, upstream.key, `/${variant}/${u}`));
          expect(s.status, u).toBe(200);
          await s.arrayBuffer();
        }
        await sleep(800 + ((viewer * 131) % 400));
      }
    };
    await Promise.all(Array.from({ length: 30 }, (_v, i) => follow(i % 2 === 0 ? 'ts' : 'fmp4', i)));
    const elapsed = (Date.now() - started) / 1000;
    const all = upstream.requests();
    const window = all.slice(from);
    // Every object other than a playlist was fetched upstream once, ever.
    const objects = new Map<string, number>();
    for (const r of all) if (!r.uri.endsWith('.m3u8')) objects.set(r.uri, (objects.get(r.uri) ?? 0) + 1);
    const segmentsInWindow = window.filter((r) => /\.(ts|m4s)$/.test(r.uri));
    expect(segmentsInWindow.length).toBeGreaterThanOrEqual(6);
    for (const r of segmentsInWindow) expect(objects.get(r.uri), r.uri).toBe(1);
    // Playlists: fresh for half the 2 s target duration, so about one upstream request a second each.
    for (const variant of ['ts', 'fmp4']) {
      const n = window.filter((r) => r.uri === `/${variant}/index.m3u8`).length;
      expect(n, variant).toBeGreaterThan(0);
      expect(n, variant).toBeLessThanOrEqual(Math.ceil(elapsed) + 2);
    }
    const stats = (await (await a.api('GET', '/api/v1/edge')).json()) as {
      hosts: Array<{
        host: string;
        requests: number;
        hitRatio: number;
        wanSavingPercent: number;
        viewers: number;
      }>;
    };
    const h = stats.hosts.find((x) => x.host === upstream.key);
    expect(h?.hitRatio).toBeGreaterThan(0.8);
    expect(h?.wanSavingPercent).toBeGreaterThan(80);
    expect(h?.viewers).toBeGreaterThanOrEqual(1);
  });

  test('the dashboard Edge page follows the counters live', async ({ appliance: a, upstream, browser }) => {
    const d = await openDashboard(browser, 'about:blank');
    await d.page.addInitScript(
      `sessionStorage.setItem('ecdn.adminToken', ${JSON.stringify(a.token)}); sessionStorage.setItem('ecdn.wizardSkipped', '1');`,
    );
    await d.page.goto(`${a.admin}/#/edge`);
    const row = d.page.locator(`[data-testid="edge-host-row"][data-host="${upstream.key}"]`);
    const requests = async () => Number(await row.getByTestId('edge-host-requests').innerText());
    const before = await until(d, 'the origin host row', async () => (await row.count()) > 0 && requests());
    expect(await row.getByTestId('edge-host-saving').innerText()).toMatch(/^\d+\.\d %$/);
    for (let i = 0; i < 5; i++) await (await fetch(edgeUrl(a, upstream.key, '/master.m3u8'))).text();
    // Pushed by the appliance (edge.statistics events), no reload.
    await until(d, 'the request count to move', async () => (await requests()) >= before + 5, 10_000);
    fs.mkdirSync(path.join(ROOT, 'test-results', 'screenshots'), { recursive: true });
    await d.page.screenshot({ path: path.join(ROOT, 'test-results', 'screenshots', 'edge-1280x800.png') });
    await d.page.close();
  });

  test('hls.js plays through the edge and keeps playing from the cache through a 10 s upstream outage', async ({
    appliance: a,
    upstream,
    players,
    browser,
  }) => {
    // hls.js's defaults give up on a live playlist after two failed reloads (about 3 s); a player in front of an
    // edge retries for longer (the edge serves a stale playlist for 2 target durations, then 502).
    const player = await players.open(browser, edgeUrl(a, upstream.key, '/master.m3u8'), {
      playlistLoadPolicy: {
        default: {
          maxTimeToFirstByteMs: 10_000,
          maxLoadTimeMs: 20_000,
          timeoutRetry: { maxNumRetry: 2, retryDelayMs: 0, maxRetryDelayMs: 0 },
          errorRetry: { maxNumRetry: 10, retryDelayMs: 1000, maxRetryDelayMs: 2000 },
        },
      },
    });
    const playing = await player.until('playback', (s) => !s.paused && s.currentTime > 0, 30_000);
    await player.until('2 s of playback', (s) => s.currentTime - playing.currentTime >= 2, 20_000);
    const requestsBefore = upstream.requests().length;
    await upstream.stopNginx();
    const down = await player.state();
    // Upstream down: what is cached keeps playing (no fatal error in the meantime: until() fails on one).
    const during = await player.until(
      'playback from the cache',
      (s) => s.currentTime - down.currentTime >= 2,
      8_000,
    );
    await sleep(Math.max(0, 10_000 - 2_000));
    const failed = await fetch(edgeUrl(a, upstream.key, '/ts/index.m3u8'));
    expect([502, 504]).toContain(failed.status);
    await upstream.startNginx();
    const back = await player.state();
    expect(back.errors.filter((e) => e.fatal)).toEqual([]);
    await player.until(
      'playback after upstream is back',
      (s) => s.currentTime - back.currentTime >= 4,
      30_000,
    );
    expect(during.currentTime).toBeGreaterThan(down.currentTime);
    expect(upstream.requests().length).toBeGreaterThan(requestsBefore);
    await player.page.close();
  });

  test('keeps its disk cache within --edge-cache-size', async ({ appliance: a, upstream }) => {
    const bound = Math.floor(CACHE_GB * 1024 ** 3);
    const onDisk = () => {
      const dir = path.join(a.dataDir, 'edge-cache');
      // A file evicted between the listing and its stat counts for nothing.
      return fs
        .readdirSync(dir)
        .reduce((n, f) => n + (fs.statSync(path.join(dir, f), { throwIfNoEntry: false })?.size ?? 0), 0);
    };
    for (let i = 0; i < 6; i++) {
      const r = await fetch(edgeUrl(a, upstream.key, `/static/blob-${i}.bin`));
      expect(r.status).toBe(200);
      expect((await r.arrayBuffer()).byteLength).toBe(600_000);
      expect(onDisk()).toBeLessThanOrEqual(bound);
    }
    await sleep(200);
    expect(onDisk()).toBeLessThanOrEqual(bound);
    const edge = (await (await a.api('GET', '/api/v1/edge')).json()) as {
      cache: { bytes: number; maxBytes: number; objects: number };
    };
    expect(edge.cache.maxBytes).toBe(bound);
    expect(edge.cache.bytes).toBeLessThanOrEqual(bound);
    // 3.6 MB went through a 2.1 MB cache: the least recently used went out.
    expect(edge.cache.bytes).toBeGreaterThan(bound / 2);
    expect(upstream.requests().filter((r) => r.uri.startsWith('/static/'))).toHaveLength(6);
  });

  test('tiers: a second appliance pulls through the first, the upstream still sees one request per object', async ({
    appliance: parent,
    upstream,
    startOtherAppliance,
    serviceUrl,
  }) => {
    const parentNode = await waitFor('the parent edge node at Kaltura', async () =>
      kaltura.node(PARENT_EDGE, 'edge'),
    );
    const child = await startOtherAppliance({
      extraArgs: [
        '--edge-origins',
        `http://127.0.0.1:${parent.httpPort}`,
        ...ecdnArgs(serviceUrl, 'media-b.test.example', CHILD_EDGE),
        '--edge-parent-id',
        String(parentNode.id),
      ],
      env: { ECDN_PARTNER_SECRET: SECRET },
    });
    // Kaltura's tiered URL: <child>/kCache/<parent>/kCache/<origin-host>/<path> (EdgeServerNode::buildEdgeFullPath).
    const viaBoth = (p: string) =>
      `${child.origin}/kCache/127.0.0.1:${parent.httpPort}/kCache/${upstream.key}${p}`;
    const master = await (await fetch(viaBoth('/master.m3u8'))).text();
    // The parent made the absolute URI edge-relative; the child keeps it on the child, through the parent.
    const variant = listed(master)[0] as string;
    expect(variant).toBe(`/kCache/127.0.0.1:${parent.httpPort}/kCache/${upstream.key}/ts/index.m3u8`);
    const media = await waitFor('a playlist with a new segment', async () => {
      const r = await fetch(child.origin + variant);
      return r.status === 200 && (await r.text());
    });
    const segment = listed(media).pop() as string;
    const fromChild = Buffer.from(await (await fetch(viaBoth(`/ts/${segment}`))).arrayBuffer());
    const fromParent = Buffer.from(
      await (await fetch(edgeUrl(parent, upstream.key, `/ts/${segment}`))).arrayBuffer(),
    );
    expect(fromChild.length).toBeGreaterThan(0);
    expect(fromChild.equals(fromParent)).toBe(true);
    await Promise.all(
      Array.from({ length: 10 }, () => fetch(viaBoth(`/ts/${segment}`)).then((r) => r.arrayBuffer())),
    );
    expect(upstream.requests().filter((r) => r.uri === `/ts/${segment}`)).toHaveLength(1);

    // Both edge server nodes at Kaltura: the child under the parent, each with its playback domain.
    await waitFor('the child edge node', async () => kaltura.node(CHILD_EDGE, 'edge'));
    expect(kaltura.node(PARENT_EDGE, 'edge')).toMatchObject({
      fields: { playbackDomain: `127.0.0.1:${parent.httpPort}` },
    });
    expect(kaltura.node(CHILD_EDGE, 'edge')).toMatchObject({
      fields: { playbackDomain: `127.0.0.1:${child.httpPort}`, parentId: String(parentNode.id) },
    });
    expect(kaltura.edgeServes(CHILD_EDGE)).toBe(true);
    const view = edgeViewSchema.parse(await (await child.api('GET', '/api/v1/edge')).json());
    expect(view.node).toMatchObject({ state: 'active', id: kaltura.node(CHILD_EDGE, 'edge')?.id });
    const metrics = await (await parent.api('GET', '/metrics')).text();
    expect(metrics).toMatch(
      new RegExp(`ecdn_edge_requests\\{origin="${upstream.key.replace(/\./g, '\\.')}"\\} \\d+`),
    );
    expect(metrics).toMatch(/ecdn_edge_wan_saving_percent\{origin="127\.0\.0\.1:\d+"\} \d/);
  });
});
