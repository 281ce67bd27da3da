/**
 * A map bounded in bytes, oldest entries out first: what the origin's manifest cache and answer memo keep. An entry
 * an eighth of the budget or larger is not kept at all (it would push out most of the others).
 */
export class ByteBoundedMap<V> {
  private readonly entries = new Map<string, { value: V; size: number }>();
  private total = 0;

  constructor(private readonly maxBytes: number) {}

  get(key: string): V | undefined {
    return this.entries.get(key)?.value;
  }

  /** Keeps `value` under `key` as `size` bytes (replacing what was there), then drops the oldest over budget. */
  set(key: string, value: V, size: number): void {
    this.delete(key);
    if (size > this.maxBytes / 8) return;
    this.entries.set(key, { value, size });
    this.total += size;
    // Map order is insertion order: the oldest entries go first.
    for (const k of this.entries.keys()) {
      if (this.total <= this.maxBytes) break;
      this.delete(k);
    }
  }

  delete(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    this.total -= e.size;
  }

  clear(): void {
    this.entries.clear();
    this.total = 0;
  }

  get count(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.total;
  }
}
