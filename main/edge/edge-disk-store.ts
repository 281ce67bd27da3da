/**
 * The edge's immutable objects on disk (`<dataDir>/edge-cache/`), bounded in bytes, least recently used out first.
 * The index lives in memory (a Map in use order); the directory is wiped at start, so what is on disk is always what
 * the index says. Space is reserved in the index before a file is written, and evicted files are removed before it
 * is, so the directory never holds more than the bound.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface StoredMeta {
  status: number;
  /** Headers to answer with (content-type, cache-control, etag, last-modified). */
  headers: Record<string, string>;
}

interface DiskEntry {
  file: string;
  size: number;
  meta: StoredMeta;
  /** False while the file is being written. */
  ready: boolean;
}

export class EdgeDiskStore {
  private readonly entries = new Map<string, DiskEntry>();
  private total = 0;
  private seq = 0;

  constructor(
    readonly dir: string,
    readonly maxBytes: number,
  ) {}

  /** Wipes what a previous run left and makes the directory. */
  init(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  get bytes(): number {
    return this.total;
  }

  get count(): number {
    return this.entries.size;
  }

  /** The stored object (marked most recently used), or undefined. */
  lookup(key: string): { meta: StoredMeta; size: number; file: string } | undefined {
    const e = this.entries.get(key);
    if (!e || !e.ready) return undefined;
    this.entries.delete(key);
    this.entries.set(key, e);
    return { meta: e.meta, size: e.size, file: e.file };
  }

  async read(key: string): Promise<{ meta: StoredMeta; body: Buffer } | undefined> {
    const e = this.lookup(key);
    if (!e) return undefined;
    try {
      return { meta: e.meta, body: await fs.promises.readFile(e.file) };
    } catch {
      // Evicted or removed under us: a miss.
      this.remove(key);
      return undefined;
    }
  }

  /** Keeps an object; one larger than the whole bound is not kept. Resolves once it is on disk. */
  async put(key: string, meta: StoredMeta, body: Buffer): Promise<void> {
    if (body.length > this.maxBytes) return;
    const victims: string[] = [];
    const old = this.entries.get(key);
    if (old) victims.push(...this.drop(key));
    for (const [k, e] of this.entries) {
      if (this.total + body.length <= this.maxBytes) break;
      this.entries.delete(k);
      this.total -= e.size;
      victims.push(e.file);
    }
    const file = path.join(
      this.dir,
      `${createHash('sha256').update(key).digest('hex').slice(0, 32)}-${++this.seq}`,
    );
    const entry: DiskEntry = { file, size: body.length, meta, ready: false };
    this.entries.set(key, entry);
    this.total += body.length;
    await Promise.all(victims.map((f) => fs.promises.rm(f, { force: true })));
    try {
      await fs.promises.writeFile(file, body, { mode: 0o600 });
    } catch {
      if (this.entries.get(key) === entry) this.drop(key);
      await fs.promises.rm(file, { force: true });
      return;
    }
    if (this.entries.get(key) === entry) entry.ready = true;
    // Evicted while it was being written: the file goes too.
    else await fs.promises.rm(file, { force: true });
  }

  remove(key: string): void {
    for (const f of this.drop(key)) void fs.promises.rm(f, { force: true });
  }

  private drop(key: string): string[] {
    const e = this.entries.get(key);
    if (!e) return [];
    this.entries.delete(key);
    this.total -= e.size;
    return [e.file];
  }
}
