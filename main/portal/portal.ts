/**
 * The viewer portal on the origin listener (DuraCloud's "single player" and "playlist player" examples, for
 * HLS): `/` lists the OPEN channels (live ones first) and the open spaces with streaming on; `/watch/<entryId>`
 * plays a channel with hls.js (poster, big play button, a LIVE pill that jumps to the live edge, a quality menu)
 * and offers embed snippets behind a "Share and embed" button; `/embed/<entryId>` is the bare player for iframes;
 * `/spaces/<id>` (and `/embed/spaces/<id>`) plays a space's items one after another. Secure channels and spaces
 * are never listed; their pages open only with the signature parameters of a signed URL in their own query,
 * which the page then carries into the player's URLs.
 *
 * Pages hold no inline script or style, so they work under a strict Content-Security-Policy; the player code
 * (`/player/portal.js`, `/player/portal.css`, under `resources/portal/`) and hls.js (`/player/hls.js`, from
 * node_modules) are served by the appliance itself: no internet needed.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { clientAddress, verifyRequest } from '../access/signed-url.js';
import type { SigningKey } from '../access/signing-keys.js';
import type { ChannelRecord } from '../channels/channel-store.js';
import type { AllowList } from '../lib/ip-allow-list.js';
import type { PublishingPointRecord } from '../origin/segment-index.js';
import type { SpaceItem, SpaceRecord } from '../spaces/space-store.js';

export interface PortalChannel {
  entryId: string;
  name: string;
  /** idle | starting | started | stopping | stopped */
  state: string;
  access: 'open' | 'secure';
  /** The publishing point's URL path: '/<entry>/<entry>.isml'. */
  path: string;
}

export interface PortalSpaceItem {
  name: string;
  kind: 'video' | 'audio';
  /** Origin-relative URL of the item's HLS master playlist. */
  hls: string;
  /** Origin-relative URL of the MP4/MP3. */
  progressive: string;
}

export interface PortalSpace {
  id: string;
  name: string;
  access: 'open' | 'secure';
  streaming: boolean;
  items: PortalSpaceItem[];
}

export type PortalVerdict = { ok: true; suffix: string } | { ok: false; reason: string };

export interface PortalDeps {
  listChannels(): PortalChannel[];
  listSpaces(): PortalSpace[];
  /** For secure channels/spaces: checks the signature params in `query` for `path` (verifyRequest + clientAddress). */
  verify(
    path: string,
    query: Record<string, string | string[] | undefined>,
    req: FastifyRequest,
  ): PortalVerdict;
}

/** Sent with every portal page: no inline script or style; media from the appliance or MSE blobs; framable. */
export const PORTAL_CSP =
  "default-src 'self'; media-src 'self' blob:; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors *";

/** Playout control parameters a watch page passes on to the master playlist (see the origin's PLAYOUT_PARAMS). */
const PLAYOUT_PARAMS = ['dvr_window_length', 'time_shift', 'vbegin', 'vend'] as const;
const LIVE_STATES = new Set(['starting', 'started']);
const IMMUTABLE = 'public, max-age=31536000, immutable';
const A_DAY = 'public, max-age=86400';

// ---------------------------------------------------------------------------------------------------------
// Wiring helpers: what the appliance passes in.

/**
 * `PortalDeps.verify` from the origin's signing keys and trusted proxies: verifyRequest for the viewer's address,
 * at the signature generation of the publishing point the path starts with (`/<entry>/<entry>.isml/`).
 */
export function signatureVerifier(
  keys: { find(id: string): SigningKey | undefined },
  trustedProxies: AllowList,
  signedGeneration: (pp: string) => number = () => 0,
): PortalDeps['verify'] {
  return (path, query, req) => {
    const viewer = clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for'], trustedProxies);
    const pp = path.split('/')[1] ?? '';
    const v = verifyRequest(keys, path, query, viewer, undefined, signedGeneration(pp));
    return v.ok ? { ok: true, suffix: v.suffix } : { ok: false, reason: v.reason };
  };
}

