/**
 * The serving bench's reference for what Node itself can do: a bare `node:http` server answering the fixture's
 * paths from memory (each file read once at start), with the origin's headers and no routing, access checks or
 * statistics. Loaded like the origin and nginx, it shows which part of the gap to nginx is the origin's own work
 * and which is Node's (a copy of every body into the socket, where nginx hands the file to the kernel with
 * sendfile). Input (stdin JSON): {@link NodeStaticJob}; prints `{"port":N}` once listening, then serves until
 * killed.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { readInput } from './io.js';

export interface NodeStaticJob {
  /** Directory holding the files at their URL paths. */
  root: string;
  paths: string[];
}

const TYPES: Record<string, string> = {
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.m4s': 'video/iso.segment',
  '.mp4': 'video/mp4',
};

const job = await readInput<NodeStaticJob>();
const bodies = new Map<string, { body: Buffer; headers: http.OutgoingHttpHeaders }>();
for (const p of new Set(job.paths)) {
  const body = fs.readFileSync(path.join(job.root, decodeURIComponent(p)));
  bodies.set(p, {
    body,
    headers: {
      'Content-Type': TYPES[path.extname(p)] ?? 'application/octet-stream',
      'Content-Length': body.length,
      'Cache-Control': p.endsWith('.m3u8') ? 'public, max-age=1' : 'public, max-age=31536000, immutable',
      'Access-Control-Allow-Origin': '*',
    },
  });
}
const server = http.createServer((req, res) => {
  const found = bodies.get(req.url ?? '');
  if (!found) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, found.headers);
  res.end(found.body);
});
server.keepAliveTimeout = 75_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
