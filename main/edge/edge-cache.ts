/**
 * The edge's engine: each object fetched once for everyone. A request is answered from memory (fresh playlists and
 * manifests, recently used segments), then from disk (immutable objects), then by waiting for a fetch already under
 * way for the same URL, and only then by one upstream request, whose answer every waiter shares (an immutable
 * object's body streamed to them as it arrives, edge-growing.ts). Live playlists
 * are fresh for half their target duration (edge-freshness.ts) and served stale for up to two target durations
 * while upstream fails; LL-HLS blocking requests are distinct URLs (their query), so each distinct one goes upstream
 * once. Freshness reads an injected clock.
 */
import { ByteBoundedMap } from '../origin/byte-bounded-map.js';
import type { Logger } from '../lib/logger.js';
import type { EdgeDiskStore, StoredMeta } from './edge-disk-store.js';
import { freshness, objectKind, type ObjectKind } from './edge-freshness.js';
import type { EdgeOrigin, EdgeOrigins } from './edge-origins.js';
import { rewriteHls, rewriteMpd, rewriteUri, type RewriteContext } from './edge-rewrite.js';
import type { EdgeOutcome, EdgeStats } from './edge-stats.js';
import { GrowingBody } from './edge-growing.js';
import { fetchUpstream, UpstreamFailure, type Upstream, type UpstreamAnswer } from './edge-upstream.js';

/** The edge path prefixes Kaltura sends players to (EdgeServerNode.php). */
export type EdgeApp = 'kCache' | 'kVOD' | 'kThumbnail';

export interface EdgeAnswer {
  status: number;
  headers: Record<string, string>;
  /** The whole body (empty while `growing`). */
  body: Buffer;
  /** An immutable object still arriving from upstream: streamed to the asker as it arrives. */
  growing?: GrowingBody;
  cache: EdgeOutcome;
}

const EMPTY = Buffer.alloc(0);

export interface EdgeCacheOptions {
  origins: EdgeOrigins;
  store: EdgeDiskStore;
  stats: EdgeStats;
  log: Logger;
  upstream?: Upstream;
  now?: () => number;
  /** How long upstream may be silent (ms) before the answer is a 504 (default 10 s; 30 s for LL-HLS blocking). */
  timeoutMs?: number;
  /** Memory (bytes) for playlists, manifests and recently served segments (default 64 MiB). */
  memoryBytes?: number;
  /** The largest object the edge fetches (bytes, default 256 MiB). */
  maxObjectBytes?: number;
}

/** Headers of an upstream answer the edge passes on. */
const PASSED_HEADERS = [
  'content-type',
  'cache-control',
  'etag',
  'last-modified',
  'expires',
  'content-disposition',
];

interface ManifestEntry {
  answer: EdgeAnswer;
  /** The same, as a cache hit. */
  hit: EdgeAnswer;
  freshUntil: number;
  staleUntil: number;
}

/** What one upstream request brought, shared by everyone who waited for it. */
type Fetched =
  | { ok: true; raw: UpstreamAnswer; kind: ObjectKind; at: number }
  | { ok: false; failure: UpstreamFailure; at: number };

const BLOCKING = /[?&]_HLS_(msn|part|skip)=/;

/** An upstream request under way: its whole answer, and (sooner) an immutable object's body as it arrives. */
interface Inflight {
  done: Promise<Fetched>;
  /** Resolves with the growing body once an immutable 200's headers arrive, undefined when there is none. */
  head: Promise<GrowingBody | undefined>;
}

export class EdgeCache {
  private readonly upstream: Upstream;
  private readonly now: () => number;
  private readonly timeoutMs: number;
  private readonly maxObjectBytes: number;
  private readonly manifests: ByteBoundedMap<ManifestEntry>;
  private readonly hot: ByteBoundedMap<EdgeAnswer>;
  private readonly inflight = new Map<string, Inflight>();
  private readonly reading = new Map<string, Promise<EdgeAnswer | undefined>>();
  /** A fetched manifest as rewritten for each app, for everyone who waited for that fetch. */
  private readonly rewritten = new WeakMap<Fetched, Map<EdgeApp, EdgeAnswer>>();

  constructor(private readonly o: EdgeCacheOptions) {
    this.upstream = o.upstream ?? fetchUpstream;
    this.now = o.now ?? Date.now;
    this.timeoutMs = o.timeoutMs ?? 10_000;
    this.maxObjectBytes = o.maxObjectBytes ?? 256 * 1024 * 1024;
    const memory = o.memoryBytes ?? 64 * 1024 * 1024;
    this.manifests = new ByteBoundedMap(Math.floor(memory / 4));
    this.hot = new ByteBoundedMap(memory - Math.floor(memory / 4));
  }