/** `PortalDeps.listChannels` from the channel store and the segment index (the state of each publishing point). */
export function channelLister(
  channels: { list(): ChannelRecord[] },
  index: { getPublishingPoint(name: string): Pick<PublishingPointRecord, 'state'> | undefined },
): PortalDeps['listChannels'] {
  return () =>
    channels.list().map((c) => ({
      entryId: c.entryId,
      name: c.name,
      state: index.getPublishingPoint(c.entryId)?.state ?? 'idle',
      access: c.access,
      path: `/${c.entryId}/${c.entryId}.isml`,
    }));
}

/**
 * `PortalDeps.listSpaces` from the space store: items as the origin serves them (`/media/<space>/<item>` and
 * `/media/<space>/<item>/index.m3u8`, see main/spaces/space-routes.ts).
 */
export function spaceLister(spaces: {
  list(): SpaceRecord[];
  items(spaceId: string): SpaceItem[];
}): PortalDeps['listSpaces'] {
  return () =>
    spaces.list().map((s) => ({
      id: s.id,
      name: s.name,
      access: s.access,
      streaming: s.streaming,
      items: spaces.items(s.id).map((i) => {
        const progressive = `/media/${encodeURIComponent(s.id)}/${encodeURIComponent(i.name)}`;
        return { name: i.name, kind: i.kind, hls: `${progressive}/index.m3u8`, progressive };
      }),
    }));
}

// ---------------------------------------------------------------------------------------------------------
// Static files: read once, served with a content hash as their version.

interface Asset {
  body: Buffer;
  type: string;
  /** Short content hash: the `?v=` of the URLs the pages use, and the ETag. */
  hash: string;
}

function asset(body: Buffer, type: string): Asset {
  return { body, type, hash: crypto.createHash('sha256').update(body).digest('base64url').slice(0, 12) };
}

/** `resources/portal/` from the sources (`main/portal/`) and from the compiled module (`dist/main/portal/`). */
const RESOURCE_DIRS = [
  new URL('../../resources/portal/', import.meta.url),
  new URL('../../../resources/portal/', import.meta.url),
];

function readResource(name: string): Buffer {
  for (const dir of RESOURCE_DIRS) {
    const file = new URL(name, dir);
    if (fs.existsSync(file)) return fs.readFileSync(file);
  }
  throw new Error(
    `portal resource ${name} not found in ${RESOURCE_DIRS.map((d) => d.pathname).join(' or ')}`,
  );
}

interface Assets {
  js: Asset;
  css: Asset;
  /** Absent when hls.js isn't installed (it is a devDependency: a packaged app may lack it). */
  hls: Asset | undefined;
}

let loaded: Assets | undefined;

function loadAssets(): Assets {
  if (loaded) return loaded;
  let hls: Asset | undefined;
  try {
    const file = createRequire(import.meta.url).resolve('hls.js/dist/hls.min.js');
    hls = asset(fs.readFileSync(file), 'text/javascript; charset=utf-8');
  } catch {
    hls = undefined;
  }
  loaded = {
    js: asset(readResource('portal.js'), 'text/javascript; charset=utf-8'),
    css: asset(readResource('portal.css'), 'text/css; charset=utf-8'),
    hls,
  };
  return loaded;
}

function sendAsset(req: FastifyRequest, reply: FastifyReply, a: Asset): FastifyReply {
  const etag = `"${a.hash}"`;
  const versioned = (req.query as Record<string, unknown>).v === a.hash;
  reply
    .header('Cache-Control', versioned ? IMMUTABLE : A_DAY)
    .header('ETag', etag)
    .header('X-Content-Type-Options', 'nosniff');
  const match = req.headers['if-none-match'];
  if (typeof match === 'string' && match.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)) {
    return reply.code(304).send();
  }
  return reply.type(a.type).send(a.body);
}

// ---------------------------------------------------------------------------------------------------------
// HTML.

