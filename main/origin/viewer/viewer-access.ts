/** Viewer access to manifests and media: signed URLs, and the query child URLs carry (playout, signature). */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { denySigned, markSigned } from '../../access/signed-cache.js';
import { clientAddress, verifyRequest } from '../../access/signed-url.js';
import type { SigningKey } from '../../access/signing-keys.js';
import type { AllowList } from '../../lib/ip-allow-list.js';
import type { PublishingPointRecord } from '../segment-index.js';
import { badRequest } from './replies.js';

/** Playout control parameters a master playlist carries into its media playlists. */
const PLAYOUT_PARAMS = ['dvr_window_length', 'time_shift', 'vbegin', 'vend'];

export interface ViewerAccessDeps {
  /** Viewer access of a publishing point: `secure` ones need a signed URL. */
  accessFor: (pp: string) => 'open' | 'secure';
  keys: { find(id: string): SigningKey | undefined };
  /** A secure publishing point's signature generation: signed URLs made in an older one were revoked. */
  signedGeneration: (pp: string) => number;
  /** Proxies whose X-Forwarded-For names the viewer. */
  trustedProxies: AllowList;
}

/**
 * The check before every manifest, init segment and fragment: the `?...` suffix child URLs carry ('' when
 * none), or the answer that denies the request.
 */
export type ViewerAccess = (
  req: FastifyRequest,
  reply: FastifyReply,
  pp: PublishingPointRecord,
) => string | FastifyReply;

export function viewerAccess(o: ViewerAccessDeps): ViewerAccess {
  return (req, reply, pp) => {
    // Secure access: every manifest, init segment and fragment needs a valid signature, which the manifests
    // then carry into every child URL (with the playout parameters), so players need nothing special.
    const query = req.query as Record<string, string | string[] | undefined>;
    const carried = new URLSearchParams();
    for (const k of PLAYOUT_PARAMS) if (typeof query[k] === 'string') carried.set(k, query[k] as string);
    let urlSuffix = carried.size > 0 ? `?${carried.toString()}` : '';
    if (o.accessFor(pp.name) === 'secure') {
      const url = req.raw.url ?? '/';
      const q = url.indexOf('?');
      const viewer = clientAddress(
        req.socket.remoteAddress,
        req.headers['x-forwarded-for'],
        o.trustedProxies,
      );
      let path: string;
      try {
        path = decodeURIComponent(q === -1 ? url : url.slice(0, q));
      } catch {
        return badRequest(reply, 'invalid URL encoding in the path');
      }
      const v = verifyRequest(o.keys, path, query, viewer, undefined, o.signedGeneration(pp.name));
      if (!v.ok) return denySigned(reply, v);
      urlSuffix = urlSuffix ? `${urlSuffix}&${v.suffix.replace(/^\?/, '')}` : v.suffix;
      markSigned(req, query);
    }
    return urlSuffix;
  };
}
