import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signQuery } from '../../main/access/signed-url.js';
import type { SigningKey } from '../../main/access/signing-keys.js';
import type { ChannelRecord } from '../../main/channels/channel-store.js';
import { parseAllowList } from '../../main/lib/ip-allow-list.js';
import type { SpaceItem, SpaceRecord } from '../../main/spaces/space-store.js';
import {
  channelLister,
  escapeHtml,
  PORTAL_CSP,
  registerPortal,
  signatureVerifier,
  spaceLister,
  type PortalChannel,
  type PortalSpace,
} from '../../main/portal/portal.js';

const key: SigningKey = {
  id: 'k1k1k1k1',
  secret: crypto.randomBytes(32).toString('base64url'),
  createdAt: 0,
};
const keys = { find: (id: string) => (id === key.id ? key : undefined) };
const EVIL = '<script>alert("x")</script> & \'co\'';

const ch = (entryId: string, name: string, state: string, access: 'open' | 'secure'): PortalChannel => ({
  entryId,
  name,
  state,
  access,
  path: `/${entryId}/${entryId}.isml`,
});

const channels: PortalChannel[] = [
  ch('0_idle', 'Idle open', 'idle', 'open'),
  ch('0_live', 'Live open', 'started', 'open'),
  ch('0_secret', 'Secret board meeting', 'started', 'secure'),
  ch('0_evil', EVIL, 'starting', 'open'),
  ch('0_other', 'Other secure', 'started', 'secure'),
];

const spaces: PortalSpace[] = [
  {
    id: 'lectures',
    name: `Lectures ${EVIL}`,
    access: 'open',
    streaming: true,
    items: [
      {
        name: 'Intro',
        kind: 'video',
        hls: '/spaces/lectures/intro.mp4/.m3u8',
        progressive: '/spaces/lectures/intro.mp4',
      },
      { name: `Talk ${EVIL}`, kind: 'audio', hls: '', progressive: '/spaces/lectures/talk.mp3' },
    ],
  },
  { id: 'drafts', name: 'Drafts not streamed', access: 'open', streaming: false, items: [] },
  {
    id: 'vault',
    name: 'Vault secure',
    access: 'secure',
    streaming: true,
    items: [
      { name: 'Board', kind: 'video', hls: '/spaces/vault/b.mp4/.m3u8', progressive: '/spaces/vault/b.mp4' },
    ],
  },
];

let app: FastifyInstance;

beforeAll(async () => {
  app = Fastify();
  // As on the origin listener: everything else goes to the publishing point handler.
  app.get('/*', async (_req, reply) => reply.code(404).type('text/plain').send('origin wildcard\n'));
  registerPortal(app, {
    listChannels: () => channels,
    listSpaces: () => spaces,
    verify: signatureVerifier(keys, parseAllowList('')),
  });
  await app.ready();
});
afterAll(async () => {
  await app.close();
});

const get = (url: string, headers: Record<string, string> = {}) =>
  app.inject({ method: 'GET', url, headers });
const sign = (scope: string, expiresAt = Math.floor(Date.now() / 1000) + 3600) =>
  signQuery(key, { scope, expiresAt });

/** A `<script>` element that isn't `<script src=...>`: would need 'unsafe-inline'. */
const INLINE_SCRIPT = /<script(?![^>]*\ssrc=)[^>]*>/i;
/** Inline styles would need 'unsafe-inline' too. */
const INLINE_STYLE = /<style|\sstyle=/i;

function expectPage(
  r: { statusCode: number; headers: Record<string, unknown>; body: string },
  status: number,
) {
  expect(r.statusCode, r.body).toBe(status);
  expect(r.headers['content-type']).toMatch(/^text\/html; charset=utf-8/);
  expect(r.headers['content-security-policy']).toBe(PORTAL_CSP);
  expect(r.headers['cache-control']).toBe('no-store');
  expect(r.body).not.toMatch(INLINE_SCRIPT);
  expect(r.body).not.toMatch(INLINE_STYLE);
  expect(r.body).not.toMatch(/at .*\.ts:\d+|node_modules/);
}

