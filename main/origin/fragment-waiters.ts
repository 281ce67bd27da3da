/**
 * Requests that wait for a track's next fragment: low-latency HLS blocking playlist reloads (`_HLS_msn`,
 * `_HLS_part`) and preload-hinted parts asked for before they exist. Waiters are keyed by publishing point and
 * track; the fragment writer wakes them when a fragment of that track is indexed or the track ends. Nothing
 * polls: a waiter sleeps until it is woken, its deadline passes or its signal aborts (the viewer went away, the
 * origin listener is closing).
 */
export type WakeReason = 'fragment' | 'ended' | 'timeout' | 'aborted';

type Wake = (reason: WakeReason) => void;

/** One registry per segment index: the ingest that writes into an index wakes the origin that reads from it. */
const registries = new WeakMap<object, FragmentWaiters>();

export class FragmentWaiters {
  private readonly waiting = new Map<string, Set<Wake>>();

  /** The registry shared by everything that uses `index` (the fragment writer and the origin listener). */
  static for(index: object): FragmentWaiters {
    let r = registries.get(index);
    if (!r) {
      r = new FragmentWaiters();
      registries.set(index, r);
    }
    return r;
  }

  /**
   * Resolves with why it woke: a fragment of the track was indexed, the track ended, `timeoutMs` passed, or
   * `signal` aborted. It never rejects; the caller looks at the index again to see whether what it waits for
   * is there.
   */
  wait(pp: string, trackName: string, timeoutMs: number, signal?: AbortSignal): Promise<WakeReason> {
    if (signal?.aborted) return Promise.resolve('aborted');
    if (!(timeoutMs > 0)) return Promise.resolve('timeout');
    const key = keyOf(pp, trackName);
    return new Promise<WakeReason>((resolve) => {
      const set = this.waiting.get(key) ?? new Set<Wake>();
      this.waiting.set(key, set);
      const wake: Wake = (reason) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        set.delete(wake);
        if (set.size === 0 && this.waiting.get(key) === set) this.waiting.delete(key);
        resolve(reason);
      };
      const onAbort = (): void => wake('aborted');
      const timer = setTimeout(() => wake('timeout'), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      set.add(wake);
    });
  }

  /** Wakes every request waiting on the track. */
  wake(pp: string, trackName: string, reason: 'fragment' | 'ended'): void {
    const set = this.waiting.get(keyOf(pp, trackName));
    if (!set) return;
    for (const w of [...set]) w(reason);
  }

  /** Requests asleep right now, over all tracks. */
  get size(): number {
    let n = 0;
    for (const set of this.waiting.values()) n += set.size;
    return n;
  }
}

function keyOf(pp: string, trackName: string): string {
  return `${pp}\n${trackName}`;
}
