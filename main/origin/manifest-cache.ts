/**
 * Rendered manifests (master and media playlists, MPDs), reused while the segment index has not changed: at a
 * thousand viewers the same playlist is asked for hundreds of times between two fragments. An entry is valid
 * for one value of `SegmentIndex.writes` and at most `MAX_AGE_MS`; the cache is bounded in bytes.
 */
import { ByteBoundedMap } from './byte-bounded-map.js';

export const MAX_AGE_MS = 1000;
export const MAX_BYTES = 16 * 1024 * 1024;

export interface CachedManifest {
  type: string;
  cacheControl: string;
  body: string;
}

interface Entry extends CachedManifest {
  writes: number;
  at: number;
}

export class ManifestCache {
  private readonly entries: ByteBoundedMap<Entry>;

  constructor(maxBytes = MAX_BYTES) {
    this.entries = new ByteBoundedMap(maxBytes);
  }

  get(key: string, writes: number, now = Date.now()): CachedManifest | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.writes !== writes || now - e.at > MAX_AGE_MS) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }

  set(key: string, writes: number, m: CachedManifest, now = Date.now()): void {
    this.entries.set(key, { ...m, writes, at: now }, m.body.length + key.length);
  }

  get count(): number {
    return this.entries.count;
  }
}

/**
 * Lookups in the segment index (publishing point, track, fragment by URL) remembered while the index is
 * unchanged: a fragment request then costs no query at all. Cleared whenever `writes` moves; bounded in count.
 */
export class IndexMemo {
  private readonly values = new Map<string, unknown>();
  private at = -1;

  constructor(
    private readonly writes: () => number,
    private readonly maxEntries = 20_000,
  ) {}

  get<T>(key: string, compute: () => T): T {
    const now = this.writes();
    if (now !== this.at || this.values.size >= this.maxEntries) {
      this.values.clear();
      this.at = now;
    }
    if (this.values.has(key)) return this.values.get(key) as T;
    const v = compute();
    this.values.set(key, v);
    return v;
  }
}
