/**
 * How long the edge keeps what it fetched. Playlists and manifests change: a live HLS playlist is fresh for half
 * its `#EXT-X-TARGETDURATION`, a dynamic MPD for half its `minimumUpdatePeriod` (or a small default), never longer
 * than upstream's `Cache-Control` allows; when upstream fails it is served stale for up to 2 target durations.
 * Everything else (segments, init segments, fragments, thumbnails) is immutable: kept on disk until the least
 * recently used goes out. `no-store`, `no-cache` and `private` answers are shared only among concurrent askers.
 */

export type ObjectKind = 'hls' | 'dash' | 'immutable';

/** What freshness rule a fetched object follows, from its path and its Content-Type. */
export function objectKind(path: string, contentType: string | undefined): ObjectKind {
  const type = (contentType ?? '').toLowerCase();
  const p = path.toLowerCase().split('?')[0] as string;
  if (type.includes('mpegurl') || p.endsWith('.m3u8') || p.endsWith('.m3u')) return 'hls';
  if (type.includes('dash+xml') || p.endsWith('.mpd')) return 'dash';
  return 'immutable';
}

/** Whether a path names a playlist or manifest (before anything is fetched). */
export function isManifestPath(path: string): boolean {
  return objectKind(path, undefined) !== 'immutable';
}

export interface CacheControl {
  maxAge?: number;
  noStore: boolean;
}

/** `s-maxage` (a shared cache's) over `max-age`; `no-store`, `no-cache` and `private` all mean "do not keep". */
export function parseCacheControl(header: string | undefined): CacheControl {
  const out: CacheControl = { noStore: false };
  let sMaxAge: number | undefined;
  for (const part of (header ?? '').toLowerCase().split(',')) {
    const [name, value] = part.trim().split('=') as [string, string | undefined];
    const n = value === undefined ? NaN : Number(value.replace(/"/g, ''));
    if (name === 'no-store' || name === 'no-cache' || name === 'private') out.noStore = true;
    else if (name === 'max-age' && Number.isFinite(n) && n >= 0) out.maxAge = n;
    else if (name === 's-maxage' && Number.isFinite(n) && n >= 0) sMaxAge = n;
  }
  if (sMaxAge !== undefined) out.maxAge = sMaxAge;
  return out;
}

/** When nothing in the manifest says: a playlist or MPD of unknown period is fresh this long (ms). */
export const DEFAULT_MANIFEST_TTL_MS = 1000;
/** A playlist that will not change (`#EXT-X-ENDLIST`, a static MPD) without a max-age: kept this long (ms). */
export const FINISHED_MANIFEST_TTL_MS = 30_000;

export interface Freshness {
  /** Milliseconds the answer may be served without asking upstream (0: only to concurrent askers). */
  ttlMs: number;
  /** Milliseconds past its freshness it may still be served while upstream fails. */
  staleMs: number;
}

/** The target duration (s) of an HLS media playlist, undefined for a master playlist. */
export function hlsTargetDuration(text: string): number | undefined {
  const m = /#EXT-X-TARGETDURATION:\s*(\d+(?:\.\d+)?)/.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** ISO 8601 duration (`PT2S`, `PT1M0.5S`) in seconds. */
export function isoDurationSeconds(d: string): number | undefined {
  const m =
    /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(
      d.trim(),
    );
  if (!m) return undefined;
  const [, days, h, min, s] = m.map((v) => (v === undefined ? 0 : Number(v))) as number[];
  return (days as number) * 86400 + (h as number) * 3600 + (min as number) * 60 + (s as number);
}

/** The freshness of a fetched 200 answer: from its body (target duration, update period) and Cache-Control. */
export function freshness(
  kind: ObjectKind,
  body: string | undefined,
  cacheControl: string | undefined,
): Freshness {
  const cc = parseCacheControl(cacheControl);
  if (kind === 'immutable') return { ttlMs: cc.noStore ? 0 : Infinity, staleMs: cc.noStore ? 0 : Infinity };
  let periodS: number | undefined;
  let finished = false;
  if (kind === 'hls' && body !== undefined) {
    periodS = hlsTargetDuration(body);
    finished = /#EXT-X-ENDLIST/.test(body) || /#EXT-X-PLAYLIST-TYPE:\s*VOD/.test(body);
  } else if (kind === 'dash' && body !== undefined) {
    const mpd = /<MPD\b[^>]*>/s.exec(body)?.[0] ?? '';
    const type = /\btype\s*=\s*"([^"]*)"/.exec(mpd)?.[1];
    const mup = /\bminimumUpdatePeriod\s*=\s*"([^"]*)"/.exec(mpd)?.[1];
    finished = type === 'static';
    if (mup !== undefined) periodS = isoDurationSeconds(mup);
  }
  let ttlMs = finished
    ? FINISHED_MANIFEST_TTL_MS
    : periodS !== undefined && periodS > 0
      ? (periodS * 1000) / 2
      : DEFAULT_MANIFEST_TTL_MS;
  if (cc.maxAge !== undefined) ttlMs = Math.min(ttlMs, cc.maxAge * 1000);
  if (cc.noStore) ttlMs = 0;
  // Served stale while upstream fails: up to 2 target durations (the period, or twice the default).
  const staleMs = cc.noStore
    ? 0
    : 2 * (periodS !== undefined && periodS > 0 ? periodS * 1000 : 2 * DEFAULT_MANIFEST_TTL_MS);
  return { ttlMs, staleMs };
}