  /**
   * The answer from memory, when it is there and fresh (no promise: the hot path of every cache hit), else
   * undefined and {@link get} finds it.
   */
  cached(origin: EdgeOrigin, app: EdgeApp, path: string): EdgeAnswer | undefined {
    const url = `${origin.scheme}://${origin.key}${path}`;
    const m = this.manifests.get(`${app} ${url}`);
    if (m) return this.now() < m.freshUntil ? m.hit : undefined;
    return this.hot.get(url);
  }

  /** The answer to `/<app>/<origin>/<path>` (path with its query, starting with `/`). */
  async get(origin: EdgeOrigin, app: EdgeApp, path: string): Promise<EdgeAnswer> {
    const url = `${origin.scheme}://${origin.key}${path}`;
    const manifestKey = `${app} ${url}`;
    const now = this.now();
    const m = this.manifests.get(manifestKey);
    if (m && now < m.freshUntil) return m.hit;
    if (!m) {
      const hot = this.hot.get(url);
      if (hot) return hot;
      const stored = await this.fromDisk(url);
      if (stored) return stored;
    }
    let running = this.inflight.get(url);
    const cache: EdgeOutcome = running ? 'HIT' : 'MISS';
    if (!running) {
      running = this.fetch(origin, path, url);
      this.inflight.set(url, running);
      void running.done.finally(() => this.inflight.delete(url));
    }
    const growing = await running.head;
    if (growing) return { status: growing.status, headers: growing.headers, body: EMPTY, growing, cache };
    return this.answer(await running.done, origin, app, path, cache);
  }

  private fromDisk(url: string): Promise<EdgeAnswer | undefined> {
    if (!this.o.store.lookup(url)) return Promise.resolve(undefined);
    let p = this.reading.get(url);
    if (!p) {
      p = this.o.store.read(url).then((r) => {
        if (!r) return undefined;
        const a: EdgeAnswer = { status: r.meta.status, headers: r.meta.headers, body: r.body, cache: 'HIT' };
        this.hot.set(url, a, r.body.length);
        return a;
      });
      this.reading.set(url, p);
      void p.finally(() => this.reading.delete(url));
    }
    return p;
  }

  private fetch(origin: EdgeOrigin, path: string, url: string): Inflight {
    let headReady!: (g: GrowingBody | undefined) => void;
    const head = new Promise<GrowingBody | undefined>((resolve) => (headReady = resolve));
    let growing: GrowingBody | undefined;
    const onHead = (status: number, headers: UpstreamAnswer['headers']) => {
      if (status !== 200 || objectKind(path, header(headers['content-type'])) !== 'immutable') return;
      const declared = Number(headers['content-length']);
      growing = new GrowingBody(200, passed(headers), Number.isFinite(declared) ? declared : undefined);
      headReady(growing);
    };
    const done = this.fetchWhole(origin, path, url, onHead, (c) => growing?.push(c)).then((f) => {
      if (f.ok) growing?.end();
      else growing?.fail();
      headReady(undefined);
      return f;
    });
    return { done, head };
  }

  private async fetchWhole(
    origin: EdgeOrigin,
    path: string,
    url: string,
    onHead: (status: number, headers: UpstreamAnswer['headers']) => void,
    onData: (chunk: Buffer) => void,
  ): Promise<Fetched> {
    const timeoutMs = BLOCKING.test(path) ? Math.max(this.timeoutMs, 30_000) : this.timeoutMs;
    try {
      const raw = await this.upstream(origin, path, {
        timeoutMs,
        maxBytes: this.maxObjectBytes,
        onHead,
        onData,
      });
      this.o.stats.fetched(origin.key, raw.body.length);
      const kind = objectKind(path, header(raw.headers['content-type']));
      const at = this.now();
      if (raw.status === 200 && kind === 'immutable') {
        const f = freshness(kind, undefined, header(raw.headers['cache-control']));
        if (f.ttlMs > 0) {
          const meta: StoredMeta = { status: 200, headers: passed(raw.headers) };
          this.hot.set(url, { ...meta, body: raw.body, cache: 'HIT' }, raw.body.length);
          this.o.store.put(url, meta, raw.body).catch((err: Error) => {
            this.o.log.warn({ url, err: err.message }, 'edge cache: could not keep an object on disk');
          });
        }
      }
      return { ok: true, raw, kind, at };
    } catch (err) {
      this.o.stats.fetched(origin.key, 0);
      const failure =
        err instanceof UpstreamFailure ? err : new UpstreamFailure('NETWORK', (err as Error).message);
      this.o.log.warn({ url, code: failure.code, reason: failure.message }, 'edge: upstream request failed');
      return { ok: false, failure, at: this.now() };
    }
  }

