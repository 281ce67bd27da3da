/**
 * The origin listener's fast lane (main/lib/http-fast-lane.ts) on a real `http.Server`, spoken to with raw sockets:
 * what it answers from bytes at hand, what it passes to the request listener on the same connection, what it hands
 * to Node's own parser (and what Node then answers), the socket bounds it keeps, and requests meant to confuse it.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { Readable } from 'node:stream';
import { describe, expect, onTestFinished, test as base } from 'vitest';
import { createMetrics } from '../../main/api/metrics.js';
import { FastLane, type LaneAnswer } from '../../main/lib/http-fast-lane.js';
import { ViewerStats } from '../../main/origin/viewer-stats.js';
import { applySocketLimits, serverOptions, type SocketLimits } from '../../main/lib/http-server.js';

const LIMITS: SocketLimits = {
  headersTimeoutMs: 300,
  keepAliveTimeoutMs: 400,
  idleTimeoutMs: 800,
  maxConnections: 100,
  checkIntervalMs: 100,
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A request head as a client writes it. */
function head(method: string, url: string, ...lines: string[]): string {
  return `${method} ${url} HTTP/1.1\r\n${['Host: origin.test', ...lines].map((l) => `${l}\r\n`).join('')}\r\n`;
}
const get = (url: string, ...lines: string[]) => head('GET', url, ...lines);

/** `b` in pieces of `size` bytes (the last may be shorter). */
function* chunksOf(b: Buffer, size: number): Generator<Buffer> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

/** A body that is not all one byte, so a lost or repeated piece shows in its hash. */
function pattern(size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (i * 7 + (i >> 10)) % 251;
  return b;
}
const sha1 = (b: Buffer) => crypto.createHash('sha1').update(b).digest('hex');

const PLAYLIST = Buffer.from('#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\nf/1.m4s\n');
const BIG = pattern(1024 * 1024);
const PIPED = pattern(8 * 1024 * 1024);

/** One response as read off the wire. */
interface WireResponse {
  statusLine: string;
  status: number;
  /** Lower-case names (duplicates joined with ", "). */
  headers: Record<string, string>;
  /** The head exactly as sent, with its final CRLF CRLF. */
  rawHead: string;
  /** The body (decoded from chunks); kept whole up to 2 MB. */
  body: Buffer;
  bodyLength: number;
  bodySha1: string;
  /** The response's bytes exactly as sent (head, then body with any chunk framing), up to 2 MB. */
  raw: Buffer;
  /** When it was complete (Date.now()). */
  at: number;
}

const KEEP_BYTES = 2 * 1024 * 1024;

interface Reading {
  statusLine: string;
  status: number;
  headers: Record<string, string>;
  rawHead: string;
  mode: 'none' | 'length' | 'chunked' | 'close';
  remaining: number;
  body: Buffer[];
  raw: Buffer[];
  bodyLength: number;
  rawLength: number;
  hash: crypto.Hash;
}

