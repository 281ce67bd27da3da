/**
 * The control API over HTTP + WebSocket on the admin listener: one route per operation of the contract
 * (`CONTROL_ROUTES`), and the event stream. Browsers cannot set headers on a WebSocket, so a dashboard first
 * asks for a one-time ticket with its credentials (`POST /api/v1/events/ticket`), then connects to
 * `/api/v1/events?ticket=...` within 30 s. Scripts may connect with the Bearer header instead.
 */
import websocket from '@fastify/websocket';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CONTROL_ROUTES, type OperationName } from '../contract/contract.js';
import type { ControlEvents } from './control-events.js';
import fs from 'node:fs';
import { ARCHIVE_DOWNLOAD_PATH, type ControlService } from './control-service.js';
import { ControlFailure } from '../contract/contract.js';
import { randomToken } from '../lib/random-id.js';

export const EVENTS_PATH = '/api/v1/events';
export const TICKET_TTL_MS = 30_000;

/** One-time tickets for the event stream. */
export class EventTickets {
  private readonly tickets = new Map<string, number>();

  issue(now = Date.now()): { ticket: string; expiresIn: number } {
    for (const [t, exp] of this.tickets) if (exp <= now) this.tickets.delete(t);
    const ticket = randomToken(24);
    this.tickets.set(ticket, now + TICKET_TTL_MS);
    return { ticket, expiresIn: TICKET_TTL_MS / 1000 };
  }

  /** True once per issued, unexpired ticket. */
  redeem(ticket: string | undefined, now = Date.now()): boolean {
    if (!ticket) return false;
    const exp = this.tickets.get(ticket);
    this.tickets.delete(ticket);
    return exp !== undefined && exp > now;
  }
}

/** An archive download link (`publishingPoints.downloadLink`): a ticket stands in for credentials there too. */
const DOWNLOAD_PATH = new RegExp(`^${ARCHIVE_DOWNLOAD_PATH.replace(':entryId', '[^/?]+')}$`);

/** Whether this request may use a ticket instead of credentials (checked by the admin listener's hook). */
export function ticketOf(req: FastifyRequest): string | undefined {
  const path = req.url.split('?')[0] ?? '';
  if (req.method !== 'GET' || (path !== EVENTS_PATH && !DOWNLOAD_PATH.test(path))) return undefined;
  const t = (req.query as Record<string, unknown> | undefined)?.ticket;
  return typeof t === 'string' ? t : undefined;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export function registerControlHttp(
  app: FastifyInstance,
  o: { service: ControlService; events: ControlEvents; tickets: EventTickets },
): void {
  for (const [operation, route] of Object.entries(CONTROL_ROUTES) as Array<
    [OperationName, (typeof CONTROL_ROUTES)[OperationName]]
  >) {
    const hasBody = route.method !== 'GET' && route.method !== 'DELETE';
    app.route({
      method: route.method,
      url: route.path,
      handler: async (req, reply) => {
        const params = req.params as Record<string, string>;
        let request: unknown = Object.keys(params).length > 0 ? { ...params } : undefined;
        if (hasBody && req.body !== undefined && req.body !== null) {
          if (!isPlainObject(req.body))
            throw new ControlFailure(400, 'BAD_REQUEST', 'the body must be a JSON object');
          request = { ...req.body, ...params };
        }
        const handler = o.service.handlers[operation] as (r: unknown) => Promise<unknown>;
        const result = await handler(request);
        return reply.code('status' in route ? route.status : 200).send(result);
      },
    });
  }

  app.post(`${EVENTS_PATH}/ticket`, async () => o.tickets.issue());

  // "Download MP4": an archive range as one file (credentials, or the link's one-time ticket).
  app.get(ARCHIVE_DOWNLOAD_PATH, async (req, reply) => {
    const { entryId } = req.params as { entryId: string };
    const q = req.query as { from?: unknown; to?: unknown };
    const out = await o.service.exportArchive(entryId, q);
    const stream = fs.createReadStream(out.file);
    stream.once('close', out.cleanup);
    return reply
      .type('video/mp4')
      .header('Content-Disposition', `attachment; filename="${out.filename}"`)
      .header('Content-Length', fs.statSync(out.file).size)
      .header('Cache-Control', 'no-store')
      .send(stream);
  });

  void app.register(websocket, { options: { maxPayload: 4096 } });
  void app.register(async (scope) => {
    scope.get(EVENTS_PATH, { websocket: true }, (socket) => {
      const off = o.events.on((e) => {
        if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(e));
      });
      socket.on('close', off);
      socket.on('error', off);
      // The stream is one-way: anything a client sends is ignored.
      socket.on('message', () => undefined);
    });
  });
}