  /** Turns what upstream answered into this asker's answer (manifests rewritten for its app and kept). */
  private answer(f: Fetched, origin: EdgeOrigin, app: EdgeApp, path: string, cache: EdgeOutcome): EdgeAnswer {
    const url = `${origin.scheme}://${origin.key}${path}`;
    const manifestKey = `${app} ${url}`;
    const stale = (): EdgeAnswer | undefined => {
      const m = this.manifests.get(manifestKey);
      return m && this.now() < m.staleUntil ? { ...m.answer, cache: 'STALE' } : undefined;
    };
    if (!f.ok) {
      return (
        stale() ??
        edgeError(
          f.failure.code === 'TIMEOUT' ? 504 : 502,
          `edge: upstream ${origin.key} failed: ${f.failure.message}`,
        )
      );
    }
    const { raw, kind } = f;
    if (raw.status >= 500)
      return stale() ?? edgeError(502, `edge: upstream ${origin.key} answered ${raw.status}`);
    if (raw.status >= 300 && raw.status < 400) return this.redirect(raw, origin, app, path);
    if (raw.status !== 200 || kind === 'immutable')
      return { status: raw.status, headers: passed(raw.headers), body: raw.body, cache };
    // A playlist or manifest: rewritten for this app (once per fetch), kept for its freshness.
    let byApp = this.rewritten.get(f);
    const done = byApp?.get(app);
    if (done) return { ...done, cache };
    const text = raw.body.toString('utf8');
    const ctx: RewriteContext = { origins: this.o.origins, from: origin, app };
    const body = Buffer.from(kind === 'hls' ? rewriteHls(text, ctx) : rewriteMpd(text, ctx));
    const fresh = freshness(kind, text, header(raw.headers['cache-control']));
    const headers = passed(raw.headers);
    if (headers['cache-control'] === undefined)
      headers['cache-control'] = `max-age=${Math.floor(Math.min(fresh.ttlMs, 60_000) / 1000)}`;
    const answer: EdgeAnswer = { status: 200, headers, body, cache };
    if (!byApp) this.rewritten.set(f, (byApp = new Map()));
    byApp.set(app, answer);
    if (fresh.ttlMs > 0 || fresh.staleMs > 0)
      this.manifests.set(
        manifestKey,
        {
          answer,
          hit: { ...answer, cache: 'HIT' },
          freshUntil: f.at + fresh.ttlMs,
          staleUntil: f.at + fresh.ttlMs + fresh.staleMs,
        },
        body.length + 512,
      );
    return answer;
  }

  /**
   * No redirect is followed. One to a listed origin (or within the same one) is passed on with its Location
   * rewritten through the edge; one anywhere else is a 502, so no redirect leads outside the list.
   */
  private redirect(raw: UpstreamAnswer, origin: EdgeOrigin, app: EdgeApp, path: string): EdgeAnswer {
    const location = header(raw.headers.location);
    if (location === undefined)
      return edgeError(502, `edge: upstream ${origin.key} redirected without a Location`);
    let target: URL;
    try {
      target = new URL(location, `${origin.scheme}://${origin.key}${path}`);
    } catch {
      return edgeError(502, `edge: upstream ${origin.key} redirected to an invalid Location`);
    }
    const to = this.o.origins.forUrl(target);
    if (!to)
      return edgeError(
        502,
        `edge: upstream ${origin.key} redirected to ${target.host}, which is not an allowed edge origin`,
      );
    const rewritten = rewriteUri(target.toString(), { origins: this.o.origins, from: origin, app });
    return {
      status: raw.status,
      headers: { location: rewritten, 'cache-control': 'no-store' },
      body: Buffer.alloc(0),
      cache: 'MISS',
    };
  }
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(', ') : v;
}

function passed(h: UpstreamAnswer['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of PASSED_HEADERS) {
    const v = header(h[name]);
    if (v !== undefined) out[name] = v;
  }
  return out;
}

export function edgeError(status: number, message: string): EdgeAnswer {
  return {
    status,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' },
    body: Buffer.from(`${message}\n`),
    cache: 'ERROR',
  };
}
