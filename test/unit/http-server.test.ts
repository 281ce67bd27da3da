/** The listeners' shared options: request loggers are made on first use and still carry the request id. */
import { Writable } from 'node:stream';
import Fastify from 'fastify';
import { describe, expect, it, vi } from 'vitest';
import { applySocketLimits, listenerOptions, serverOptions } from '../../main/lib/http-server.js';
import { createLogger } from '../../main/lib/logger.js';
import http from 'node:http';
import net from 'node:net';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as never);
      done();
    },
  });
  return { lines, log: createLogger('info', stream) };
}

describe('request loggers', () => {
  it('log with the listener, the request id and redaction, and cost no child when nothing is logged', async () => {
    const { lines, log } = capture();
    const options = listenerOptions(log, 'origin');
    const listenerLog = options.loggerInstance;
    const child = vi.spyOn(listenerLog, 'child');
    const app = Fastify(options);
    app.get('/quiet', async () => 'ok');
    app.get('/loud', async (req) => {
      req.log.warn({ token: 'secret-token', n: 1 }, 'something to say');
      req.log.child({ part: 'x' }).error('from a child');
      expect(req.log.level).toBe('info');
      return 'ok';
    });
    await app.ready();
    const atStart = child.mock.calls.length;
    for (let i = 0; i < 5; i++) await app.inject({ url: '/quiet' });
    expect(child.mock.calls.length).toBe(atStart);
    await app.inject({ url: '/loud' });
    // The request's logger, then the child made from it (pino children inherit the spied method).
    expect(child.mock.calls.length).toBe(atStart + 2);
    await app.close();
    const warn = lines.find((l) => l.msg === 'something to say');
    expect(warn).toMatchObject({ listener: 'origin', n: 1, token: '[redacted]', level: 40 });
    expect(warn?.reqId).toEqual(expect.any(String));
    expect(lines.find((l) => l.msg === 'from a child')).toMatchObject({ part: 'x', reqId: warn?.reqId });
  });
});

describe('socket limits', () => {
  it('a peer that never finishes its headers, or goes silent, loses its socket', async () => {
    const limits = {
      headersTimeoutMs: 300,
      idleTimeoutMs: 600,
      keepAliveTimeoutMs: 100,
      maxConnections: 3,
      checkIntervalMs: 100,
    };
    const server = http.createServer(serverOptions(limits), (_req, res) => res.end('ok'));
    applySocketLimits(server, limits);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const closedAfter = (send: string) =>
      new Promise<number>((resolve) => {
        const t0 = Date.now();
        const s = net.connect(port, '127.0.0.1', () => s.write(send));
        s.on('data', () => undefined);
        s.on('error', () => undefined);
        s.on('close', () => resolve(Date.now() - t0));
      });
    try {
      // Headers trickled and never finished (slowloris): closed within about the headers timeout.
      expect(await closedAfter('GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ')).toBeLessThan(3_000);
      // Connected and silent: closed by the idle timeout.
      expect(await closedAfter('')).toBeLessThan(3_000);
      expect(server.maxConnections).toBe(3);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
