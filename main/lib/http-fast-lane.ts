/**
 * The fast lane: a connection handler in front of Node's `http.Server` that answers repeated requests from bytes
 * at hand, without Node's HTTP machinery.
 *
 * Why by hand: at viewer scale the same playlist and fragment URLs are asked for again and again, and what one such
 * answer costs is Node's parser, its request and response objects, and header serialisation: three times nginx's CPU
 * for a 1.5 KB playlist (README, "Benchmarks"). No library answers from prebuilt bytes on Node's own sockets. So for
 * each connection the lane reads request heads itself, and:
 *
 * - a request it fully understands, that `answer` has bytes for (a plain GET), is answered with one write of a status
 *   line and headers built once per answer and second, then the body;
 * - any other request it understands (no body, HTTP/1.1, strict syntax) goes to the server's `request` listeners on
 *   the same connection, with a real `IncomingMessage` and `ServerResponse` on the socket, exactly as Node's own
 *   connection handler makes them; the lane reads the next request when that response has finished;
 * - anything else (a body, `Transfer-Encoding`, `Upgrade`, `Expect`, HTTP/1.0, a duplicate header, obs-fold, a
 *   character outside the strict grammar, a head over 16 KB) is handed with the unread bytes to Node's own
 *   connection handler, which parses (or refuses) it and every later request on that connection.
 *
 * So the lane's parser only ever accepts a strict subset of what Node's accepts, and everything it does not answer
 * itself is answered by the server as before. It keeps Node's socket bounds: a head must arrive within the header
 * timeout (else 408), an idle keep-alive connection is closed, a reader that does not read stops the lane reading
 * its next request (pipelined requests cannot pile answers up in memory).
 */
import fs from 'node:fs';
import http, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import net from 'node:net';
import type { SocketLimits } from './http-server.js';

/** A request head the lane understood. */
export interface LaneRequest {
  method: string;
  url: string;
  /** Lower-case names, one value each (a duplicate name sends the request to Node's parser). */
  headers: IncomingHttpHeaders & Record<string, string>;
  socket: net.Socket;
}

/** A 200 answer from bytes at hand. The lane keeps its wire form while the same object is returned. */
export interface LaneAnswer {
  headers: OutgoingHttpHeaders;
  body: Buffer;
}

export interface FastLaneOptions {
  /**
   * The answer to a GET with no `Range`, validators or `Connection: close`, or undefined: the request then goes to
   * the server's `request` listeners.
   */
  answer(req: LaneRequest): LaneAnswer | undefined;
  limits: SocketLimits;
}

/** Node's default `maxHeaderSize`: a longer head goes to Node's parser, which answers 431. */
const MAX_HEAD_BYTES = 16 * 1024;
/**
 * Unread request bytes held while a response is being written; past this the socket stops being read. With a read
 * of at most {@link READ_BUFFER}'s size on top, a connection holds at most 32 KB of what a peer sent (a partial head
 * is at most 16 KB too): 256 MB at the viewer listener's 8192 connections, from peers that pipeline and never read.
 */
const MAX_UNREAD_BYTES = 16 * 1024;
/** Bodies up to this size are sent in the same buffer as the head (one write). */
const COALESCE_BYTES = 16 * 1024;
/** A buffer larger than this is written in the connection's turn (see {@link FastLane.takeTurns}). */
const TURN_BYTES = 64 * 1024;
/** Bytes of large answers written per turn of the event loop (at least one answer). */
const TURN_BUDGET_BYTES = 1024 * 1024;

const HEAD_END = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');
/** Request lines a connection remembers parsed (a player asks for the same few playlists again and again). */
const KNOWN_LINES = 4;
const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Z-]{1,20}) (\/[\x21-\x7e]*) HTTP\/1\.1$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const NOT_UNDERSTOOD = ['transfer-encoding', 'upgrade', 'expect', '__proto__'];
/** The methods Node's parser knows (a CONNECT is never a `request`); any other goes to Node, which answers 400. */
const METHODS = new Set(http.METHODS.filter((m) => m !== 'CONNECT'));
/** A line feed without its carriage return: outside the lane's grammar (Node's parser refuses it at once). */
const BARE_LF = /(?:^|[^\r])\n/;

