/**
 * Low-latency HLS (RFC 8216bis, "Delivery of Low-Latency HLS"): the delivery directives a client adds to a
 * media playlist URL, and where a low-latency playlist ends, in Media Sequence Numbers and part indexes.
 *
 * - `_HLS_msn=<M>`: hold the answer until segment M is in the playlist; with `_HLS_part=<P>`, until its part P is
 *   (a part index past the end of a complete segment means the first part of the next one).
 * - `_HLS_skip=YES` or `v2`: a delta update, the segments before the skip boundary replaced by `EXT-X-SKIP`.
 *
 * A segment's Media Sequence Number is its position after `EXT-X-MEDIA-SEQUENCE`; the segment in progress
 * (parts only) is the one after the last complete segment.
 */
import type { TrackView } from './manifest-model.js';

/** A delivery directive the origin cannot honour: an HTTP 400 with this message. */
export class DeliveryDirectiveError extends Error {
  readonly code = 'HLS_DIRECTIVE_INVALID';
  readonly statusCode = 400;
  constructor(message: string) {
    super(message);
    this.name = 'DeliveryDirectiveError';
  }
}

export interface DeliveryDirectives {
  /** `_HLS_msn`: block until this segment (or its part `part`) is in the playlist. */
  msn?: number;
  /** `_HLS_part`, with `_HLS_msn` only. */
  part?: number;
  /** `_HLS_skip=YES|v2`: a delta update. */
  skip: boolean;
}

/** Reads `_HLS_msn`, `_HLS_part` and `_HLS_skip` (other parameters are ignored). */
export function parseDeliveryDirectives(
  query: Record<string, string | string[] | undefined>,
): DeliveryDirectives {
  const msn = integer(query, '_HLS_msn');
  const part = integer(query, '_HLS_part');
  if (part !== undefined && msn === undefined) throw new DeliveryDirectiveError('_HLS_part needs _HLS_msn');
  const skip = single(query, '_HLS_skip');
  if (skip !== undefined && skip !== 'YES' && skip !== 'v2')
    throw new DeliveryDirectiveError(`_HLS_skip must be YES or v2, got '${skip}'`);
  return {
    ...(msn !== undefined ? { msn } : {}),
    ...(part !== undefined ? { part } : {}),
    skip: skip !== undefined,
  };
}

/**
 * The last segment of a low-latency track view and its last part: the segment in progress when it has parts,
 * else the last complete segment. `undefined` for a view without segments.
 */
export function playlistEdge(t: TrackView): { msn: number; part: number } | undefined {
  const first = t.fragments[0];
  const last = t.fragments[t.fragments.length - 1];
  if (!first || !last) return undefined;
  const lastMsn = first.sequence + t.fragments.length - 1;
  const partial = t.partial ?? [];
  if (partial.length > 0) return { msn: lastMsn + 1, part: partial.length - 1 };
  return { msn: lastMsn, part: Math.max(1, last.parts?.length ?? 1) - 1 };
}

/** Whether the view holds segment `msn` (and its part `part`, when given). */
export function holds(t: TrackView, msn: number, part?: number): boolean {
  const first = t.fragments[0];
  if (!first) return false;
  const lastMsn = first.sequence + t.fragments.length - 1;
  if (msn <= lastMsn) {
    if (part === undefined) return true;
    // A segment that left the window was complete; a part past a complete segment's end is the next one's first.
    const parts = t.fragments[msn - first.sequence]?.parts?.length ?? Infinity;
    return part < parts || holds(t, msn + 1, 0);
  }
  return msn === lastMsn + 1 && part !== undefined && part < (t.partial ?? []).length;
}

/**
 * Why a blocking request asks for too much (an immediate 400): a segment more than two after the playlist's
 * last, or a part of the last segment beyond the Advance Part Limit (3 / PART-TARGET parts when the part target
 * is under a second, else 3). `undefined` when it may wait.
 */
export function tooFarAhead(t: TrackView, d: DeliveryDirectives, partTarget: number): string | undefined {
  const edge = playlistEdge(t);
  if (!edge || d.msn === undefined) return undefined;
  if (d.msn > edge.msn + 2)
    return `_HLS_msn=${d.msn} is more than two segments after the last one (${edge.msn})`;
  const limit = partTarget < 1 ? Math.ceil(3 / partTarget) : 3;
  if (d.part !== undefined && d.msn === edge.msn && d.part > edge.part + limit)
    return `_HLS_part=${d.part} is more than ${limit} parts after the last one (${edge.part})`;
  return undefined;
}

function single(query: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = query[name];
  if (Array.isArray(v)) {
    if (v.length > 1) throw new DeliveryDirectiveError(`${name} is given ${v.length} times; give it once`);
    return v[0];
  }
  return v;
}

function integer(query: Record<string, string | string[] | undefined>, name: string): number | undefined {
  const v = single(query, name);
  if (v === undefined) return undefined;
  if (!/^\d{1,15}$/.test(v))
    throw new DeliveryDirectiveError(`${name} must be a whole number >= 0, got '${v}'`);
  return Number(v);
}
