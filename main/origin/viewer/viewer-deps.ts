/** What the viewer resources share: the request they serve, the caches they consult, the admin check. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CachedManifest } from '../manifest-cache.js';
import type { ResolvedPpOptions } from '../publishing-point-options.js';
import type { PublishingPointRecord } from '../segment-index.js';

/** A request's publishing point and the virtual path after it (`tracks/...`, `.m3u8`, `state`, `purge`). */
export interface PpRequest {
  pp: PublishingPointRecord;
  rest: string;
}

/** A viewer request that passed access: its publishing point's options and what child URLs carry. */
export interface GrantedRequest extends PpRequest {
  opts: ResolvedPpOptions;
  /** The `?...` manifests append to every child URL (playout parameters, signature); '' when none. */
  urlSuffix: string;
}

/** The publishing point a request names, if it exists. */
export type PpLookup = (req: FastifyRequest) => PpRequest | undefined;

/** Whether a request may act as an operator (admin credentials, from an allowed address). */
export type IsAdmin = (req: FastifyRequest) => boolean;

/**
 * A resource of a publishing point: undefined (synchronously) when the path is not one of its own, so the
 * listener asks the next; else the answer.
 */
export type ViewerResource<T extends PpRequest = GrantedRequest> = (
  req: FastifyRequest,
  reply: FastifyReply,
  at: T,
) => FastifyReply | Promise<FastifyReply> | undefined;

/** Every cache a viewer resource consults, behind one interface. */
export interface ViewerCaches {
  /** A segment index lookup (publishing point, track, fragment by URL), kept while the index is unchanged. */
  indexed<T>(key: string, compute: () => T): T;
  /** A rendered manifest, if still right at this value of `SegmentIndex.writes`. */
  manifest(key: string, writes: number): CachedManifest | undefined;
  keepManifest(key: string, writes: number, m: CachedManifest): void;
  /** The bytes of a fragment or init segment held in memory. */
  fragment(file: string): Buffer | undefined;
  keepFragment(file: string, data: Buffer): void;
}
