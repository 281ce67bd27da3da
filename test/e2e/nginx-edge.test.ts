/**
 * A caching edge in front of the origin (Debian's nginx with resources/nginx/ecdn-edge.conf, as the README
 * documents it): many viewers, one origin fetch per fragment; live playlists refresh; signed URLs still hold.
 */
import { waitFor, type ChannelJson, type RunningAppliance } from '../helpers/appliance.js';
import { test as base, describe, expect } from '../helpers/fixtures.js';
import { renderEdgeConfig, startNginx } from '../helpers/nginx.js';

/** Runs nginx with the shipped edge configuration, pointed at this appliance, on a free port, in a temp prefix. */
function startEdge(originPort: number) {
  return startNginx({ name: 'edge', http: (port, dir) => renderEdgeConfig(originPort, port, dir) });
}

/** `edge`: nginx in front of the appliance's origin; `viaEdge` turns an origin URL into the same URL on the edge. */
const test = base.extend('edge', { scope: 'file' }, async ({ appliance: a }, { onCleanup }) => {
  const e = await startEdge(a.httpPort);
  onCleanup(() => e.stop());
  return {
    url: e.url,
    viaEdge: (originUrl: string) => originUrl.replace(`http://127.0.0.1:${a.httpPort}`, e.url),
  };
});
test.override('liveChannelName', 'edge');
// How long fragments are is not the point here, and players start sooner on 1 s fragments (1 s GOPs).
test.override('applianceOptions', { extraArgs: ['--fragment-duration', '1'] });
test.override('encoderOptions', { seconds: 60, gop: 30 });

test.beforeAll(async ({ liveChannel: c, encoder: _encoder }) => {
  await waitFor('live', async () => (await fetch(c.playback.hls, { method: 'HEAD' })).status === 200, 40_000);
});

async function originFragmentRequests(a: RunningAppliance, c: ChannelJson): Promise<number> {
  const v = (await (await a.api('GET', `/api/v1/channels/${c.entryId}/viewers`)).json()) as {
    requestsByRendition: Record<string, number>;
  };
  return v.requestsByRendition.video_source ?? 0;
}

describe('an nginx caching edge in front of the origin', () => {
  test('fetches each fragment from the origin once however many viewers ask', async ({
    appliance: a,
    liveChannel: c,
    edge: { viaEdge },
  }) => {
    const base = viaEdge(c.playback.hls).replace(/\/\.m3u8$/, '/');
    const playlist = await waitFor(
      '2 fragments',
      async () => {
        const p = await (await fetch(`${base}tracks/video_source.m3u8`)).text();
        return (p.match(/#EXTINF/g) ?? []).length >= 2 && p;
      },
      30_000,
    );
    const fragments = playlist
      .split('\n')
      .filter((l) => l.endsWith('.m4s'))
      .slice(-2);
    expect(fragments).toHaveLength(2);
    const before = await originFragmentRequests(a, c);
    // 20 viewers at once, each fetching both fragments.
    const statuses: Array<string | null> = [];
    await Promise.all(
      Array.from({ length: 20 }, async (_v, i) => {
        for (const f of fragments) {
          const r = await fetch(`${base}tracks/${f}`, { headers: { 'user-agent': `viewer-${i}` } });
          await r.arrayBuffer();
          expect(r.status).toBe(200);
          statuses.push(r.headers.get('x-cache-status'));
        }
      }),
    );
    expect((await originFragmentRequests(a, c)) - before).toBe(2);
    expect(statuses.filter((s) => s === 'HIT').length).toBeGreaterThanOrEqual(30);
  });

  test('refreshes live playlists', async ({ liveChannel: c, edge: { viaEdge } }) => {
    const url = viaEdge(c.playback.hls).replace(/\/\.m3u8$/, '/tracks/video_source.m3u8');
    const first = await (await fetch(url)).text();
    await waitFor(
      'a newer playlist through the cache',
      async () => (await (await fetch(url)).text()) !== first,
      10_000,
      500,
    );
  });

  test('plays through the edge in hls.js', async ({
    liveChannel: c,
    edge: { viaEdge },
    players,
    browser,
  }) => {
    const player = await players.open(browser, viaEdge(c.playback.hls));
    const first = await player.until('playback', (s) => !s.paused && s.currentTime > 0, 30_000);
    await player.until('3 s of playback', (s) => s.currentTime - first.currentTime >= 3, 20_000);
    // Done: the player stops fetching (the browser stays for the file).
    await player.page.close();
  });

  test('keeps a secure channel secure: signed URLs play through the cache, nothing else does', async ({
    appliance: a,
    liveChannel: c,
    edge: { viaEdge },
  }) => {
    const mediaUrl = (p: string) => `${c.playback.hls.replace(/\/\.m3u8$/, '/')}tracks/video_source.m3u8${p}`;
    const listed = async (url: string) =>
      (await (await fetch(url)).text()).split('\n').filter((l) => l.includes('.m4s'));
    const openFragments = await listed(mediaUrl(''));
    await a.api('PATCH', `/api/v1/channels/${c.entryId}`, { access: 'secure' });
    // What the edge cached while the channel was open stays until it expires (playlists: about a second);
    // fragments made from now on exist only behind signatures. Wait for both: the open master gone from the
    // edge, and a fragment newer than any listed while open (which a player may have fetched unsigned).
    const look = (await (await a.api('POST', `/api/v1/channels/${c.entryId}/signed-url`, {})).json()) as {
      url: string;
    };
    const query = new URL(look.url).search;
    await waitFor(
      'the open copies to expire, and a fragment made since',
      async () => {
        const newest = (await listed(mediaUrl(query))).pop()?.split('?')[0];
        return (
          (await fetch(viaEdge(c.playback.hls))).status !== 200 &&
          newest !== undefined &&
          !openFragments.includes(newest)
        );
      },
      10_000,
      100,
    );
    expect((await fetch(viaEdge(c.playback.hls))).status).toBe(403);
    const s = (await (await a.api('POST', `/api/v1/channels/${c.entryId}/signed-url`, {})).json()) as {
      url: string;
    };
    const signed = viaEdge(s.url);
    const master = await fetch(signed);
    expect(master.status).toBe(200);
    const child = (await master.text()).split('\n').find((l) => l.startsWith('tracks/')) as string;
    const base = signed.slice(0, signed.indexOf('.isml/') + '.isml/'.length);
    expect((await fetch(base + child)).status).toBe(200);
    // A cached fragment is still refused without the signature, and a tampered one is refused too.
    const media = await (await fetch(base + child)).text();
    const fragment = media
      .split('\n')
      .filter((l) => l.endsWith('.m4s') || l.includes('.m4s?'))
      .pop() as string;
    expect((await fetch(`${base}tracks/${fragment}`)).status).toBe(200);
    expect((await fetch(`${base}tracks/${fragment.split('?')[0]}`)).status).toBe(403);
    const tampered = new URL(signed);
    tampered.searchParams.set('exp', String(Number(tampered.searchParams.get('exp')) + 60));
    expect((await fetch(tampered.toString())).status).toBe(403);
  });
});
