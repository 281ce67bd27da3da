/**
 * One request upstream: GET `<scheme>://<origin>/<path>` with node's http/https (keep-alive agents), no redirect
 * followed, a timeout for the answer and for every pause in its body, a bound on the body's size, and no
 * connection to a private, loopback or link-local address unless that address itself is listed.
 */
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import zlib from 'node:zlib';
import { isPrivateAddress, type EdgeOrigin } from './edge-origins.js';

export type UpstreamFailureCode = 'TIMEOUT' | 'PRIVATE_ADDRESS' | 'TOO_LARGE' | 'NETWORK';

export class UpstreamFailure extends Error {
  constructor(
    readonly code: UpstreamFailureCode,
    message: string,
  ) {
    super(message);
  }
}

export interface UpstreamAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** Fetches one object upstream, whole. The edge's engine takes this as a function so tests can stand in. */
export type Upstream = (
  origin: EdgeOrigin,
  path: string,
  o: UpstreamRequestOptions,
) => Promise<UpstreamAnswer>;

export interface UpstreamRequestOptions {
  timeoutMs: number;
  maxBytes: number;
  /**
   * Told the status and headers as soon as they arrive, then each chunk of the body (an uncompressed one only):
   * so a body can be passed on while it arrives. The promise still resolves with the whole answer.
   */
  onHead?: (status: number, headers: http.IncomingHttpHeaders) => void;
  onData?: (chunk: Buffer) => void;
}

const agents = {
  http: new http.Agent({ keepAlive: true, maxSockets: 64 }),
  https: new https.Agent({ keepAlive: true, maxSockets: 64 }),
};

/** dns.lookup that refuses private addresses (a listed name must not lead into the LAN or to the machine). */
const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dns.lookup(hostname, options, (err, address, family) => {
    if (err) return callback(err, address as string, family);
    const all = Array.isArray(address) ? address.map((a) => a.address) : [address];
    const bad = all.find((a) => isPrivateAddress(a));
    if (bad !== undefined) {
      const e = new UpstreamFailure(
        'PRIVATE_ADDRESS',
        `${hostname} resolves to ${bad}, a private or loopback address: list that address itself to allow it`,
      ) as unknown as NodeJS.ErrnoException;
      return callback(e, address as string, family);
    }
    callback(null, address as string, family);
  });
};

export const fetchUpstream: Upstream = (origin, path, o) =>
  new Promise<UpstreamAnswer>((resolve, reject) => {
    const mod = origin.scheme === 'https' ? https : http;
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      req.destroy();
      reject(err instanceof UpstreamFailure ? err : new UpstreamFailure('NETWORK', err.message));
    };
    const req = mod.request(
      {
        host: origin.host,
        port: origin.port,
        path,
        method: 'GET',
        agent: agents[origin.scheme],
        headers: {
          host: origin.key,
          'user-agent': 'ecdn-appliance-edge',
          'accept-encoding': 'identity',
          accept: '*/*',
        },
        ...(origin.literal ? {} : { lookup: publicOnlyLookup }),
        ...(origin.scheme === 'https' ? { servername: origin.literal ? undefined : origin.host } : {}),
      },
      (res) => {
        const declared = Number(res.headers['content-length']);
        if (Number.isFinite(declared) && declared > o.maxBytes) {
          res.resume();
          return fail(
            new UpstreamFailure(
              'TOO_LARGE',
              `the object is ${declared} bytes, over the ${o.maxBytes} the edge takes`,
            ),
          );
        }
        const chunks: Buffer[] = [];
        let size = 0;
        const streamed = String(res.headers['content-encoding'] ?? 'identity').toLowerCase() === 'identity';
        if (streamed) o.onHead?.(res.statusCode ?? 502, res.headers);
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > o.maxBytes)
            return fail(
              new UpstreamFailure('TOO_LARGE', `the object is over the ${o.maxBytes} bytes the edge takes`),
            );
          chunks.push(c);
          if (streamed) o.onData?.(c);
        });
        res.on('error', fail);
        res.on('aborted', () =>
          fail(new UpstreamFailure('NETWORK', 'upstream closed the connection mid-body')),
        );
        res.on('end', () => {
          if (settled) return;
          if (!res.complete)
            return fail(new UpstreamFailure('NETWORK', 'upstream closed the connection mid-body'));
          let body = Buffer.concat(chunks, size);
          // Asked for identity; an upstream that compresses anyway is decoded, so playlists can be rewritten.
          const encoding = String(res.headers['content-encoding'] ?? 'identity').toLowerCase();
          try {
            if (encoding === 'gzip' || encoding === 'x-gzip')
              body = zlib.gunzipSync(body, { maxOutputLength: o.maxBytes });
            else if (encoding === 'deflate') body = zlib.inflateSync(body, { maxOutputLength: o.maxBytes });
            else if (encoding === 'br')
              body = zlib.brotliDecompressSync(body, { maxOutputLength: o.maxBytes });
            else if (encoding !== 'identity') throw new Error(`unsupported content-encoding ${encoding}`);
          } catch (err) {
            return fail(new UpstreamFailure('NETWORK', `cannot decode the body: ${(err as Error).message}`));
          }
          delete res.headers['content-encoding'];
          settled = true;
          resolve({ status: res.statusCode ?? 502, headers: res.headers, body });
        });
      },
    );
    req.setTimeout(o.timeoutMs, () =>
      fail(new UpstreamFailure('TIMEOUT', `no answer from ${origin.key} within ${o.timeoutMs} ms`)),
    );
    req.on('error', fail);
    req.end();
  });