describe('the portal page', () => {
  it('lists open channels, live first, then the others as not live; secure ones never', async () => {
    const r = await get('/');
    expectPage(r, 200);
    const live = r.body.indexOf('Live now');
    const notLive = r.body.indexOf('id="idle-heading"');
    expect(live).toBeGreaterThan(-1);
    expect(notLive).toBeGreaterThan(live);
    const at = (entry: string) => r.body.indexOf(`href="/watch/${entry}"`);
    expect(at('0_live')).toBeGreaterThan(live);
    expect(at('0_live')).toBeLessThan(notLive);
    expect(at('0_evil')).toBeLessThan(notLive); // starting counts as live
    expect(at('0_idle')).toBeGreaterThan(notLive);
    expect(r.body).not.toContain('0_secret');
    expect(r.body).not.toContain('Secret board meeting');
    expect(r.body).not.toContain('Other secure');
  });

  it('lists open spaces with streaming on, and no others', async () => {
    const r = await get('/');
    expect(r.body).toContain('href="/spaces/lectures"');
    expect(r.body).toContain('2 items');
    expect(r.body).not.toContain('drafts');
    expect(r.body).not.toContain('Drafts not streamed');
    expect(r.body).not.toContain('vault');
    expect(r.body).not.toContain('Vault secure');
  });

  it('escapes every name it prints', async () => {
    const escaped = escapeHtml(EVIL);
    expect(escaped).toBe('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;');
    for (const url of ['/', '/watch/0_evil', '/embed/0_evil', '/spaces/lectures', '/embed/spaces/lectures']) {
      const r = await get(url);
      expectPage(r, 200);
      expect(r.body, url).not.toContain('<script>alert');
      expect(r.body, url).not.toContain('"x")');
      expect(r.body, url).toContain(escaped);
    }
  });

  it('shows an empty state when nothing is open', async () => {
    const bare = Fastify();
    registerPortal(bare, {
      listChannels: () => [],
      listSpaces: () => [],
      verify: () => ({ ok: false, reason: 'no' }),
    });
    const r = await bare.inject({ method: 'GET', url: '/' });
    expectPage(r, 200);
    expect(r.body).toContain('Nothing is live right now.');
    expect(r.body).not.toContain('id="idle-heading"');
    await bare.close();
  });
});

describe('a channel player page', () => {
  it('plays the master playlist with hls.js, from the appliance', async () => {
    const r = await get('/watch/0_live', { host: 'ecdn.example:8080' });
    expectPage(r, 200);
    expect(r.body).toMatch(/<video [^>]*\bcontrols\b[^>]*data-src="\/0_live\/0_live\.isml\/\.m3u8"/);
    expect(r.body).toMatch(/<script src="\/player\/hls\.js\?v=[\w-]+" defer><\/script>/);
    expect(r.body).toMatch(/<script src="\/player\/portal\.js\?v=[\w-]+" defer><\/script>/);
    expect(r.body).toMatch(/<link rel="stylesheet" href="\/player\/portal\.css\?v=[\w-]+">/);
    expect(r.body).toContain('<meta name="viewport"');
  });

  it('offers copyable snippets: an iframe of the embed, and a video element with hls.js', async () => {
    const r = await get('/watch/0_live', { host: 'ecdn.example:8080' });
    expect(r.body).toContain(
      '&lt;iframe src=&quot;http://ecdn.example:8080/embed/0_live&quot; width=&quot;640&quot; height=&quot;360&quot;',
    );
    expect(r.body).toContain(
      '&lt;script src=&quot;http://ecdn.example:8080/player/hls.js&quot;&gt;&lt;/script&gt;',
    );
    expect(r.body).toContain('var src = &quot;http://ecdn.example:8080/0_live/0_live.isml/.m3u8&quot;;');
    expect(r.body).toMatch(/<button type="button" class="button" data-copy="snippet-iframe">Copy<\/button>/);
    expect(r.body).toMatch(/<label for="snippet-video">/);
    // A name with quotes lands escaped in the snippet's title, then escaped again for the textarea.
    const evil = await get('/watch/0_evil');
    expect(evil.body).toContain(`title=&quot;${escapeHtml(escapeHtml(EVIL))}&quot;`);
  });

  it('a poster, a big play button, a LIVE pill and a quality menu; "Share and embed" collapsed behind a button', async () => {
    const r = await get('/watch/0_live');
    expectPage(r, 200);
    // The live thumbnail is the poster.
    expect(r.body).toMatch(/<video [^>]*poster="\/0_live\/0_live\.isml\/thumbnail\.jpg"/);
    expect(r.body).toMatch(/<button type="button" class="bigplay" data-bigplay aria-label="Play Live open">/);
    expect(r.body).toMatch(
      /<button type="button" class="live-pill" data-live-pill [^>]*hidden>LIVE<\/button>/,
    );
    expect(r.body).toMatch(
      /<select data-quality aria-label="Quality"><option value="-1">Auto<\/option><\/select>/,
    );
    expect(r.body).toContain(
      '<button type="button" class="button button-quiet" aria-expanded="false" aria-controls="share-panel" data-share-toggle>Share and embed</button>',
    );
    expect(r.body).toMatch(
      /<div id="share-panel" class="share-panel" data-share-panel hidden>\s*<div class="snippet">/,
    );
    // A secure channel's poster carries the page's signature; the embed has the same player controls.
    const q = sign('/0_secret/0_secret.isml/');
    const secure = await get(`/embed/0_secret?${q}`);
    expect(secure.body).toContain(`poster="${escapeHtml(`/0_secret/0_secret.isml/thumbnail.jpg?${q}`)}"`);
    expect(secure.body).toContain('data-bigplay');
    expect(secure.body).toContain('data-live-pill');
  });

  it('an unusable Host header gives relative snippets, never markup', async () => {
    const r = await get('/watch/0_live', { host: 'x"><b>' });
    expectPage(r, 200);
    expect(r.body).not.toContain('<b>');
    expect(r.body).toContain('src=&quot;/embed/0_live&quot;');
  });

  it('passes the playout parameters on to the master playlist', async () => {
    const r = await get('/watch/0_live?dvr_window_length=30&other=1');
    expect(r.body).toContain('data-src="/0_live/0_live.isml/.m3u8?dvr_window_length=30"');
  });

  it('the embed is a bare player, framable, that waits for play unless ?autoplay=1', async () => {
    const r = await get('/embed/0_live');
    expectPage(r, 200);
    expect(r.headers['content-security-policy']).toContain('frame-ancestors *');
    expect(r.headers['x-frame-options']).toBeUndefined();
    expect(r.body).toContain('<body class="bare">');
    expect(r.body).not.toContain('class="site"');
    expect(r.body).toContain('data-autoplay="0"');
    expect((await get('/embed/0_live?autoplay=1')).body).toContain('data-autoplay="1"');
  });
});

