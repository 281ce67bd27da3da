/**
 * The bytes of recently written and recently served fragments and init segments, in memory, bounded in bytes
 * (least recently used out first). The ingest puts each file in as it writes it, so a live channel's viewers are
 * served from one shared Buffer instead of each request reading (and holding) its own copy from disk.
 * Keyed by absolute path; a rewritten file (a new run's init segment) replaces its entry, a deleted one leaves.
 */
export class FragmentCache {
  private readonly entries = new Map<string, Buffer>();
  private size = 0;

  constructor(private maxBytes: number) {}

  /** Changes the budget (0 turns the cache off), evicting what no longer fits. */
  setBudget(maxBytes: number): void {
    this.maxBytes = Math.max(0, maxBytes);
    this.evict();
  }

  get bytes(): number {
    return this.size;
  }

  get count(): number {
    return this.entries.size;
  }

  get(file: string): Buffer | undefined {
    const b = this.entries.get(file);
    if (b) {
      // Most recently used last.
      this.entries.delete(file);
      this.entries.set(file, b);
    }
    return b;
  }

  set(file: string, data: Buffer): void {
    this.delete(file);
    // A single file larger than a quarter of the budget is not worth evicting everything else for.
    if (data.length > this.maxBytes / 4) return;
    this.entries.set(file, data);
    this.size += data.length;
    this.evict();
  }

  delete(file: string): void {
    const b = this.entries.get(file);
    if (!b) return;
    this.entries.delete(file);
    this.size -= b.length;
  }

  /** Drops every file under `dir` (a publishing point deleted). */
  deleteUnder(dir: string): void {
    const prefix = dir.endsWith('/') ? dir : `${dir}/`;
    for (const file of [...this.entries.keys()]) if (file.startsWith(prefix)) this.delete(file);
  }

  private evict(): void {
    for (const [file] of this.entries) {
      if (this.size <= this.maxBytes) break;
      this.delete(file);
    }
  }
}
