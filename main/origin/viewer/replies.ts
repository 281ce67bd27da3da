/** The origin's plain-text error answers (404, 400, 503), the same for every viewer resource. */
import type { FastifyReply } from 'fastify';

export function notFound(reply: FastifyReply, reason: string): FastifyReply {
  return reply.code(404).type('text/plain').header('Cache-Control', 'no-cache').send(`404 ${reason}\n`);
}

export function badRequest(reply: FastifyReply, reason: string): FastifyReply {
  return reply.code(400).type('text/plain').send(`400 ${reason}\n`);
}

export function unavailable(reply: FastifyReply, reason: string): FastifyReply {
  return reply.code(503).type('text/plain').header('Cache-Control', 'no-store').send(`503 ${reason}\n`);
}
