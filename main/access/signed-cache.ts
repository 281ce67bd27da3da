/**
 * Caching of signed responses: a shared cache keys on the full URL, signature included, so it must not keep a
 * signed response past the signature's expiry, and must not share an IP-bound one at all (the cache cannot check
 * the viewer's address). Routes mark what they verified; one onSend hook rewrites Cache-Control.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

const verified = new WeakMap<FastifyRequest, { exp: number; ipBound: boolean }>();

/** The answer to a request a signature does not open: 403 with the reason, never cached. */
export function denySigned(reply: FastifyReply, v: { denial: string; reason: string }): FastifyReply {
  return reply
    .code(403)
    .header('X-Ecdn-Denied', v.denial)
    .header('Cache-Control', 'no-store')
    .type('text/plain')
    .send(`403 ${v.reason}\n`);
}

/** Remembers that `req` was authorised by a signature expiring at `exp` (unix seconds). */
export function markSigned(req: FastifyRequest, query: Record<string, string | string[] | undefined>): void {
  const exp = Number(query.exp);
  if (Number.isFinite(exp))
    verified.set(req, { exp, ipBound: typeof query.ip === 'string' && query.ip !== '' });
}

/** Rewrites Cache-Control of signed responses: max-age capped at the expiry; private when IP-bound. */
export function registerSignedCaching(app: FastifyInstance, now: () => number = Date.now): void {
  // Callback style (not async): it runs on every response of the origin, and a promise each costs.
  app.addHook('onSend', (req, reply, payload, done) => {
    const v = verified.get(req);
    if (v) {
      const left = Math.max(0, v.exp - Math.floor(now() / 1000));
      const current = String(reply.getHeader('cache-control') ?? '');
      const maxAge = Number(/max-age=(\d+)/.exec(current)?.[1] ?? 0);
      const age = Math.min(maxAge, left);
      reply.header('Cache-Control', `${v.ipBound ? 'private' : 'public'}, max-age=${age}`);
    }
    done(null, payload);
  });
}