/**
 * Node's symbols for a socket that reads into a buffer of its own (net's documented `onread` option, which sets
 * them): every lane connection reads into one shared buffer and its callback, instead of a Buffer allocated for each
 * read and pushed through the socket's Readable (about a tenth of the CPU of a small answer). Undefined if a later
 * Node names them otherwise: the lane then reads 'data' events.
 */
const READ_INTO = ((): { buffer: symbol; callback: symbol } | undefined => {
  // Node reads `onread` for any socket; @types/node lists it only for `net.connect`.
  const opts: net.SocketConstructorOpts & { onread: net.OnReadOpts } = {
    onread: { buffer: Buffer.alloc(1), callback: () => true },
  };
  const probe = new net.Socket(opts);
  const find = (d: string) => Object.getOwnPropertySymbols(probe).find((s) => s.description === d);
  const buffer = find('kBuffer');
  const callback = find('kBufferCb');
  probe.destroy();
  return buffer && callback ? { buffer, callback } : undefined;
})();
/** What each read of every lane connection lands in (a read is handled before the next one). */
const READ_BUFFER = Buffer.alloc(16 * 1024);

/** The handle under a socket (a TCP or pipe stream): what the lane uses of it. */
interface StreamHandle {
  /** Reads into a buffer of the caller's (the `onread` mode). */
  useUserBuffer?: (buffer: Uint8Array) => void;
  /** The file descriptor (-1 where there is none, as on Windows). */
  fd?: number;
  /** Bytes libuv has yet to write. */
  writeQueueSize?: number;
}

/** Answers up to this size are written straight to the file descriptor when nothing is queued before them. */
const DIRECT_BYTES = COALESCE_BYTES + 4096;
const NOTHING = Buffer.alloc(0);

/**
 * Node's flag on a response whose `write` returned false (internal/http's `kNeedDrain`): its connection handler clears
 * it and emits the response's 'drain' when the socket drains, and so does the lane.
 */
const NEED_DRAIN = Object.getOwnPropertySymbols(new http.OutgoingMessage()).find(
  (s) => s.description === 'kNeedDrain',
);

/** Node's internals of `ServerResponse` that its own connection handler sets (lib/_http_server.js). */
interface NodeServerResponse extends http.ServerResponse {
  _keepAliveTimeout: number;
  _last: boolean;
  _closed?: boolean;
}

/** Parses a head (without its final CRLF CRLF); undefined when it is outside the lane's strict subset. */
export function parseRequestHead(text: string): RequestHead | undefined {
  const lineEnd = text.indexOf('\r\n');
  const line = parseRequestLine(lineEnd < 0 ? text : text.slice(0, lineEnd));
  const fields = lineEnd < 0 ? undefined : parseHeaderBlock(text.slice(lineEnd + 2));
  return line && fields && { ...line, ...fields };
}

/** A request head the lane understood: the request line, then the header fields. */
export interface RequestHead {
  method: string;
  url: string;
  headers: Record<string, string>;
  rawHeaders: string[];
}

function parseRequestLine(text: string): Pick<RequestHead, 'method' | 'url'> | undefined {
  const line = REQUEST_LINE.exec(text);
  if (!line || !METHODS.has(line[1] as string)) return undefined;
  return { method: line[1] as string, url: line[2] as string };
}

/** The header fields (CRLF-separated, without the final CRLF CRLF); undefined when outside the lane's subset. */
function parseHeaderBlock(text: string): Pick<RequestHead, 'headers' | 'rawHeaders'> | undefined {
  const headers: Record<string, string> = {};
  const rawHeaders: string[] = [];
  for (const l of text.split('\r\n')) {
    const colon = l.indexOf(':');
    if (colon <= 0) return undefined;
    const rawName = l.slice(0, colon);
    const value = l.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    if (!HEADER_NAME.test(rawName) || !HEADER_VALUE.test(value) || value.includes('\n')) return undefined;
    const name = rawName.toLowerCase();
    if (Object.prototype.hasOwnProperty.call(headers, name) || NOT_UNDERSTOOD.includes(name))
      return undefined;
    headers[name] = value;
    rawHeaders.push(rawName, value);
  }
  if (headers.host === undefined) return undefined;
  const length = headers['content-length'];
  if (length !== undefined && length !== '0') return undefined;
  if (headers.connection !== undefined && /\bupgrade\b/i.test(headers.connection)) return undefined;
  return { headers, rawHeaders };
}