/** Escapes text for HTML element content and double- or single-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;',
  );
}
const esc = escapeHtml;

/** A JavaScript string literal that is also safe inside a `<script>` element. */
function jsString(text: string): string {
  return JSON.stringify(text)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** Only origin-relative or http(s) URLs reach an href or a player. */
function safeUrl(url: string): boolean {
  return /^\/(?!\/)/.test(url) || /^https?:\/\//i.test(url);
}

function withQuery(url: string, query: string): string {
  const q = query.replace(/^\?/, '');
  if (!q) return url;
  return `${url}${url.includes('?') ? '&' : '?'}${q}`;
}

/** `http://host:port` as the viewer addressed the appliance, for snippets pasted elsewhere ('' when unusable). */
function baseUrl(req: FastifyRequest): string {
  const host = req.host;
  if (typeof host !== 'string' || !/^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/.test(host))
    return '';
  return `${req.protocol === 'https' ? 'https' : 'http'}://${host}`;
}

interface PageOptions {
  title: string;
  body: string;
  /** The bare layout of embeds: no header, the player fills the frame. */
  bare?: boolean;
  /** Load hls.js (player pages only). */
  player?: boolean;
}

function renderPage(assets: Assets, o: PageOptions): string {
  const scripts = o.player
    ? `${assets.hls ? `<script src="/player/hls.js?v=${assets.hls.hash}" defer></script>\n` : ''}<script src="/player/portal.js?v=${assets.js.hash}" defer></script>\n`
    : `<script src="/player/portal.js?v=${assets.js.hash}" defer></script>\n`;
  const header = o.bare
    ? ''
    : `<a class="skip" href="#main">Skip to content</a>
<header class="site"><div class="wrap"><a class="brand" href="/">eCDN <span>portal</span></a></div></header>
`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(o.title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/player/portal.css?v=${assets.css.hash}">
${scripts}</head>
<body class="${o.bare ? 'bare' : 'full'}">
${header}${o.body}
</body>
</html>
`;
}

function sendPage(reply: FastifyReply, status: number, html: string): FastifyReply {
  return reply
    .code(status)
    .header('Content-Security-Policy', PORTAL_CSP)
    .header('Cache-Control', 'no-store')
    .header('X-Content-Type-Options', 'nosniff')
    .header('Referrer-Policy', 'same-origin')
    .type('text/html; charset=utf-8')
    .send(html);
}

function problemPage(assets: Assets, bare: boolean, heading: string, lines: string[]): string {
  const back = bare ? '' : '<p><a href="/">Back to the portal</a></p>';
  return renderPage(assets, {
    title: heading,
    bare,
    body: `<main id="main" class="wrap problem">
<h1>${esc(heading)}</h1>
${lines.map((l) => `<p>${esc(l)}</p>`).join('\n')}
${back}
</main>`,
  });
}

function notFoundPage(assets: Assets, bare: boolean, what: 'channel' | 'space'): string {
  return problemPage(assets, bare, 'Not found', [
    `There is no ${what} at this address, or it is not available for viewing.`,
  ]);
}

function deniedPage(assets: Assets, bare: boolean, what: 'channel' | 'space', reason: string): string {
  return problemPage(assets, bare, 'Access denied', [
    `This ${what} opens only with a valid signed link: ${reason}.`,
    'Ask whoever gave you the link for a new one.',
  ]);
}

function snippet(id: string, label: string, text: string, base: string, rows: number): string {
  return `<div class="snippet">
<label for="${id}">${esc(label)}</label>
<textarea id="${id}" class="code" rows="${rows}" readonly spellcheck="false" data-base="${esc(base)}">${esc(text)}</textarea>
<button type="button" class="button" data-copy="${id}">Copy</button>
</div>`;
}

function expiryNote(query: Record<string, unknown>): string {
  const exp = Number(query.exp);
  if (!Number.isSafeInteger(exp)) return '';
  const iso = new Date(exp * 1000).toISOString();
  return `<p class="note">This is a signed link: the page, the stream and the snippets below stop working at <time datetime="${iso}" data-local>${esc(iso.replace('T', ' ').slice(0, 16))} UTC</time>.</p>`;
}

function stateBadge(state: string): string {
  if (state === 'started') return '<span class="badge badge-live" data-live-badge>Live</span>';
  if (state === 'starting') return '<span class="badge badge-live" data-live-badge>Starting</span>';
  return '<span class="badge" data-live-badge>Not live</span>';
}

function elementId(text: string): string {
  return `ecdn-${text.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

// ---------------------------------------------------------------------------------------------------------

export function registerPortal(app: FastifyInstance, deps: PortalDeps): void {
  const assets = loadAssets();

  type Query = Record<string, string | string[] | undefined>;

  const check = (path: string, req: FastifyRequest): PortalVerdict => {
    try {
      return deps.verify(path, req.query as Query, req);
    } catch {
      return { ok: false, reason: 'the signature could not be checked' };
    }
  };

  const findChannel = (entryId: string) => deps.listChannels().find((c) => c.entryId === entryId);
  const findSpace = (id: string) => deps.listSpaces().find((s) => s.id === id);

  /** The playout parameters of the page's query, for the master playlist. */
  const playout = (query: Query): string => {
    const q = new URLSearchParams();
    for (const k of PLAYOUT_PARAMS) {
      const v = query[k];
      if (typeof v === 'string' && v.length <= 64) q.set(k, v);
    }
    return q.toString();
  };

  // ---- the portal ----
  app.get('/', async (_req, reply) => {
    const channels = deps.listChannels().filter((c) => c.access === 'open' && safeUrl(c.path));
    const live = channels.filter((c) => LIVE_STATES.has(c.state));
    const others = channels.filter((c) => !LIVE_STATES.has(c.state));
    const spaces = deps.listSpaces().filter((s) => s.access === 'open' && s.streaming);
    // Live channels show their live thumbnail (refreshed by portal.js; hidden while there is none).
    const thumbnail = (c: PortalChannel) =>
      LIVE_STATES.has(c.state)
        ? `<img class="card-thumb" src="${esc(c.path)}/thumbnail.jpg" alt="" width="320" height="180" data-thumbnail>`
        : '';
    const card = (c: PortalChannel) =>
      `<li><a class="card" href="/watch/${encodeURIComponent(c.entryId)}">${thumbnail(c)}${stateBadge(c.state)}<span class="card-title">${esc(c.name)}</span></a></li>`;
    const spaceCard = (s: PortalSpace) => {
      const n = s.items.length;
      return `<li><a class="card" href="/spaces/${encodeURIComponent(s.id)}"><span class="badge">${n} ${n === 1 ? 'item' : 'items'}</span><span class="card-title">${esc(s.name)}</span></a></li>`;
    };
    const list = (items: string[], empty: string) =>
      items.length ? `<ul class="cards">\n${items.join('\n')}\n</ul>` : `<p class="empty">${esc(empty)}</p>`;
    const body = `<main id="main" class="wrap">
<h1>Watch</h1>
<section aria-labelledby="live-heading">
<h2 id="live-heading">Live now</h2>
${list(live.map(card), 'Nothing is live right now.')}
</section>
${
  others.length
    ? `<section aria-labelledby="idle-heading">
<h2 id="idle-heading">Not live</h2>
${list(others.map(card), '')}
</section>`
    : ''
}
<section aria-labelledby="media-heading">
<h2 id="media-heading">Media</h2>
${list(spaces.map(spaceCard), 'No media collections are published.')}
</section>
</main>`;
    return sendPage(reply, 200, renderPage(assets, { title: 'eCDN portal', body }));
  });

  // ---- a channel: the player page and the bare embed ----
  const channelPage = (bare: boolean) => async (req: FastifyRequest, reply: FastifyReply) => {
    const { entryId } = req.params as { entryId: string };
    const c = findChannel(entryId);
    if (!c || !safeUrl(c.path)) return sendPage(reply, 404, notFoundPage(assets, bare, 'channel'));
    const query = req.query as Query;
    let signature = '';
    if (c.access !== 'open') {
      const v = check(`${c.path}/`, req);
      if (!v.ok) return sendPage(reply, 403, deniedPage(assets, bare, 'channel', v.reason));
      signature = v.suffix.replace(/^\?/, '');
    }
    const src = withQuery(withQuery(`${c.path}/.m3u8`, playout(query)), signature);
    const live = LIVE_STATES.has(c.state);
    const autoplay = !bare || query.autoplay === '1';
    // The live thumbnail is the poster (404 until the first one: the stage stays black); a big play button over
    // it starts playback (click-to-play); a LIVE pill jumps to the live edge; a quality menu picks a rendition.
    const poster = withQuery(`${c.path}/thumbnail.jpg`, signature);
    const video = `<video id="player" class="video" controls playsinline preload="none" poster="${esc(poster)}" aria-label="${esc(c.name)}" data-player data-src="${esc(src)}" data-autoplay="${autoplay ? '1' : '0'}"></video>
<button type="button" class="bigplay" data-bigplay aria-label="Play ${esc(c.name)}"><span aria-hidden="true"></span></button>
<div class="player-bar">
<button type="button" class="live-pill" data-live-pill aria-label="Live: jump to the live edge" hidden>LIVE</button>
<label class="quality" data-quality-box hidden>Quality <select data-quality aria-label="Quality"><option value="-1">Auto</option></select></label>
</div>`;
    const status = `<p id="player-status" class="status" role="status" aria-live="polite"></p>
<button type="button" class="button unmute" data-unmute hidden>Turn sound on</button>`;
    if (bare) {
      const body = `<main id="main" class="embed">
<h1 class="visually-hidden">${esc(c.name)}</h1>
<div class="stage player" data-stage>
${video}
</div>
${status}
</main>`;
      return sendPage(reply, 200, renderPage(assets, { title: c.name, bare, player: true, body }));
    }
    const base = baseUrl(req);
    const embedUrl = `${base}${withQuery(`/embed/${encodeURIComponent(c.entryId)}`, signature)}`;
    const streamUrl = `${base}${src}`;
    const id = elementId(c.entryId);
    const iframe = `<iframe src="${esc(embedUrl)}" width="640" height="360" title="${esc(c.name)}" allow="autoplay; fullscreen; picture-in-picture" allowfullscreen></iframe>`;
    const plain = `<video id="${id}" controls playsinline width="640" height="360"></video>
<script src="${base}/player/hls.js"></script>
<script>
  (function () {
    var video = document.getElementById(${jsString(id)});
    var src = ${jsString(streamUrl)};
    if (window.Hls && Hls.isSupported()) {
      var hls = new Hls();
      hls.loadSource(src);
      hls.attachMedia(video);
    } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
      video.src = src;
    }
  })();
</script>`;
    const body = `<main id="main" class="wrap watch">
<p class="crumbs"><a href="/">All channels</a></p>
<h1>${esc(c.name)} ${stateBadge(c.state)}</h1>
<div class="stage player" data-stage>
${video}
</div>
${status}
${live ? '' : '<p class="note">This channel is not live right now; the player starts when the broadcast does.</p>'}
<section class="share" aria-label="Share and embed">
<button type="button" class="button button-quiet" aria-expanded="false" aria-controls="share-panel" data-share-toggle>Share and embed</button>
<div id="share-panel" class="share-panel" data-share-panel hidden>
${signature ? expiryNote(query) : ''}
${snippet('snippet-iframe', 'Embed in a web page (iframe)', iframe, base, 3)}
${snippet('snippet-video', 'Embed with a video element and hls.js', plain, base, 16)}
${snippet('snippet-url', 'Stream URL (HLS), for players such as VLC', streamUrl, base, 2)}
</div>
</section>
</main>`;
    return sendPage(reply, 200, renderPage(assets, { title: c.name, player: true, body }));
  };
  app.get('/watch/:entryId', channelPage(false));
  app.get('/embed/:entryId', channelPage(true));

  // ---- a space: the playlist player and its bare embed ----
  const spacePage = (bare: boolean) => async (req: FastifyRequest, reply: FastifyReply) => {
    const { id } = req.params as { id: string };
    const s = findSpace(id);
    if (!s || !s.streaming) return sendPage(reply, 404, notFoundPage(assets, bare, 'space'));
    const items = s.items.filter((i) => safeUrl(i.progressive) && (i.hls === '' || safeUrl(i.hls)));
    let signature = '';
    if (s.access !== 'open') {
      // The signature must open every item: its HLS and its progressive URL. An empty secure space shows nothing.
      const paths = items
        .flatMap((i) => [i.hls, i.progressive])
        .filter(Boolean)
        .map(pathOf);
      if (paths.length === 0) return sendPage(reply, 404, notFoundPage(assets, bare, 'space'));
      for (const p of paths) {
        const v =
          p === undefined ? { ok: false as const, reason: 'an item has an invalid URL' } : check(p, req);
        if (!v.ok) return sendPage(reply, 403, deniedPage(assets, bare, 'space', v.reason));
        signature = v.suffix.replace(/^\?/, '');
      }
    }
    const entries = items.map((i, n) => {
      const hls = i.hls ? withQuery(i.hls, signature) : '';
      const progressive = withQuery(i.progressive, signature);
      return `<li><a class="item" href="${esc(progressive)}" data-item data-kind="${i.kind}" data-hls="${esc(hls)}" data-progressive="${esc(progressive)}"><span class="item-number">${n + 1}</span><span class="item-title">${esc(i.name)}</span><span class="item-kind">${i.kind === 'audio' ? 'Audio' : 'Video'}</span></a></li>`;
    });
    const player = `<div class="stage">
<video id="space-video" class="video" controls playsinline preload="none" aria-label="${esc(s.name)}"></video>
<audio id="space-audio" class="audio" controls preload="none" aria-label="${esc(s.name)}" hidden></audio>
</div>
<p id="player-status" class="status" role="status" aria-live="polite"></p>`;
    const playlist = entries.length
      ? `<ol class="playlist" aria-label="Playlist">\n${entries.join('\n')}\n</ol>`
      : '<p class="empty">This space has no media yet.</p>';
    const autoplay = !bare || (req.query as Query).autoplay === '1';
    if (bare) {
      const body = `<main id="main" class="embed embed-playlist" data-playlist data-autoplay="${autoplay ? '1' : '0'}">
<h1 class="visually-hidden">${esc(s.name)}</h1>
${player}
${playlist}
</main>`;
      return sendPage(reply, 200, renderPage(assets, { title: s.name, bare, player: true, body }));
    }
    const base = baseUrl(req);
    const embedUrl = `${base}${withQuery(`/embed/spaces/${encodeURIComponent(s.id)}`, signature)}`;
    const iframe = `<iframe src="${esc(embedUrl)}" width="640" height="600" title="${esc(s.name)}" allow="autoplay; fullscreen; picture-in-picture" allowfullscreen></iframe>`;
    const body = `<main id="main" class="wrap space">
<p class="crumbs"><a href="/">All channels and media</a></p>
<h1>${esc(s.name)}</h1>
<div class="playlist-player" data-playlist data-autoplay="0">
${player}
${playlist}
</div>
<section class="share" aria-labelledby="share-heading">
<h2 id="share-heading">Share and embed</h2>
${signature ? expiryNote(req.query as Query) : ''}
${snippet('snippet-iframe', 'Embed the playlist in a web page (iframe)', iframe, base, 3)}
</section>
</main>`;
    return sendPage(reply, 200, renderPage(assets, { title: s.name, player: true, body }));
  };
  app.get('/spaces/:id', spacePage(false));
  app.get('/embed/spaces/:id', spacePage(true));

  // ---- static files ----
  app.get('/player/portal.js', async (req, reply) => sendAsset(req, reply, assets.js));
  app.get('/player/portal.css', async (req, reply) => sendAsset(req, reply, assets.css));
  app.get('/player/hls.js', async (req, reply) => {
    if (assets.hls) return sendAsset(req, reply, assets.hls);
    return reply
      .code(503)
      .header('Cache-Control', 'no-store')
      .type('text/plain; charset=utf-8')
      .send('503 hls.js is not installed on this appliance (node_modules/hls.js)\n');
  });
}

/** The decoded path of an origin-relative or absolute URL, or undefined when it can't be decoded. */
function pathOf(url: string): string | undefined {
  try {
    return decodeURIComponent(new URL(url, 'http://appliance.invalid').pathname);
  } catch {
    return undefined;
  }
}
