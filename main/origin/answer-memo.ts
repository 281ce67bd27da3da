/**
 * Answers to repeated viewer requests, replayed without the router: at viewer scale the same playlist and
 * fragment URLs are asked for again and again, and routing, hooks and index lookups cost as much CPU per request
 * as writing the answer does. Only what any viewer may see is kept: a 200 to a plain GET (no query string, so
 * nothing signed and no playout parameters) of an open publishing point. The caller checks the publishing point
 * is still open on every replay.
 *
 * An immutable answer (a finished fragment) stays right until something is removed from the segment index (a
 * purge, a deleted publishing point: the same URL could then name other media). Any other answer (playlists,
 * MPDs, init segments, a fragment group still growing) is right for one value of `SegmentIndex.writes` and at
 * most `MAX_AGE_MS`, as rendered manifests are. The memo is bounded in bytes; it holds references to the
 * fragment cache's buffers, never copies.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import { ByteBoundedMap } from './byte-bounded-map.js';
import { MAX_AGE_MS } from './manifest-cache.js';

/** Bytes of answers kept, all entries together (bodies are shared with the fragment cache). */
export const ANSWER_MEMO_BYTES = 32 * 1024 * 1024;

/** The index counters an answer was computed at. */
export interface IndexVersion {
  writes: number;
  removals: number;
}

export interface MemoAnswer {
  /** Publishing point id, to check its access on replay and to count the viewer. */
  pp: string;
  /** Rendition the answer counts for in viewer statistics (`manifest` for playlists and MPDs). */
  rendition: string;
  headers: OutgoingHttpHeaders;
  body: Buffer;
}

interface Entry extends MemoAnswer {
  immutable: boolean;
  version: IndexVersion;
  at: number;
}

export class AnswerMemo {
  private readonly entries: ByteBoundedMap<Entry>;

  constructor(
    private readonly current: () => IndexVersion,
    maxBytes = ANSWER_MEMO_BYTES,
  ) {
    this.entries = new ByteBoundedMap(maxBytes);
  }

  /** The answer for `url` if it is still right, else undefined (and it is forgotten). */
  get(url: string, now = Date.now()): MemoAnswer | undefined {
    const e = this.entries.get(url);
    if (!e) return undefined;
    const v = this.current();
    const valid = e.immutable
      ? e.version.removals === v.removals
      : e.version.writes === v.writes && e.version.removals === v.removals && now - e.at <= MAX_AGE_MS;
    if (valid) return e;
    this.entries.delete(url);
    return undefined;
  }

  /**
   * Keeps an answer computed at `version` (read when the request arrived, so a change while it was computed
   * makes it stale at once rather than never).
   */
  set(url: string, answer: MemoAnswer, version: IndexVersion, now = Date.now()): void {
    const immutable = /\bimmutable\b/.test(String(answer.headers['cache-control'] ?? ''));
    this.entries.set(url, { ...answer, immutable, version, at: now }, answer.body.length + url.length);
  }

  /** Forgets everything (the listener is closing). */
  clear(): void {
    this.entries.clear();
  }

  get count(): number {
    return this.entries.count;
  }

  get size(): number {
    return this.entries.bytes;
  }
}