function headerLines(headers: OutgoingHttpHeaders): string {
  let out = '';
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) out += `${name}: ${String(v)}\r\n`;
  }
  return out;
}

export class FastLane {
  private readonly connections = new Set<LaneConnection>();
  private readonly nodeConnection: Array<(socket: net.Socket) => void>;
  private readonly wire = new WeakMap<LaneAnswer, { second: number; parts: readonly Buffer[] }>();
  private dateSecond = -1;
  /** Connections with a large answer to write, in the order they asked. */
  private readonly turns = new Set<LaneConnection>();
  private turnsScheduled = false;
  private dateLine = '';
  /** Requests answered by the lane, passed to the listeners, and connections handed to Node's parser. */
  readonly counts = { answered: 0, passed: 0, handedOff: 0 };
  /**
   * Closes silent connections: each notes when it last read or wrote (`Date.now()`, tens of nanoseconds) instead of
   * refreshing a socket timer on every read and write (a few per cent of the CPU of a small answer).
   */
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    readonly server: http.Server,
    readonly opts: FastLaneOptions,
  ) {
    // Node's own connection handler, kept for what the lane hands over.
    this.nodeConnection = server.listeners('connection') as Array<(socket: net.Socket) => void>;
    server.removeAllListeners('connection');
    server.on('connection', (socket: net.Socket) => {
      const c = new LaneConnection(this, socket);
      this.connections.add(c);
      socket.once('close', () => {
        this.connections.delete(c);
        this.turns.delete(c);
      });
    });
    // A connection is closed between its timeout and a quarter of it later (never before: keep-alive connections
    // get a second more than `Keep-Alive: timeout=` says, as Node's).
    const { idleTimeoutMs } = opts.limits;
    const every = Math.max(
      10,
      Math.min(1000, Math.floor(Math.min(keepAliveMs(opts.limits), idleTimeoutMs) / 4)),
    );
    this.sweeper = setInterval(this.sweep, every);
    this.sweeper.unref();
    server.once('close', () => clearInterval(this.sweeper));
  }

  /** Closes the connections silent for longer than their timeout. */
  private readonly sweep = (): void => {
    const now = Date.now();
    for (const c of this.connections) c.sweep(now);
  };

  /** @internal `c` has a large buffer to write: it is written in its turn. */
  askTurn(c: LaneConnection): void {
    this.turns.add(c);
    if (this.turnsScheduled) return;
    this.turnsScheduled = true;
    setImmediate(this.takeTurns);
  }

  /**
   * Large answers are written in the order they were asked for, about a megabyte per turn of the event loop. Written
   * as soon as asked, with 200 connections fetching 1 MB fragments while a channel transcoded, the connections whose
   * kernel buffers had grown were served again and again and others waited: p99 0.7-1.1 s against nginx's 0.13-0.15
   * s. In turns it is 0.11-0.14 s, at a higher rate.
   */
  private readonly takeTurns = (): void => {
    this.turnsScheduled = false;
    let budget = TURN_BUDGET_BYTES;
    for (const c of this.turns) {
      if (budget <= 0) break;
      this.turns.delete(c);
      budget -= c.takeTurn();
    }
    if (this.turns.size > 0) {
      this.turnsScheduled = true;
      setImmediate(this.takeTurns);
    }
  };

  /** Connections the lane holds (not those handed to Node's parser). */
  get size(): number {
    return this.connections.size;
  }

  /** Request bytes the lane's connections have read and not yet answered. */
  get unreadBytes(): number {
    let n = 0;
    for (const c of this.connections) n += c.unreadBytes;
    return n;
  }

  /** Destroys every connection the lane holds (the listener is closing; Node closes the ones it was handed). */
  closeAll(): void {
    clearInterval(this.sweeper);
    for (const c of this.connections) c.socket.destroy();
    this.connections.clear();
  }

  /** @internal */
  handOff(c: LaneConnection, unread: Buffer | undefined): void {
    this.connections.delete(c);
    this.counts.handedOff++;
    const { socket } = c;
    if (unread) socket.unshift(unread);
    for (const listener of this.nodeConnection) listener.call(this.server, socket);
    socket.resume();
  }

  /** @internal The bytes of a 200 answer, built once per answer and second (the `Date` header). */
  wireOf(a: LaneAnswer): readonly Buffer[] {
    const now = Date.now();
    const second = Math.floor(now / 1000);
    if (second !== this.dateSecond) {
      this.dateSecond = second;
      this.dateLine = `Date: ${new Date(second * 1000).toUTCString()}\r\n`;
    }
    let w = this.wire.get(a);
    if (!w || w.second !== second) {
      const keepAlive = Math.floor(this.opts.limits.keepAliveTimeoutMs / 1000);
      const head = Buffer.from(
        `HTTP/1.1 200 OK\r\n${headerLines(a.headers)}${this.dateLine}` +
          `Connection: keep-alive\r\nKeep-Alive: timeout=${keepAlive}\r\n\r\n`,
        'latin1',
      );
      // A small answer is one buffer (one write); a large one keeps its body's buffer, shared, not copied.
      w = {
        second,
        parts: a.body.length <= COALESCE_BYTES ? [Buffer.concat([head, a.body])] : [head, a.body],
      };
      this.wire.set(a, w);
    }
    return w.parts;
  }
}

