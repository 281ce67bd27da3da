/**
 * Rendered manifests (master and media playlists, MPDs), reused while the segment index has not changed: at a
 * thousand viewers the same playlist is asked for hundreds of times between two fragments. An entry is valid
 * for one value of `SegmentIndex.writes` and at most `MAX_AGE_MS`; the cache is bounded in bytes.
 */
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
  size: number;
}

export class ManifestCache {
  private readonly entries = new Map<string, Entry>();
  private size = 0;

  constructor(private readonly maxBytes = MAX_BYTES) {}

  get(key: string, writes: number, now = Date.now()): CachedManifest | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.writes !== writes || now - e.at > MAX_AGE_MS) {
      this.drop(key, e);
      return undefined;
    }
    return e;
  }

  set(key: string, writes: number, m: CachedManifest, now = Date.now()): void {
    const old = this.entries.get(key);
    if (old) this.drop(key, old);
    const size = m.body.length + key.length;
    if (size > this.maxBytes / 8) return;
    this.entries.set(key, { ...m, writes, at: now, size });
    this.size += size;
    for (const [k, e] of this.entries) {
      if (this.size <= this.maxBytes) break;
      this.drop(k, e);
    }
  }

  get count(): number {
    return this.entries.size;
  }

  private drop(key: string, e: Entry): void {
    this.entries.delete(key);
    this.size -= e.size;
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