/** A raw TCP client that splits what it reads into HTTP/1.1 responses. */
class Client {
  readonly socket: net.Socket;
  readonly responses: WireResponse[] = [];
  /** When the server closed the connection (Date.now()), once it has. */
  closedAt: number | undefined;
  /** Responses still to come to HEAD requests (no body). */
  headResponses = 0;
  private pending: Buffer = Buffer.alloc(0);
  private reading: Reading | undefined;
  private wake: Array<() => void> = [];

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.on('data', (d: Buffer) => {
      this.pending = this.pending.length ? Buffer.concat([this.pending, d]) : d;
      this.parse();
      this.changed();
    });
    this.socket.on('error', () => undefined);
    this.socket.on('close', () => {
      this.closedAt = Date.now();
      if (this.reading?.mode === 'close') this.complete();
      this.changed();
    });
  }

  connected(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!this.socket.connecting) resolve();
      this.socket.once('connect', () => resolve());
      this.socket.once('error', reject);
    });
  }

  write(data: string | Buffer): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Bytes read and not (yet) part of a complete response. */
  get unparsed(): number {
    return this.pending.length + (this.reading ? this.reading.rawLength + this.reading.rawHead.length : 0);
  }

  get closed(): boolean {
    return this.closedAt !== undefined;
  }

  /** Resolves once `n` responses are complete; fails if the connection closes first or after `timeoutMs`. */
  async read(n: number, timeoutMs = 5000): Promise<WireResponse[]> {
    await this.until(() => this.responses.length >= n || this.closed, timeoutMs, `${n} responses`);
    if (this.responses.length < n)
      throw new Error(
        `closed after ${this.responses.length} of ${n} responses (${this.unparsed} bytes left)`,
      );
    return this.responses.slice(0, n);
  }

  /** Resolves with when the server closed the connection. */
  async closing(timeoutMs = 5000): Promise<number> {
    await this.until(() => this.closed, timeoutMs, 'the connection to close');
    return this.closedAt as number;
  }

  async until(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what} (${this.responses.length} responses)`);
      // Woken by what the client reads; polled for what happens on the server's side.
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 10));
        this.wake.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  private changed(): void {
    const w = this.wake;
    this.wake = [];
    for (const f of w) f();
  }

  private parse(): void {
    for (;;) {
      if (!this.reading) {
        const end = this.pending.indexOf('\r\n\r\n');
        if (end < 0) return;
        const rawHead = this.pending.toString('latin1', 0, end + 4);
        this.pending = this.pending.subarray(end + 4);
        const [statusLine = '', ...lines] = rawHead.slice(0, -4).split('\r\n');
        const headers: Record<string, string> = {};
        for (const l of lines) {
          const colon = l.indexOf(':');
          const name = l.slice(0, colon).toLowerCase();
          const value = l.slice(colon + 1).trim();
          headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
        }
        const status = Number(statusLine.split(' ')[1]);
        let mode: Reading['mode'] = 'close';
        if (this.headResponses > 0 || status === 204 || status === 304) mode = 'none';
        else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) mode = 'chunked';
        else if (headers['content-length'] !== undefined) mode = 'length';
        if (this.headResponses > 0) this.headResponses--;
        this.reading = {
          statusLine,
          status,
          headers,
          rawHead,
          mode,
          remaining: Number(headers['content-length'] ?? 0),
          body: [],
          raw: [],
          bodyLength: 0,
          rawLength: 0,
          hash: crypto.createHash('sha1'),
        };
      }
      const r = this.reading;
      if (r.mode === 'none' || (r.mode === 'length' && r.remaining === 0)) {
        this.complete();
        continue;
      }
      if (r.mode === 'length') {
        const take = Math.min(r.remaining, this.pending.length);
        if (take === 0) return;
        this.body(r, this.pending.subarray(0, take), this.pending.subarray(0, take));
        this.pending = this.pending.subarray(take);
        r.remaining -= take;
        if (r.remaining > 0) return;
        this.complete();
        continue;
      }
      if (r.mode === 'close') {
        if (this.pending.length) this.body(r, this.pending, this.pending);
        this.pending = Buffer.alloc(0);
        return;
      }
      // Chunked: a chunk is taken once it is all here.
      const eol = this.pending.indexOf('\r\n');
      if (eol < 0) return;
      const size = parseInt(this.pending.toString('latin1', 0, eol), 16);
      const whole = eol + 2 + size + 2;
      if (this.pending.length < whole) return;
      this.body(r, this.pending.subarray(eol + 2, eol + 2 + size), this.pending.subarray(0, whole));
      this.pending = this.pending.subarray(whole);
      if (size === 0) this.complete();
    }
  }

  private body(r: Reading, data: Buffer, raw: Buffer): void {
    r.hash.update(data);
    if (r.bodyLength + data.length <= KEEP_BYTES) r.body.push(Buffer.from(data));
    if (r.rawLength + raw.length <= KEEP_BYTES) r.raw.push(Buffer.from(raw));
    r.bodyLength += data.length;
    r.rawLength += raw.length;
  }

  private complete(): void {
    const r = this.reading as Reading;
    this.reading = undefined;
    this.responses.push({
      statusLine: r.statusLine,
      status: r.status,
      headers: r.headers,
      rawHead: r.rawHead,
      body: Buffer.concat(r.body),
      bodyLength: r.bodyLength,
      bodySha1: r.hash.digest('hex'),
      raw: Buffer.concat([Buffer.from(r.rawHead, 'latin1'), ...r.raw]),
      at: Date.now(),
    });
  }
}

/** What the request listener was given, and what became of its response. */
interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  httpVersion: string;
  remoteAddress: string | undefined;
  body: string;
  /** 'res finish', 'res close', 'req end', 'req close', in the order they happened. */
  events: string[];
  req: http.IncomingMessage;
  res: http.ServerResponse;
}

interface Lane {
  server: http.Server;
  lane: FastLane;
  port: number;
  limits: SocketLimits;
  /** What the answer function has bytes for, by URL. */
  answers: Map<string, LaneAnswer>;
  /** The URLs the answer function was asked for. */
  asked: string[];
  /** The requests the listener was given, in order. */
  seen: Seen[];
  /** The server's side of each connection, in order. */
  sockets: net.Socket[];
  connect(): Promise<Client>;
  stop(): Promise<void>;
}

/**
 * A real server with the lane in front, on a free loopback port. The listener answers `/slow…` with five chunks
 * over 100 ms, never answers `/hold…`, and answers anything else, once it has read the body, with
 * `<method> <url> <body>`.
 */
async function startLane(limits: SocketLimits = LIMITS): Promise<Lane> {
  const seen: Seen[] = [];
  const server = http.createServer(serverOptions(limits), (req, res) => {
    const s: Seen = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      httpVersion: req.httpVersion,
      remoteAddress: req.socket.remoteAddress,
      body: '',
      events: [],
      req,
      res,
    };
    seen.push(s);
    for (const e of ['finish', 'close'] as const) res.on(e, () => s.events.push(`res ${e}`));
    req.on('close', () => s.events.push('req close'));
    if (s.url.startsWith('/hold')) return;
    if (s.url.startsWith('/block')) {
      // Holds the event loop, as a slow listener would.
      const until = Date.now() + 250;
      while (Date.now() < until);
    }
    if (s.url.startsWith('/piped')) {
      // 8 MB through pipe(): more than the socket takes at once, so the response's 'drain' must come.
      res.setHeader('Content-Length', PIPED.length);
      return void Readable.from(chunksOf(PIPED, 64 * 1024)).pipe(res);
    }
    if (s.url.startsWith('/slow')) {
      let i = 0;
      const next = (): void => {
        if (i === 5) return void res.end();
        res.write(`part${i++};`);
        setTimeout(next, 25);
      };
      return next();
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      s.events.push('req end');
      s.body = Buffer.concat(chunks).toString('latin1');
      const text = `${s.method} ${s.url} ${s.body}`;
      res.setHeader('Content-Type', 'text/plain');
      res.setHeader('Content-Length', Buffer.byteLength(text));
      res.end(text);
    });
  });
  applySocketLimits(server, limits);
  const answers = new Map<string, LaneAnswer>([
    [
      '/live/a.m3u8',
      {
        headers: {
          'Content-Type': 'application/vnd.apple.mpegurl',
          'Cache-Control': 'max-age=1',
          'Content-Length': PLAYLIST.length,
        },
        body: PLAYLIST,
      },
    ],
    ['/live/big.m4s', { headers: { 'Content-Type': 'video/mp4', 'Content-Length': BIG.length }, body: BIG }],
  ]);
  const asked: string[] = [];
  const lane = new FastLane(server, {
    answer: (req) => {
      asked.push(req.url);
      return answers.get(req.url);
    },
    limits,
  });
  const sockets: net.Socket[] = [];
  server.on('connection', (s: net.Socket) => sockets.push(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const clients: Client[] = [];
  return {
    server,
    lane,
    port,
    limits,
    answers,
    asked,
    seen,
    sockets,
    async connect() {
      const c = new Client(port);
      clients.push(c);
      await c.connected();
      return c;
    },
    async stop() {
      for (const c of clients) c.socket.destroy();
      lane.closeAll();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** A lane with other limits for this test, stopped when it ends. */
async function laneWith(limits: Partial<SocketLimits>): Promise<Lane> {
  const l = await startLane({ ...LIMITS, ...limits });
  onTestFinished(() => l.stop());
  return l;
}

const it = base.extend<{ l: Lane }>({
  // eslint-disable-next-line no-empty-pattern
  l: async ({}, use) => {
    const l = await startLane();
    await use(l);
    await l.stop();
  },
});

/** The lane's 200 for `answer`, byte for byte, with the `Date` it was sent with. */
function laneBytes(a: LaneAnswer, date: string, limits: SocketLimits): Buffer {
  const lines = Object.entries(a.headers).map(([k, v]) => `${k}: ${String(v)}\r\n`);
  const keepAlive = Math.floor(limits.keepAliveTimeoutMs / 1000);
  return Buffer.concat([
    Buffer.from(
      `HTTP/1.1 200 OK\r\n${lines.join('')}Date: ${date}\r\n` +
        `Connection: keep-alive\r\nKeep-Alive: timeout=${keepAlive}\r\n\r\n`,
      'latin1',
    ),
    a.body,
  ]);
}

const HTTP_DATE =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$/;

describe('answers from bytes at hand', () => {
  it('answers a plain GET with the status line, the answer headers, Date and keep-alive, and the body', async ({
    l,
  }) => {
    const c = await l.connect();
    const before = Date.now();
    c.write(get('/live/a.m3u8', 'Accept: */*', 'X-Playback-Session-Id: ABC'));
    const [r] = await c.read(1);
    expect(r?.statusLine).toBe('HTTP/1.1 200 OK');
    expect(r?.headers).toMatchObject({
      'content-type': 'application/vnd.apple.mpegurl',
      'cache-control': 'max-age=1',
      'content-length': String(PLAYLIST.length),
      connection: 'keep-alive',
      'keep-alive': `timeout=${Math.floor(LIMITS.keepAliveTimeoutMs / 1000)}`,
    });
    const date = r?.headers.date ?? '';
    expect(date).toMatch(HTTP_DATE);
    expect(Date.parse(date)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(Date.parse(date)).toBeLessThanOrEqual(Date.now());
    expect(r?.body.equals(PLAYLIST)).toBe(true);
    expect(r?.raw.equals(laneBytes(l.answers.get('/live/a.m3u8') as LaneAnswer, date, LIMITS))).toBe(true);
    // The answer function saw the request; the listener did not.
    expect(l.asked).toEqual(['/live/a.m3u8']);
    expect(l.seen).toEqual([]);
    expect(l.lane.counts).toMatchObject({ answered: 1, passed: 0, handedOff: 0 });
  });

  it('gives the answer function the request with lower-case header names', async ({ l }) => {
    let got: Record<string, unknown> | undefined;
    const answer = l.answers.get('/live/a.m3u8') as LaneAnswer;
    l.lane.opts.answer = (req) => {
      got = { method: req.method, url: req.url, ...req.headers };
      return answer;
    };
    const c = await l.connect();
    c.write(get('/live/a.m3u8', 'X-Playback-Session-Id: ABC', 'User-Agent:   AppleCoreMedia/1.0  '));
    expect((await c.read(1))[0]?.status).toBe(200);
    expect(got).toEqual({
      method: 'GET',
      url: '/live/a.m3u8',
      host: 'origin.test',
      'x-playback-session-id': 'ABC',
      'user-agent': 'AppleCoreMedia/1.0',
    });
  });

  it('sends a 1 MB answer whole, and the same headers as Node writes for keep-alive', async ({ l }) => {
    const c = await l.connect();
    c.write(get('/live/big.m4s'));
    c.write(get('/miss/x'));
    const [hit, miss] = await c.read(2);
    expect(hit?.status).toBe(200);
    expect(hit?.bodyLength).toBe(BIG.length);
    expect(hit?.bodySha1).toBe(sha1(BIG));
    expect(
      hit?.raw.equals(
        laneBytes(l.answers.get('/live/big.m4s') as LaneAnswer, hit.headers.date ?? '', LIMITS),
      ),
    ).toBe(true);
    // Node's own response on the same connection says the same about keep-alive.
    expect(miss?.body.toString()).toBe('GET /miss/x ');
    expect(miss?.headers.connection).toBe(hit?.headers.connection);
    expect(miss?.headers['keep-alive']).toBe(hit?.headers['keep-alive']);
    expect(l.lane.counts.answered).toBe(1);
    expect(c.unparsed).toBe(0);
  });
});

describe('requests passed to the listener', () => {
  it('gives the listener method, url, headers, address and version, on the same connection', async ({
    l,
  }) => {
    const c = await l.connect();
    c.write(get('/miss/a?x=1', 'Accept: text/plain', 'X-Custom-Thing: Value 1'));
    const [r] = await c.read(1);
    expect(r?.statusLine).toBe('HTTP/1.1 200 OK');
    expect(r?.body.toString()).toBe('GET /miss/a?x=1 ');
    expect(r?.headers.connection).toBe('keep-alive');
    const s = l.seen[0] as Seen;
    expect(s).toMatchObject({
      method: 'GET',
      url: '/miss/a?x=1',
      httpVersion: '1.1',
      remoteAddress: '127.0.0.1',
    });
    expect(s.headers).toEqual({ host: 'origin.test', accept: 'text/plain', 'x-custom-thing': 'Value 1' });
    expect(s.req.rawHeaders).toEqual([
      'Host',
      'origin.test',
      'Accept',
      'text/plain',
      'X-Custom-Thing',
      'Value 1',
    ]);
    expect(l.asked).toEqual(['/miss/a?x=1']);
    expect(l.lane.counts).toMatchObject({ answered: 0, passed: 1, handedOff: 0 });
    // One connection for both: the lane did not hand this one to Node's parser.
    c.write(get('/live/a.m3u8'));
    expect((await c.read(2))[1]?.body.equals(PLAYLIST)).toBe(true);
    expect(l.sockets).toHaveLength(1);
  });

  it('streams a chunked response written over 100 ms; the response closes after it finishes', async ({
    l,
  }) => {
    const c = await l.connect();
    const t0 = Date.now();
    c.write(get('/slow/1'));
    const [r] = await c.read(1);
    expect(r?.headers['transfer-encoding']).toBe('chunked');
    expect(r?.body.toString()).toBe('part0;part1;part2;part3;part4;');
    expect((r?.at ?? 0) - t0).toBeGreaterThanOrEqual(90);
    await c.until(() => (l.seen[0]?.events.length ?? 0) >= 2, 1000, "the response's close");
    expect(l.seen[0]?.events.filter((e) => e.startsWith('res'))).toEqual(['res finish', 'res close']);
  });

  it('gives a response piped from a stream its drain: 8 MB arrive whole, and the connection goes on', async ({
    l,
  }) => {
    const c = await l.connect();
    c.write(get('/piped/1') + get('/live/a.m3u8'));
    const [r, g] = await c.read(2);
    expect(r?.status).toBe(200);
    expect(r?.bodyLength).toBe(PIPED.length);
    expect(r?.bodySha1).toBe(sha1(PIPED));
    expect(g?.body.equals(PLAYLIST)).toBe(true);
  });

  it('answers HEAD with headers only, and the next response on the connection is intact', async ({ l }) => {
    const c = await l.connect();
    c.headResponses = 1;
    c.write(head('HEAD', '/miss/h'));
    c.write(get('/live/a.m3u8'));
    const [h, g] = await c.read(2);
    expect(h?.status).toBe(200);
    expect(h?.headers['content-length']).toBe(String('HEAD /miss/h '.length));
    expect(h?.raw.toString('latin1')).toBe(h?.rawHead);
    expect(g?.body.equals(PLAYLIST)).toBe(true);
    expect(c.unparsed).toBe(0);
    // HEAD is not a plain GET: the answer function is not asked.
    expect(l.asked).toEqual(['/live/a.m3u8']);
    expect(l.seen[0]?.method).toBe('HEAD');
  });

  it('passes ranges and validators to the listener, never to the answer function', async ({ l }) => {
    const c = await l.connect();
    c.write(get('/live/a.m3u8', 'Range: bytes=0-9'));
    c.write(get('/live/a.m3u8', 'If-None-Match: "abc"'));
    c.write(get('/live/a.m3u8', 'If-Modified-Since: Sat, 05 Dec 2026 10:00:00 GMT'));
    const rs = await c.read(3);
    expect(rs.map((r) => r.body.toString())).toEqual(Array(3).fill('GET /live/a.m3u8 '));
    expect(l.seen.map((s) => Object.keys(s.headers)[1])).toEqual([
      'range',
      'if-none-match',
      'if-modified-since',
    ]);
    expect(l.asked).toEqual([]);
    expect(l.lane.counts).toMatchObject({ answered: 0, passed: 3 });
  });

  it('answers a request with Connection: close through the listener, says so, and closes', async ({ l }) => {
    const c = await l.connect();
    c.write(get('/live/a.m3u8', 'Connection: close'));
    const [r] = await c.read(1);
    expect(r?.headers.connection).toBe('close');
    expect(r?.body.toString()).toBe('GET /live/a.m3u8 ');
    await c.closing(1000);
    expect(l.asked).toEqual([]);
  });

  it('emits close on a held response when the viewer resets the connection', async ({ l }) => {
    const c = await l.connect();
    c.write(get('/hold/1'));
    await c.until(() => l.seen.length === 1, 1000, 'the request');
    // As on Node, the request is aborted before the response's 'close' (a handler may ask which it was).
    const held = l.seen[0] as Seen;
    let abortedAtClose: boolean | undefined;
    held.res.once('close', () => (abortedAtClose = held.req.aborted && held.req.destroyed));
    const t0 = Date.now();
    c.socket.resetAndDestroy();
    await c.until(() => l.seen[0]?.events.includes('res close') === true, 1000, "the response's close");
    expect(Date.now() - t0).toBeLessThan(LIMITS.idleTimeoutMs / 2);
    expect(l.seen[0]?.events.filter((e) => e.startsWith('res'))).toEqual(['res close']);
    expect(abortedAtClose).toBe(true);
  });

  it('answers nothing after a response that closes the connection, even what is read in the same turn', async ({
    l,
  }) => {
    // More than one read (16 KB) at once: the request after the closing one is read before the socket shuts.
    const c = await l.connect();
    c.write(
      get('/miss/closing', 'Connection: close', `X-Pad: ${'p'.repeat(9000)}`) +
        get('/live/a.m3u8', `X-Pad: ${'p'.repeat(10000)}`),
    );
    await c.closing(3000);
    expect(c.responses.map((r) => r.body.toString())).toEqual(['GET /miss/closing ']);
    expect(l.lane.counts.answered).toBe(0);
  });

  it('closes only for the token close: "Connection: x-close" keeps the connection, as Node reads it', async ({
    l,
  }) => {
    const c = await l.connect();
    c.write(
      head('GET', '/live/a.m3u8', 'Connection: x-close') + head('GET', '/miss/1', 'Connection: x-close'),
    );
    const [a, m] = await c.read(2);
    expect(a?.body.equals(PLAYLIST)).toBe(true);
    expect(a?.headers.connection).toBe('keep-alive');
    expect(m?.headers.connection).toBe('keep-alive');
    expect(l.asked).toEqual(['/live/a.m3u8', '/miss/1']);
    expect(c.closed).toBe(false);
  });

  it("emits close on a held response as soon as the viewer closes (FIN), as Node's does", async ({ l }) => {
    // A browser closing a tab sends FIN. Node's server (httpAllowHalfOpen false) aborts the request and ends the
    // socket; so does the lane, or a held blocking reload would stay held until the idle timeout (120 s live).
    const c = await l.connect();
    c.write(get('/hold/1'));
    await c.until(() => l.seen.length === 1, 1000, 'the request');
    const t0 = Date.now();
    c.socket.end();
    await c.until(() => l.seen[0]?.events.includes('res close') === true, 2000, "the response's close");
    expect(Date.now() - t0).toBeLessThan(LIMITS.idleTimeoutMs / 2);
  });

  it("a passed request emits 'end' and 'close' like Node's own (Fastify's request.signal needs 'close')", async ({
    l,
  }) => {
    // Node's connection handler dumps an unread request when its response finishes, and destroys it when the
    // viewer leaves; so does the lane, or the request would never end or close.
    l.server.removeAllListeners('request');
    const events: string[] = [];
    l.server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      req.on('end', () => events.push(`end ${req.url}`));
      req.on('close', () => events.push(`close ${req.url}`));
      if (req.url !== '/hold/1') res.end('done');
    });
    const c = await l.connect();
    c.write(get('/miss/1'));
    await c.read(1);
    c.write(get('/hold/1'));
    await c.until(() => l.lane.counts.passed === 2, 1000, 'the held request');
    c.socket.destroy();
    await sleep(100);
    expect(events).toEqual(['end /miss/1', 'close /miss/1', 'close /hold/1']);
  });
});

describe('pipelining and keep-alive', () => {
  it('answers hit, slow miss, hit, miss in order, byte for byte', async ({ l }) => {
    const c = await l.connect();
    c.write(get('/live/a.m3u8') + get('/slow/2') + get('/live/big.m4s') + get('/miss/3'));
    const rs = await c.read(4);
    const a = l.answers.get('/live/a.m3u8') as LaneAnswer;
    const big = l.answers.get('/live/big.m4s') as LaneAnswer;
    expect(rs[0]?.raw.equals(laneBytes(a, rs[0].headers.date ?? '', LIMITS))).toBe(true);
    expect(rs[1]?.body.toString()).toBe('part0;part1;part2;part3;part4;');
    expect(rs[2]?.raw.equals(laneBytes(big, rs[2].headers.date ?? '', LIMITS))).toBe(true);
    expect(rs[3]?.body.toString()).toBe('GET /miss/3 ');
    await sleep(50);
    expect(c.responses).toHaveLength(4);
    expect(c.unparsed).toBe(0);
    expect(l.lane.counts).toMatchObject({ answered: 2, passed: 2, handedOff: 0 });
  });

  it('keeps one connection for many requests, one after another', async ({ l }) => {
    const c = await l.connect();
    for (let i = 0; i < 60; i++) {
      c.write(i % 3 === 2 ? get(`/miss/${i}`) : get('/live/a.m3u8'));
      const r = (await c.read(i + 1))[i];
      expect(r?.body.toString()).toBe(i % 3 === 2 ? `GET /miss/${i} ` : PLAYLIST.toString());
    }
    expect(l.sockets).toHaveLength(1);
    expect(c.closed).toBe(false);
    expect(l.lane.counts).toMatchObject({ answered: 40, passed: 20 });
  });

  it('answers 2000 tiny requests pipelined in one write, in order', async ({ l }) => {
    for (let i = 0; i < 2000; i++)
      l.answers.set(`/t/${i}`, {
        headers: { 'Content-Length': String(i).length },
        body: Buffer.from(String(i)),
      });
    const c = await l.connect();
    const all = Array.from({ length: 2000 }, (_, i) => get(`/t/${i}`)).join('');
    c.write(all);
    const rs = await c.read(2000);
    expect(rs.map((r) => r.body.toString())).toEqual(Array.from({ length: 2000 }, (_, i) => String(i)));
    expect(l.lane.counts.answered).toBe(2000);
    expect(c.unparsed).toBe(0);
  });
});

describe('one read buffer for every connection', () => {
  // Each connection reads into the same buffer: what one keeps past a read must survive the others' reads.
  const other = (i: number) => get(`/miss/${String(i).repeat(300)}`);

  it('keeps the first part of a head split across reads while other connections read', async ({ l }) => {
    const a = await l.connect();
    const b = await l.connect();
    a.write('GET /miss/split HTTP/1.1\r\nHost: origin.test\r\nX-Part: on');
    await sleep(30);
    b.write(other(1) + other(2));
    await b.read(2);
    a.write('e\r\n\r\n');
    expect((await a.read(1))[0]?.body.toString()).toBe('GET /miss/split ');
    expect(l.seen.find((s) => s.url === '/miss/split')?.headers['x-part']).toBe('one');
  });

  it('keeps requests pipelined behind a response being written while other connections read', async ({
    l,
  }) => {
    const a = await l.connect();
    const b = await l.connect();
    a.write(get('/slow/1') + get('/miss/after', 'X-Kept: yes'));
    await sleep(20);
    for (let i = 3; i < 8; i++) {
      b.write(other(i));
      await b.read(i - 2);
    }
    const rs = await a.read(2);
    expect(rs.map((r) => r.body.toString())).toEqual(['part0;part1;part2;part3;part4;', 'GET /miss/after ']);
    expect(l.seen.find((s) => s.url === '/miss/after')?.headers['x-kept']).toBe('yes');
  });

  it('hands Node the unread bytes of a connection intact after other connections read', async ({ l }) => {
    const a = await l.connect();
    const b = await l.connect();
    a.write(get('/live/a.m3u8') + head('POST', '/api/up', 'Content-Length: 10') + 'hello');
    await a.read(1);
    b.write(other(8) + other(9));
    await b.read(2);
    a.write('world');
    expect((await a.read(2))[1]?.body.toString()).toBe('POST /api/up helloworld');
    expect(l.lane.counts).toMatchObject({ answered: 1, handedOff: 1 });
  });
});

describe('hand-off to Node', () => {
  /** Sends `request` alone on a fresh connection; resolves with what came back (the connection closed or not). */
  async function alone(l: Lane, request: string | Buffer, n = 1): Promise<{ c: Client; rs: WireResponse[] }> {
    const c = await l.connect();
    c.write(request);
    return { c, rs: await c.read(n) };
  }

  it('gives a POST body to the listener, and Node answers the GETs after it on that connection', async ({
    l,
  }) => {
    const { c, rs } = await alone(
      l,
      head('POST', '/api/purge', 'Content-Length: 11', 'Content-Type: text/plain') +
        'hello world' +
        get('/live/a.m3u8') +
        get('/live/a.m3u8'),
      3,
    );
    expect(rs.map((r) => r.body.toString())).toEqual([
      'POST /api/purge hello world',
      'GET /live/a.m3u8 ',
      'GET /live/a.m3u8 ',
    ]);
    expect(l.seen[0]?.headers['content-length']).toBe('11');
    expect(l.asked).toEqual([]);
    expect(l.lane.counts).toMatchObject({ answered: 0, passed: 0, handedOff: 1 });
    expect(c.closed).toBe(false);
  });

  it('hands off after answering what it understood: hit, then a chunked POST, then a GET', async ({ l }) => {
    const { rs } = await alone(
      l,
      get('/live/a.m3u8') +
        head('POST', '/api/up', 'Transfer-Encoding: chunked') +
        '5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n' +
        get('/live/a.m3u8'),
      3,
    );
    expect(rs[0]?.body.equals(PLAYLIST)).toBe(true);
    expect(rs.slice(1).map((r) => r.body.toString())).toEqual([
      'POST /api/up hello world',
      'GET /live/a.m3u8 ',
    ]);
    expect(l.asked).toEqual(['/live/a.m3u8']);
    expect(l.lane.counts).toMatchObject({ answered: 1, handedOff: 1 });
  });

  it('hands HTTP/1.0, duplicate headers and obs-fold to Node', async ({ l }) => {
    const h10 = await alone(l, 'GET /live/a.m3u8 HTTP/1.0\r\nHost: origin.test\r\n\r\n');
    expect(h10.rs[0]?.body.toString()).toBe('GET /live/a.m3u8 ');
    expect(l.seen[0]?.httpVersion).toBe('1.0');
    await h10.c.closing(1000);

    const dup = await alone(l, get('/live/a.m3u8', 'X-Dup: 1', 'x-dup: 2'));
    expect(dup.rs[0]?.body.toString()).toBe('GET /live/a.m3u8 ');
    expect(l.seen[1]?.headers['x-dup']).toBe('1, 2');

    // obs-fold: Node refuses it.
    const fold = await alone(l, get('/live/a.m3u8', 'X-Fold: a', ' b'));
    expect(fold.rs[0]?.status).toBe(400);
    await fold.c.closing(1000);

    expect(l.asked).toEqual([]);
    expect(l.lane.counts).toMatchObject({ answered: 0, passed: 0, handedOff: 3 });
  });

  it('hands malformed heads to Node, which answers 400 (or 431), and never answers them itself', async ({
    l,
  }) => {
    const bad: Array<[string, string | Buffer, number]> = [
      ['bare CR in a value', get('/live/a.m3u8', 'X-A: a\rb'), 400],
      ['NUL in a value', get('/live/a.m3u8', 'X-A: a\0b'), 400],
      ['LF inside a CRLF head', 'GET /live/a.m3u8 HTTP/1.1\r\nHost: origin.test\nX-A: b\r\n\r\n', 400],
      ['no Host', 'GET /live/a.m3u8 HTTP/1.1\r\nAccept: */*\r\n\r\n', 400],
      ['space before the colon', get('/live/a.m3u8', 'Content-Length : 5'), 400],
      ['a head over 16 KB', get('/live/a.m3u8', `X-Big: ${'x'.repeat(17 * 1024)}`), 431],
      [
        'a head over 16 KB still coming',
        get('/live/a.m3u8', `X-Big: ${'x'.repeat(17 * 1024)}`).slice(0, -4),
        431,
      ],
    ];
    for (const [what, request, status] of bad) {
      const { c, rs } = await alone(l, request);
      expect(rs[0]?.status, what).toBe(status);
      await c.closing(1000);
    }
    expect(l.seen).toEqual([]);
    expect(l.asked).toEqual([]);
    expect(l.lane.counts).toMatchObject({ answered: 0, passed: 0, handedOff: bad.length });
  });

  it('never answers a smuggling attempt from its bytes, nor what is smuggled', async ({ l }) => {
    const smuggled = get('/live/a.m3u8');
    const attempts = [
      head('POST', '/x', `Content-Length: ${smuggled.length + 5}`, 'Transfer-Encoding: chunked') +
        '0\r\n\r\n' +
        smuggled,
      head('GET', '/live/a.m3u8', 'Content-Length: 0', 'Transfer-Encoding: chunked') + '0\r\n\r\n' + smuggled,
      head('POST', '/x', 'Content-Length: 0', `Content-Length: ${smuggled.length}`) + smuggled,
      head('GET', '/live/a.m3u8', 'Transfer-Encoding: chunked', 'Transfer-Encoding: identity') + smuggled,
      head('GET', '/live/a.m3u8', 'Transfer-Encoding: x', 'Content-Length: 0') + smuggled,
    ];
    for (const request of attempts) {
      const { c, rs } = await alone(l, request);
      expect(rs[0]?.status, request).toBe(400);
      await c.closing(1000);
      expect(c.responses, request).toHaveLength(1);
      expect(c.unparsed, request).toBe(0);
    }
    expect(l.seen).toEqual([]);
    expect(l.asked).toEqual([]);
    expect(l.lane.counts).toMatchObject({ answered: 0, handedOff: attempts.length });
  });

  it('hands __proto__ headers and absolute-form targets to Node; the answer function never sees them', async ({
    l,
  }) => {
    const c = await l.connect();
    c.write(get('/live/a.m3u8', '__proto__: {"polluted":1}'));
    c.write('GET http://origin.test/live/a.m3u8 HTTP/1.1\r\nHost: origin.test\r\n\r\n');
    const rs = await c.read(2);
    expect(rs.map((r) => r.body.toString())).toEqual([
      'GET /live/a.m3u8 ',
      'GET http://origin.test/live/a.m3u8 ',
    ]);
    expect(l.asked).toEqual([]);
    expect(l.lane.counts.handedOff).toBe(1);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const d = await l.connect();
    d.write('GET http://origin.test/live/a.m3u8 HTTP/1.1\r\nHost: origin.test\r\n\r\n');
    expect((await d.read(1))[0]?.body.toString()).toBe('GET http://origin.test/live/a.m3u8 ');
    expect(l.asked).toEqual([]);
    expect(l.lane.counts.handedOff).toBe(2);
  });

  it("answers requests whose header names are Object.prototype's", async ({ l }) => {
    let headers: Record<string, string> | undefined;
    const answer = l.answers.get('/live/a.m3u8') as LaneAnswer;
    l.lane.opts.answer = (req) => {
      headers = { ...req.headers };
      return req.url === '/live/a.m3u8' ? answer : undefined;
    };
    const c = await l.connect();
    c.write(get('/live/a.m3u8', 'constructor: a', 'hasOwnProperty: b', 'toString: c', 'valueOf: d'));
    expect((await c.read(1))[0]?.body.equals(PLAYLIST)).toBe(true);
    expect(headers).toMatchObject({ constructor: 'a', hasownproperty: 'b', tostring: 'c', valueof: 'd' });
    c.write(get('/miss/p', 'constructor: a', 'hasOwnProperty: b'));
    expect((await c.read(2))[1]?.body.toString()).toBe('GET /miss/p ');
    expect(l.seen[0]?.headers).toMatchObject({ constructor: 'a', hasownproperty: 'b' });
  });

  it('hands unknown methods and CONNECT to Node (400 / closed), not to the listener', async ({ l }) => {
    // Node's parser knows only http.METHODS, and CONNECT is never a `request` event: the lane takes only those
    // methods and hands the rest to Node.
    const foo = await l.connect();
    foo.write(head('FOO', '/live/a.m3u8'));
    expect((await foo.read(1))[0]?.status).toBe(400);
    const connect = await l.connect();
    connect.write(head('CONNECT', '/live/a.m3u8'));
    await connect.closing(1000);
    expect(connect.responses).toEqual([]);
    expect(l.seen).toEqual([]);
  });

  it('a head with LF-only line endings is refused at once (400), not after the header timeout', async ({
    l,
  }) => {
    const c = await l.connect();
    const t0 = Date.now();
    c.write('GET /live/a.m3u8 HTTP/1.1\nHost: origin.test\n\n');
    const [r] = await c.read(1);
    expect(r?.status).toBe(400);
    expect(Date.now() - t0).toBeLessThan(LIMITS.headersTimeoutMs / 2);
  });
});

describe('socket bounds', () => {
  it('answers a head still incomplete at the header timeout with 408, and closes', async ({ l }) => {
    const c = await l.connect();
    const t0 = Date.now();
    c.write('GET /live/a.m3u8 HTTP/1.1\r\nHost: origin.test\r\nX-Slow: ');
    // Trickled on (slowloris): the deadline is from the head's start, not from the last byte.
    for (let i = 0; i < 4; i++) {
      await sleep(60);
      c.write('x');
    }
    const [r] = await c.read(1, 3000);
    expect(r?.statusLine).toBe('HTTP/1.1 408 Request Timeout');
    expect(r?.headers.connection).toBe('close');
    const closed = (await c.closing(3000)) - t0;
    expect(closed).toBeGreaterThanOrEqual(LIMITS.headersTimeoutMs - 20);
    expect(closed).toBeLessThan(LIMITS.headersTimeoutMs + 1500);
    expect(l.seen).toEqual([]);
  });

  it('closes a connection that never sends anything', async ({ l }) => {
    const c = await l.connect();
    const t0 = Date.now();
    const closed = (await c.closing(3000)) - t0;
    expect(closed).toBeGreaterThanOrEqual(LIMITS.headersTimeoutMs - 20);
    expect(closed).toBeLessThan(LIMITS.idleTimeoutMs + 1500);
    expect(l.lane.size).toBe(0);
  });

  it('closes an idle keep-alive connection after the keep-alive timeout', async ({ l }) => {
    const c = await l.connect();
    c.write(get('/live/a.m3u8'));
    const [r] = await c.read(1);
    const idle = (await c.closing(3000)) - (r?.at ?? 0);
    // As Node's server: a second more than `Keep-Alive: timeout=` says, so a client reusing it then meets no reset.
    expect(idle).toBeGreaterThanOrEqual(LIMITS.keepAliveTimeoutMs + 1000 - 20);
    expect(idle).toBeLessThan(LIMITS.keepAliveTimeoutMs + 2000);
    expect(c.responses).toHaveLength(1);
  });

  it('counts the keep-alive timeout from the answer even when the event loop was held before reading it', async ({
    l,
  }) => {
    const b = await l.connect();
    const c = await l.connect();
    // B's listener holds the event loop for 250 ms, while C's request waits to be read in the same turn.
    b.write(get('/block'));
    c.write(get('/live/a.m3u8'));
    const [r] = await c.read(1);
    await b.read(1);
    const idle = (await c.closing(3000)) - (r?.at ?? 0);
    expect(idle).toBeGreaterThanOrEqual(LIMITS.keepAliveTimeoutMs + 1000 - 20);
  });

  it('closes a connection whose listener never answers, after the idle timeout', async ({ l }) => {
    const c = await l.connect();
    const t0 = Date.now();
    c.write(get('/hold/2'));
    const closed = (await c.closing(3000)) - t0;
    expect(closed).toBeGreaterThanOrEqual(LIMITS.idleTimeoutMs - 50);
    expect(closed).toBeLessThan(LIMITS.idleTimeoutMs + 1500);
    expect(c.responses).toEqual([]);
  });

  it('closes the connection once the answers are sent after the viewer half-closes it', async () => {
    // Node's server ends its side when the peer's FIN arrives and nothing is outstanding; so does the lane, rather
    // than keep the socket until the keep-alive timeout.
    const l = await laneWith({ keepAliveTimeoutMs: 1500, idleTimeoutMs: 3000 });
    const c = await l.connect();
    c.write(get('/live/a.m3u8'));
    c.socket.end();
    const rs = await c.read(1);
    expect(rs[0]?.body.equals(PLAYLIST)).toBe(true);
    const closed = (await c.closing(5000)) - (rs[0]?.at ?? 0);
    expect(closed).toBeLessThan(700);
  });
});

describe('back-pressure', () => {
  it('stops answering a reader that does not read, and then delivers every answer whole', async () => {
    const l = await laneWith({ keepAliveTimeoutMs: 3000, idleTimeoutMs: 6000 });
    const c = await l.connect();
    c.socket.pause();
    c.write(get('/live/big.m4s').repeat(200));
    let most = 0;
    for (let i = 0; i < 8; i++) {
      await sleep(25);
      most = Math.max(most, l.sockets[0]?.writableLength ?? 0);
    }
    // One answer in the socket's buffer at a time, not 200 MB.
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThan(4 * 1024 * 1024);
    expect(l.lane.counts.answered).toBeLessThan(20);
    c.socket.resume();
    const rs = await c.read(200, 20_000);
    const digest = sha1(BIG);
    expect(
      rs.filter((r) => r.status === 200 && r.bodyLength === BIG.length && r.bodySha1 === digest),
    ).toHaveLength(200);
    expect(l.lane.counts.answered).toBe(200);
    expect(c.unparsed).toBe(0);
  });

  it('holds at most 32 KB of what a peer that never reads sends, and answers it all once it reads', async () => {
    const l = await laneWith({ keepAliveTimeoutMs: 3000, idleTimeoutMs: 6000 });
    const c = await l.connect();
    c.socket.pause();
    // 256 KB of pipelined requests, each answered with 1 MB.
    const request = get('/live/big.m4s', `X-Pad: ${'p'.repeat(1000)}`);
    const n = Math.ceil((256 * 1024) / request.length);
    c.write(request.repeat(n));
    let most = 0;
    for (let i = 0; i < 10; i++) {
      await sleep(30);
      most = Math.max(most, l.lane.unreadBytes);
    }
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(32 * 1024);
    c.socket.resume();
    const rs = await c.read(n, 30_000);
    expect(rs.filter((r) => r.status === 200 && r.bodyLength === BIG.length)).toHaveLength(n);
    expect(l.lane.unreadBytes).toBe(0);
  });

  it('keeps small and large answers in order for a reader that stalls and then reads', async () => {
    // Small answers are written straight to the socket when nothing waits before them; behind a large one still
    // being written, or when the kernel takes no more, they must queue behind it.
    const l = await laneWith({ keepAliveTimeoutMs: 3000, idleTimeoutMs: 6000 });
    const c = await l.connect();
    c.socket.pause();
    c.write((get('/live/a.m3u8').repeat(3000) + get('/live/big.m4s')).repeat(4));
    await sleep(200);
    c.socket.resume();
    const rs = await c.read(4 * 3001, 20_000);
    const expected = Array.from({ length: 4 * 3001 }, (_, i) =>
      (i + 1) % 3001 === 0 ? sha1(BIG) : sha1(PLAYLIST),
    );
    expect(rs.map((r) => (r.status === 200 ? r.bodySha1 : r.statusLine))).toEqual(expected);
    expect(c.unparsed).toBe(0);
  });

  it('keeps a reader that pauses longer than the keep-alive timeout (but not the idle timeout) mid-answer', async () => {
    // Node applies the idle timeout while a response is being written; so does the lane while its own answers
    // wait for the reader (the keep-alive timeout would cut the viewer off mid-answer).
    const l = await laneWith({ keepAliveTimeoutMs: 400, idleTimeoutMs: 4000 });
    const c = await l.connect();
    c.socket.pause();
    c.write(get('/live/big.m4s').repeat(20));
    // Long enough for the send buffers to fill and the socket to be silent for more than the keep-alive timeout.
    await sleep(1500);
    c.socket.resume();
    const rs = await c.read(20, 10_000);
    expect(rs.every((r) => r.bodyLength === BIG.length)).toBe(true);
  });
});

describe('counters', () => {
  it('reports what it answered, passed and handed off, and what it holds, in /metrics', async ({ l }) => {
    const c = await l.connect();
    c.write(get('/live/a.m3u8') + get('/miss/1') + get('/live/a.m3u8'));
    await c.read(3);
    const h = await l.connect();
    h.write('GET /live/a.m3u8 HTTP/1.0\r\nHost: origin.test\r\n\r\n');
    await h.read(1);
    const text = await createMetrics(new ViewerStats(), { fastLane: l.lane }).metrics();
    expect(text).toMatch(/^ecdn_origin_fast_lane_answers 2$/m);
    expect(text).toMatch(/^ecdn_origin_fast_lane_passed 1$/m);
    expect(text).toMatch(/^ecdn_origin_fast_lane_handed_off 1$/m);
    expect(text).toMatch(/^ecdn_origin_fast_lane_connections 1$/m);
    expect(text).toMatch(/^ecdn_origin_fast_lane_unread_bytes 0$/m);
  });
});

describe('closing', () => {
  it('closeAll() ends the connections the lane holds; closeAllConnections() those it handed off', async ({
    l,
  }) => {
    const idle = await l.connect();
    idle.write(get('/live/a.m3u8'));
    await idle.read(1);
    const held = await l.connect();
    held.write(get('/hold/3'));
    const partial = await l.connect();
    partial.write('GET /live/a.m3u8 HTTP/1.1\r\nHo');
    // Handed to Node mid-body: not idle, so server.close() alone does not close it.
    const handed = await l.connect();
    handed.write(head('POST', '/api/x', 'Content-Length: 10') + 'hello');
    await idle.until(() => l.seen.length === 2 && l.lane.counts.handedOff === 1, 1000, 'the requests');
    expect(l.lane.size).toBe(3);

    let serverClosed = false;
    l.server.close(() => (serverClosed = true));
    l.lane.closeAll();
    for (const c of [idle, held, partial]) await c.closing(1000);
    expect(l.lane.size).toBe(0);
    await sleep(50);
    expect(handed.closed).toBe(false);
    expect(serverClosed).toBe(false);

    l.server.closeAllConnections();
    await handed.closing(1000);
    await idle.until(() => serverClosed, 1000, 'server.close()');
    expect(l.seen[0]?.events.filter((e) => e.startsWith('res'))).toEqual(['res close']);
  });
});