/** A request line as bytes, and parsed. */
interface KnownLine {
  bytes: Buffer;
  method: string;
  url: string;
}

/** One connection while the lane reads it. */
class LaneConnection {
  private unread: Buffer | undefined;
  /** A response of the server's listeners is being written. */
  private busy = false;
  private headTimer: NodeJS.Timeout | undefined;
  /** The socket's own timeout: set only while a listener's response is being written (else the lane sweeps). */
  private socketTimeout = 0;
  /** When the connection last read or wrote (`Date.now()`). */
  private lastActive: number;
  /** A read into {@link READ_BUFFER}: what is kept past it is copied. */
  private readonly onRead = (n: number, buf: Buffer): boolean => {
    try {
      this.onData(buf.subarray(0, n));
    } finally {
      // Even when a listener or `answer` threw: the next read overwrites the buffer.
      if (this.unread?.buffer === READ_BUFFER.buffer) this.unread = Buffer.from(this.unread);
    }
    return true;
  };
  private readonly onData = (d: Buffer): void => {
    this.lastActive = Date.now();
    this.unread = this.unread ? Buffer.concat([this.unread, d]) : d;
    if (this.unread.length > MAX_UNREAD_BYTES && (this.busy || this.waiting)) this.socket.pause();
    this.next();
  };
  private readonly onDrain = (): void => {
    this.lastActive = Date.now();
    const res = this.response;
    if (res?.writableNeedDrain) {
      // As Node's server: a response piped from a stream waits for this to write more.
      if (NEED_DRAIN) (res as unknown as Record<symbol, boolean>)[NEED_DRAIN] = false;
      res.emit('drain');
    }
    this.flush();
    this.next();
  };
  /** The response of the server's listeners being written, if any. */
  private response: http.ServerResponse | undefined;
  /** Bytes of answers not yet given to the socket (the next request waits until they are). */
  private readonly outbox: Buffer[] = [];
  /** The last head's header fields, as bytes and parsed (shared by the requests that repeat them: never changed). */
  private lastFields: { bytes: Buffer; headers: Record<string, string>; rawHeaders: string[] } | undefined;
  /** The connection's recent request lines, the latest first. */
  private readonly knownLines: KnownLine[] = [];
  /** Its turn to write a large buffer (one). */
  private turnGranted = false;
  /**
   * The viewer will send nothing more (FIN): as Node's server does, drop what is unread and end the socket, after the
   * answers already begun.
   */
  private readonly onEnd = (): void => {
    this.unread = undefined;
    this.clearHeadTimer();
    for (const b of this.outbox.splice(0)) this.socket.write(b);
    this.socket.end();
  };
  private readonly onTimeout = (): void => {
    this.socket.destroy();
  };
  private readonly onError = (): void => {
    this.socket.destroy();
  };