describe('secure channels', () => {
  it('refuse their page without a signature: 403 with the reason, no stack', async () => {
    for (const url of ['/watch/0_secret', '/embed/0_secret']) {
      const r = await get(url);
      expectPage(r, 403);
      expect(r.body).toContain('the URL is not signed');
      expect(r.body).not.toContain('Secret board meeting');
      expect(r.body).not.toContain('.m3u8');
    }
  });

  it('open with the signature in the query, and play the master with it', async () => {
    const q = sign('/0_secret/0_secret.isml/');
    for (const url of [`/watch/0_secret?${q}`, `/embed/0_secret?${q}`]) {
      const r = await get(url);
      expectPage(r, 200);
      expect(r.body).toContain('Secret board meeting');
      expect(r.body).toContain(`data-src="${escapeHtml(`/0_secret/0_secret.isml/.m3u8?${q}`)}"`);
    }
    const watch = await get(`/watch/0_secret?${q}`);
    // The snippets carry the signature, and say when it stops working.
    expect(watch.body).toContain(escapeHtml(escapeHtml(`/embed/0_secret?${q}`)));
    expect(watch.body).toMatch(/stop working at <time datetime="[\dT:.-]+Z" data-local>/);
  });

  it("refuse expired, tampered and another channel's signatures", async () => {
    const expired = await get(`/watch/0_secret?${sign('/0_secret/0_secret.isml/', 1000)}`);
    expectPage(expired, 403);
    expect(expired.body).toContain('the URL expired at');
    const good = new URLSearchParams(sign('/0_secret/0_secret.isml/'));
    const sig = good.get('sig') as string;
    good.set('sig', (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1));
    const tampered = await get(`/watch/0_secret?${good.toString()}`);
    expectPage(tampered, 403);
    expect(tampered.body).toContain('the signature does not match');
    const other = await get(`/watch/0_secret?${sign('/0_other/0_other.isml/')}`);
    expectPage(other, 403);
    expect(other.body).toContain('the URL is signed for /0_other/0_other.isml/ only');
    const repeated = await get(`/watch/0_secret?${sign('/0_secret/0_secret.isml/')}&kid=k1k1k1k1`);
    expectPage(repeated, 403);
    expect(repeated.body).toContain('is repeated');
  });

  it('a verifier that throws is a denial, not a crash', async () => {
    const throwing = Fastify();
    registerPortal(throwing, {
      listChannels: () => channels,
      listSpaces: () => spaces,
      verify: () => {
        throw new Error('boom at secret.ts:1');
      },
    });
    const r = await throwing.inject({ method: 'GET', url: '/watch/0_secret' });
    expectPage(r, 403);
    expect(r.body).not.toContain('boom');
    await throwing.close();
  });
});

