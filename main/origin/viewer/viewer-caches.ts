/** The origin listener's caches in one place: answer memo, rendered manifests, index lookups, fragment bytes. */
import { AnswerMemo, type IndexVersion } from '../answer-memo.js';
import type { FragmentCache } from '../fragment-cache.js';
import { IndexMemo, ManifestCache, type CachedManifest } from '../manifest-cache.js';
import type { ViewerCaches } from './viewer-deps.js';

export class ViewerCacheSet implements ViewerCaches {
  /**
   * Repeated viewer requests are answered from this memo before the router sees them; the listener replays
   * and fills it, the resources never see it.
   */
  readonly answers: AnswerMemo;
  private readonly manifests = new ManifestCache();
  private readonly memo: IndexMemo;

  constructor(
    index: IndexVersion,
    private readonly fragments: FragmentCache,
  ) {
    this.answers = new AnswerMemo(() => ({ writes: index.writes, removals: index.removals }));
    this.memo = new IndexMemo(() => index.writes);
  }

  indexed<T>(key: string, compute: () => T): T {
    return this.memo.get(key, compute);
  }

  manifest(key: string, writes: number): CachedManifest | undefined {
    return this.manifests.get(key, writes);
  }

  keepManifest(key: string, writes: number, m: CachedManifest): void {
    this.manifests.set(key, writes, m);
  }

  fragment(file: string): Buffer | undefined {
    return this.fragments.get(file);
  }

  keepFragment(file: string, data: Buffer): void {
    this.fragments.set(file, data);
  }
}