  constructor(
    private readonly lane: FastLane,
    readonly socket: net.Socket,
  ) {
    const handle = (socket as unknown as { _handle?: StreamHandle | null })._handle;
    if (READ_INTO && handle?.useUserBuffer) {
      const s = socket as unknown as Record<symbol, unknown>;
      s[READ_INTO.buffer] = READ_BUFFER;
      s[READ_INTO.callback] = this.onRead;
      handle.useUserBuffer(READ_BUFFER);
    } else socket.on('data', this.onData);
    socket.on('drain', this.onDrain);
    socket.on('end', this.onEnd);
    socket.on('timeout', this.onTimeout);
    socket.on('error', this.onError);
    this.lastActive = Date.now();
    this.armHeadTimer();
  }

  /** Reads and answers the requests in hand, in order, until one is with the listeners or the reader lags. */
  private next(): void {
    const { socket } = this;
    // After a response that closes the connection (or the viewer's FIN), nothing more is answered, as in Node.
    if (!socket.writable) this.unread = undefined;
    while (this.unread && !this.busy && !socket.destroyed) {
      if (this.waiting) return; // resumed by 'drain'
      const buf: Buffer = this.unread;
      const end = buf.indexOf(HEAD_END);
      if (end < 0 && buf.length <= MAX_HEAD_BYTES && !BARE_LF.test(buf.toString('latin1'))) {
        // The rest of the head is still to be read: read on, even if the socket was paused for a lagging reader.
        this.armHeadTimer();
        if (socket.isPaused()) socket.resume();
        return;
      }
      const head = end < 0 || end + 4 > MAX_HEAD_BYTES ? undefined : this.parseHead(buf, end);
      if (!head) return this.handOff();
      this.unread = end + 4 === buf.length ? undefined : buf.subarray(end + 4);
      this.clearHeadTimer();
      const req: LaneRequest = { method: head.method, url: head.url, headers: head.headers, socket };
      const answer = wantsAnswer(req) ? this.lane.opts.answer(req) : undefined;
      if (answer) {
        this.lane.counts.answered++;
        for (const b of this.lane.wireOf(answer)) this.outbox.push(b);
        this.flush();
      } else this.pass(head);
    }
    if (this.unread && !this.busy) this.armHeadTimer();
    if (socket.isPaused() && !this.busy && !this.waiting) socket.resume();
  }

  /** @internal Request bytes read and not yet answered. */
  get unreadBytes(): number {
    return this.unread?.length ?? 0;
  }

  /** The socket has not taken what was written: the next request waits (a reader that does not read). */
  private get waiting(): boolean {
    return this.outbox.length > 0 || this.socket.writableNeedDrain;
  }

  /** @internal Writes the large buffer at the head of the outbox, and what follows up to the next; its size. */
  takeTurn(): number {
    const first = this.outbox[0];
    if (this.socket.destroyed || !first) return 0;
    this.turnGranted = true;
    this.flush();
    this.turnGranted = false;
    this.next();
    return first.length;
  }

  /**
   * Writes what is in the outbox until the socket asks to wait for 'drain'. A large buffer waits for its turn
   * ({@link FastLane.takeTurns}) and is written whole: in parts, or corked with its head, the connections whose
   * kernel buffers had grown were served again and again too.
   */
  private flush(): void {
    const { socket } = this;
    while (this.outbox.length > 0 && !socket.destroyed) {
      const b = this.outbox[0] as Buffer;
      if (b.length > TURN_BYTES) {
        if (!this.turnGranted) {
          this.lane.askTurn(this);
          break;
        }
        this.turnGranted = false;
      }
      this.outbox.shift();
      const rest = b.length <= DIRECT_BYTES ? this.writeDirect(b) : b;
      if (rest.length > 0 && !socket.write(rest)) break;
    }
    this.lastActive = Date.now();
  }

