/** `POST .../purge?t=`: removes archived fragments of a publishing point, with admin credentials. */
import type { FastifyInstance } from 'fastify';
import { parsePurgeTime, PurgeTimeError, type PurgeSpec } from '../purge-time.js';
import { badRequest, notFound } from './replies.js';
import type { IsAdmin, PpLookup } from './viewer-deps.js';

export interface PurgeDeps {
  lookup: PpLookup;
  isAdmin: IsAdmin;
  /** Purges the publishing point's archive (`PublishingPoints.purge`): how many fragments went. */
  purge: (pp: string, spec: PurgeSpec) => Promise<number>;
}

export function registerPurge(app: FastifyInstance, o: PurgeDeps): void {
  app.post('/*', async (req, reply) => {
    const found = o.lookup(req);
    if (!found || found.rest !== 'purge') return notFound(reply, 'unknown resource');
    if (!o.isAdmin(req)) {
      return reply
        .code(401)
        .header('WWW-Authenticate', 'Bearer realm="ecdn-admin"')
        .type('text/plain')
        .send('401 purge needs admin credentials\n');
    }
    let spec;
    try {
      spec = parsePurgeTime((req.query as Record<string, string | undefined>).t);
    } catch (err) {
      if (err instanceof PurgeTimeError) return badRequest(reply, err.message);
      throw err;
    }
    const purged = await o.purge(found.pp.name, spec);
    return reply.type('text/plain').send(`purged ${purged} fragments\n`);
  });
}
