/**
 * The dashboard for browsers on the LAN: the built renderer (renderer/dist) served by the admin listener at `/`.
 * The page and its assets are open (they hold no data); everything they call needs the admin credentials.
 */
import fs from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { appRoot } from '../lib/app-root.js';

export const dashboardDir = (): string => path.join(appRoot(), 'renderer', 'dist');

export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  // hls.js fetches the preview from the origin listener (another port); events come over a WebSocket.
  "connect-src 'self' http: https: ws: wss:",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The open paths: the page and the files of the built dashboard, as they are on disk (so `/assets/x.isml`, a
 * publishing point, is never mistaken for one), for GET and HEAD only.
 */
export function dashboardAssets(dir = dashboardDir()): (req: FastifyRequest) => boolean {
  let files = new Set<string>();
  try {
    files = new Set(fs.readdirSync(path.join(dir, 'assets')).map((f) => `/assets/${f}`));
  } catch {
    // not built: only the page's own paths are open (they answer how to build it)
  }
  return (req) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const p = req.url.split('?')[0] ?? '';
    return p === '/' || p === '/index.html' || p === '/favicon.svg' || p === '/favicon.ico' || files.has(p);
  };
}

export function registerDashboard(app: FastifyInstance, dir = dashboardDir()): void {
  if (!fs.existsSync(path.join(dir, 'index.html'))) {
    app.get('/', async (_req, reply) =>
      reply
        .type('text/plain; charset=utf-8')
        .send('The dashboard is not built: run `npm run build`. The control API is at /api/v1/.'),
    );
    return;
  }
  void app.register(fastifyStatic, {
    root: dir,
    prefix: '/',
    index: ['index.html'],
    wildcard: false,
    dotfiles: 'deny',
    setHeaders: (res) => {
      res.setHeader('Content-Security-Policy', DASHBOARD_CSP);
      res.setHeader('X-Content-Type-Options', 'nosniff');
      res.setHeader('Referrer-Policy', 'no-referrer');
      res.setHeader('Cache-Control', 'no-cache');
    },
  });
}