  /**
   * Writes a small answer straight to the socket's file descriptor when nothing is queued before it (in the socket's
   * stream or in libuv): one non-blocking `write`, without the stream's write request, its completion callback and
   * bookkeeping (about a fifth of the CPU of a small answer). Returns what the kernel did not take, which then goes
   * through the socket as usual: all of it on any error (the socket then meets the error itself) or where there is
   * no descriptor.
   */
  private writeDirect(b: Buffer): Buffer {
    const handle = (this.socket as unknown as { _handle?: StreamHandle | null })._handle;
    const fd = handle?.fd;
    if (
      fd === undefined ||
      fd < 0 ||
      !this.socket.writable ||
      handle?.writeQueueSize !== 0 ||
      this.socket.writableLength > 0
    )
      return b;
    try {
      const n = fs.writeSync(fd, b);
      return n === b.length ? NOTHING : b.subarray(n);
    } catch {
      return b;
    }
  }

  /**
   * @internal Closes the connection when it has been silent too long: an idle keep-alive connection after the
   * keep-alive timeout; while an answer waits for its reader, after the idle timeout, as a listener's response. While
   * a listener's response is being written, the socket's own timeout applies.
   */
  sweep(now: number): void {
    if (this.busy) return;
    const limits = this.lane.opts.limits;
    if (now - this.lastActive > (this.waiting ? limits.idleTimeoutMs : keepAliveMs(limits)))
      this.socket.destroy();
  }

  /**
   * The head in `buf` up to `end`. A player sends the same header fields with every request on a connection (only
   * the path changes): when the bytes are those of the last head's fields, its parsed fields are taken again.
   */
  private parseHead(buf: Buffer, end: number): RequestHead | undefined {
    const lineEnd = buf.indexOf(CRLF);
    const line = this.requestLine(buf, lineEnd);
    if (!line) return undefined;
    const last = this.lastFields;
    if (
      !last ||
      last.bytes.length !== end - lineEnd - 2 ||
      buf.compare(last.bytes, 0, last.bytes.length, lineEnd + 2, end) !== 0
    ) {
      const fields = parseHeaderBlock(buf.toString('latin1', lineEnd + 2, end));
      if (!fields) return undefined;
      this.lastFields = { bytes: Buffer.from(buf.subarray(lineEnd + 2, end)), ...fields };
      return { method: line.method, url: line.url, headers: fields.headers, rawHeaders: fields.rawHeaders };
    }
    return { method: line.method, url: line.url, headers: last.headers, rawHeaders: last.rawHeaders };
  }

  /**
   * The request line in `buf` up to `lineEnd`: one of the connection's recent ones when its bytes are the same (the
   * same URL string again, whose hash the memo's lookup has already computed), else parsed and remembered.
   */
  private requestLine(buf: Buffer, lineEnd: number): KnownLine | undefined {
    for (const l of this.knownLines) {
      if (l.bytes.length === lineEnd && buf.compare(l.bytes, 0, lineEnd, 0, lineEnd) === 0) return l;
    }
    const parsed = parseRequestLine(buf.toString('latin1', 0, lineEnd));
    if (!parsed) return undefined;
    const line = { bytes: Buffer.from(buf.subarray(0, lineEnd)), ...parsed };
    if (this.knownLines.unshift(line) > KNOWN_LINES) this.knownLines.pop();
    return line;
  }