describe('a space: the playlist player', () => {
  it('lists the items; video items play HLS, audio items their progressive file', async () => {
    const r = await get('/spaces/lectures');
    expectPage(r, 200);
    expect(r.body).toContain('data-playlist');
    expect(r.body).toContain(
      '<a class="item" href="/spaces/lectures/intro.mp4" data-item data-kind="video" data-hls="/spaces/lectures/intro.mp4/.m3u8" data-progressive="/spaces/lectures/intro.mp4">',
    );
    expect(r.body).toContain('data-kind="audio" data-hls="" data-progressive="/spaces/lectures/talk.mp3"');
    expect(r.body).toMatch(/<video id="space-video"[^>]*controls/);
    expect(r.body).toMatch(/<audio id="space-audio"[^>]*controls[^>]*hidden/);
    expect(r.body).toContain('&lt;iframe src=&quot;http://localhost:80/embed/spaces/lectures&quot;');
    expectPage(await get('/embed/spaces/lectures'), 200);
  });

  it('a secure space needs a signature that opens its items, and carries it into them', async () => {
    const denied = await get('/spaces/vault');
    expectPage(denied, 403);
    expect(denied.body).not.toContain('Vault secure');
    expectPage(await get(`/spaces/vault?${sign('/spaces/lectures/')}`), 403);
    const q = sign('/spaces/vault/');
    const r = await get(`/spaces/vault?${q}`);
    expectPage(r, 200);
    expect(r.body).toContain(`data-hls="${escapeHtml(`/spaces/vault/b.mp4/.m3u8?${q}`)}"`);
    expect(r.body).toContain(`data-progressive="${escapeHtml(`/spaces/vault/b.mp4?${q}`)}"`);
  });
});

describe('404s', () => {
  it('answer an HTML page for unknown channels and spaces, and unstreamed spaces', async () => {
    for (const url of [
      '/watch/0_nope',
      '/embed/0_nope',
      '/spaces/nope',
      '/embed/spaces/nope',
      '/spaces/drafts',
    ]) {
      const r = await get(url);
      expectPage(r, 404);
      expect(r.body).toContain('Not found');
      expect(r.body).not.toContain('Drafts not streamed');
    }
  });

  it('leave publishing point URLs below the same prefixes to the origin', async () => {
    for (const url of ['/watch/watch.isml/.m3u8', '/spaces/x/y.isml/.m3u8', '/player/nope.js']) {
      const r = await get(url);
      expect(r.body, url).toBe('origin wildcard\n');
    }
  });
});

describe('static files', () => {
  it('serves hls.js from node_modules, cacheable for long, with an ETag', async () => {
    const file = createRequire(import.meta.url).resolve('hls.js/dist/hls.min.js');
    const page = await get('/watch/0_live');
    const v = /\/player\/hls\.js\?v=([\w-]+)/.exec(page.body)?.[1] as string;
    const r = await get(`/player/hls.js?v=${v}`);
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(r.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(r.rawPayload.equals(fs.readFileSync(file))).toBe(true);
    const plain = await get('/player/hls.js');
    expect(plain.headers['cache-control']).toBe('public, max-age=86400');
    const etag = plain.headers.etag as string;
    expect((await get('/player/hls.js', { 'if-none-match': etag })).statusCode).toBe(304);
  });

  it('serves its own script and stylesheet', async () => {
    const js = await get('/player/portal.js');
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.body).toContain('data-player');
    const css = await get('/player/portal.css');
    expect(css.statusCode).toBe(200);
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(css.headers['x-content-type-options']).toBe('nosniff');
  });
});

describe('wiring helpers', () => {
  it('channelLister: names, access, publishing point state and path from the store and the index', () => {
    const rec = (entryId: string, access: 'open' | 'secure'): ChannelRecord => ({
      entryId,
      partnerId: 1,
      name: `N ${entryId}`,
      token: 't',
      createdAt: 0,
      accepting: true,
      access,
      signedGeneration: 0,
      srtLatencyMs: 200,
    });
    const list = channelLister(
      { list: () => [rec('0_a', 'open'), rec('0_b', 'secure')] },
      { getPublishingPoint: (n: string) => (n === '0_a' ? { state: 'started' as const } : undefined) },
    );
    expect(list()).toEqual([
      { entryId: '0_a', name: 'N 0_a', state: 'started', access: 'open', path: '/0_a/0_a.isml' },
      { entryId: '0_b', name: 'N 0_b', state: 'idle', access: 'secure', path: '/0_b/0_b.isml' },
    ]);
  });

  it('spaceLister: items at /media/<space>/<item> and its index.m3u8', () => {
    const space: SpaceRecord = { id: 's_1', name: 'S', access: 'secure', streaming: true, createdAt: 0 };
    const item: SpaceItem = {
      spaceId: 's_1',
      name: 'a b.mp3',
      kind: 'audio',
      format: 'mp3',
      size: 1,
      duration: 1,
      createdAt: 0,
    };
    const list = spaceLister({ list: () => [space], items: () => [item] });
    expect(list()).toEqual([
      {
        id: 's_1',
        name: 'S',
        access: 'secure',
        streaming: true,
        items: [
          {
            name: 'a b.mp3',
            kind: 'audio',
            hls: '/media/s_1/a%20b.mp3/index.m3u8',
            progressive: '/media/s_1/a%20b.mp3',
          },
        ],
      },
    ]);
  });
});