  /** Gives a request to the server's `request` listeners on this socket, as Node's connection handler would. */
  private pass(head: RequestHead): void {
    const { socket } = this;
    const server = this.lane.server;
    this.lane.counts.passed++;
    const req = new http.IncomingMessage(socket);
    req.method = head.method;
    req.url = head.url;
    req.httpVersionMajor = 1;
    req.httpVersionMinor = 1;
    req.httpVersion = '1.1';
    // The listeners get their own copies: the parsed fields are shared with the connection's next requests.
    req.headers = { ...head.headers };
    req.rawHeaders = [...head.rawHeaders];
    req.complete = true;
    req.push(null);
    const res = new http.ServerResponse(req) as NodeServerResponse;
    res._keepAliveTimeout = server.keepAliveTimeout;
    res.shouldKeepAlive = !asksToClose(head.headers.connection);
    this.busy = true;
    this.response = res;
    this.setSocketTimeout(this.lane.opts.limits.idleTimeoutMs);
    // As Node's connection handler: the request is aborted when the viewer leaves (before the response's 'close',
    // with Node's ECONNRESET), and is dumped when answered.
    const abort = (): void => void req.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
    socket.once('close', abort);
    res.assignSocket(socket);
    res.on('finish', () => {
      socket.removeListener('close', abort);
      req.resume();
      res.detachSocket(socket);
      process.nextTick(() => {
        if (!res._closed) {
          res._closed = true;
          res.destroyed = true;
          res.emit('close');
        }
      });
      this.busy = false;
      this.response = undefined;
      if (res._last) {
        socket.destroySoon();
        return;
      }
      this.setSocketTimeout(0);
      this.lastActive = Date.now();
      this.next();
    });
    server.emit('request', req, res);
  }

  private handOff(): void {
    const { socket } = this;
    this.clearHeadTimer();
    socket.removeListener('data', this.onData);
    if (READ_INTO && (socket as unknown as Record<symbol, unknown>)[READ_INTO.callback] === this.onRead) {
      // The handle keeps reading into the shared buffer: from now on each read is pushed as a copy, as Node's
      // parser and the socket's Readable expect.
      (socket as unknown as Record<symbol, unknown>)[READ_INTO.callback] = (n: number, buf: Buffer) =>
        socket.push(Buffer.from(buf.subarray(0, n)));
    }
    socket.removeListener('drain', this.onDrain);
    socket.removeListener('end', this.onEnd);
    socket.removeListener('timeout', this.onTimeout);
    socket.removeListener('error', this.onError);
    socket.setTimeout(0);
    socket.pause();
    // A copy: the bytes may still be in the shared read buffer.
    const unread = this.unread && Buffer.from(this.unread);
    this.unread = undefined;
    this.lane.handOff(this, unread);
  }

  private setSocketTimeout(ms: number): void {
    if (ms === this.socketTimeout) return;
    this.socketTimeout = ms;
    this.socket.setTimeout(ms);
  }

  /** A head must be complete within the header timeout (as in Node: 408, then the connection closes). */
  private armHeadTimer(): void {
    if (this.headTimer) return;
    this.headTimer = setTimeout(() => {
      this.headTimer = undefined;
      if (this.busy || this.socket.destroyed) return;
      this.socket.end('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      this.socket.destroySoon();
    }, this.lane.opts.limits.headersTimeoutMs);
    this.headTimer.unref();
  }

  private clearHeadTimer(): void {
    if (!this.headTimer) return;
    clearTimeout(this.headTimer);
    this.headTimer = undefined;
  }
}

/** Only a plain GET is answered from bytes at hand: ranges, validators and a closing request go to the listeners. */
function wantsAnswer(req: LaneRequest): boolean {
  const h = req.headers;
  return (
    req.method === 'GET' &&
    h.range === undefined &&
    h['if-none-match'] === undefined &&
    h['if-modified-since'] === undefined &&
    !asksToClose(h.connection)
  );
}

/** Whether a `Connection` header holds the token `close` (exactly, as Node's parser reads it). */
function asksToClose(connection: string | undefined): boolean {
  return connection !== undefined && connection.split(',').some((t) => t.trim().toLowerCase() === 'close');
}

/**
 * How long an idle keep-alive connection is kept: a second more than `Keep-Alive: timeout=` says, as Node's server
 * does, so a client reusing it at the advertised limit does not meet a reset.
 */
function keepAliveMs(limits: SocketLimits): number {
  return limits.keepAliveTimeoutMs + 1000;
}
