/**
 * The RTMP ingest child process: node-media-server 4.4.3 (pinned), patched so that
 * - malformed input (an invalid tcUrl, an undecodable command) closes that socket instead of crashing the process;
 * - the Kaltura app query (`kLive/?p=..&e=..`) is split off at connect, so the app name check passes;
 * - a publish waits for the core's decision before `NetStream.Publish.Start` is sent and before any media is relayed;
 * - only loopback players holding an unused pull key for that stream may play (our ffmpeg, one key per
 *   process); nothing else can read the ingest;
 * - what a peer can make it hold is bounded (rtmp-limits.ts): message sizes (small until a publish is accepted),
 *   chunk streams, buffers grown only as bytes arrive, connections per address and overall, a deadline to
 *   publish and an idle timeout; it reports its memory so the core can restart it past its bound.
 * It talks to the core over the fork IPC channel (see ingest-protocol.ts).
 */
import { createRequire } from 'node:module';
import net from 'node:net';
import { isOwnAddress } from '../lib/host-name.js';
import { splitConnectApp } from './broadcast-url.js';
import { IngestHealthMeter } from './ingest-health.js';
import {
  MAX_PULL_KEYS,
  PULL_KEY_TTL_MS,
  type ChildToCore,
  type CoreToChild,
  type IngestChildOptions,
  type IngestMetadata,
} from './ingest-protocol.js';
import { DEFAULT_RTMP_LIMITS, type RtmpLimits } from './rtmp-limits.js';

const require = createRequire(import.meta.url);

interface NmsSession {
  id: string;
  ip: string;
  socket: net.Socket;
  rtmp: RtmpProto;
  isPublisher: boolean;
  broadcast?: { publishGraceMs: number };
  inBytes: number;
  videoCodec: number | string;
  videoWidth: number;
  videoHeight: number;
  videoFramerate: number;
  videoDatarate: number;
  audioCodec: number | string;
  audioDatarate: number;
  close(): void;
}
interface RtmpPacket {
  header: { fmt: number; cid: number; timestamp: number; length: number; type: number; stream_id: number };
  clock: number;
  payload: Buffer;
  capacity: number;
  bytes: number;
}

interface RtmpProto {
  parserPacket: RtmpPacket;
  parserState: number;
  parserBytes: number;
  parserBasicBytes: number;
  parserBuffer: Buffer;
  inChunkSize: number;
  inPackets: Map<number, RtmpPacket>;
  packetParse(): void;
  packetAlloc(): void;
  packetHandler(): void;
  ecdnAccepted?: boolean;
  ecdnPlaying?: boolean;
  streamApp: string;
  streamHost: string;
  streamName: string;
  streamQuery: Record<string, unknown>;
  streamId: number;
  ecdnQuery?: Record<string, string>;
  ecdnPublishing?: boolean;
  sendStatusMessage(sid: number, level: string, code: string, description: string): void;
  respondPublish(): void;
  respondPlay(): void;
  onConnectCallback(req: { app: string; name: string; host: string; query: Record<string, unknown> }): void;
  onPushCallback(): void;
  onPlayCallback(): void;
  onPacketCallback(packet: {
    codec_type: number;
    dts: number;
    pts: number;
    flags: number;
    size: number;
  }): void;
}
type InvokeMessage = { cmdObj?: Record<string, unknown>; streamName?: unknown };

const NodeMediaServer = require('node-media-server') as new (config: object) => {
  run(): Promise<void>;
  stop(): Promise<void>;
};
const Rtmp = require('node-media-server/src/protocol/rtmp.js') as { prototype: Record<string, unknown> };
const Context = require('node-media-server/src/core/context.js') as {
  sessions: Map<string, NmsSession>;
  broadcasts: Map<string, { subscribers: Map<string, NmsSession> }>;
};
const nmsLogger = require('node-media-server/src/core/logger.js') as { level: string };

function send(msg: ChildToCore): void {
  process.send?.(msg);
}

function sessionOf(rtmp: RtmpProto): NmsSession | undefined {
  for (const s of Context.sessions.values()) if (s.rtmp === rtmp) return s;
  return undefined;
}

function remoteOf(s: NmsSession | undefined): string {
  return s?.socket.remoteAddress ?? 'unknown';
}

/** Issued single-use pull keys: key -> the stream it plays and when it was issued. */
const pullKeys = new Map<string, { internalPath: string; issuedAt: number }>();

function issuePullKey(key: string, internalPath: string): void {
  const now = Date.now();
  for (const [k, v] of pullKeys) if (now - v.issuedAt > PULL_KEY_TTL_MS) pullKeys.delete(k);
  while (pullKeys.size >= MAX_PULL_KEYS) pullKeys.delete(pullKeys.keys().next().value as string);
  pullKeys.set(key, { internalPath, issuedAt: now });
}

/** Whether `key` was issued for `internalPath` and is still unused; it is used up either way. */
function spendPullKey(key: string | null, internalPath: string): boolean {
  if (key === null) return false;
  const issued = pullKeys.get(key);
  pullKeys.delete(key);
  return (
    issued !== undefined &&
    issued.internalPath === internalPath &&
    Date.now() - issued.issuedAt <= PULL_KEY_TTL_MS
  );
}
let nextRequestId = 1;
const pending = new Map<number, (m: Extract<CoreToChild, { type: 'authorized' }>) => void>();

// 1. A malformed RTMP message throws inside the parser; turn it into an error that closes this socket only.
const parserData = Rtmp.prototype.parserData as (this: RtmpProto, data: Buffer) => string | null;
Rtmp.prototype.parserData = function (this: RtmpProto, data: Buffer) {
  try {
    return parserData.call(this, data);
  } catch (err) {
    const reason = `malformed RTMP input: ${(err as Error).message}`;
    send({ type: 'refused', remote: remoteOf(sessionOf(this)), reason });
    return reason;
  }
};

let limits: RtmpLimits = DEFAULT_RTMP_LIMITS;
/** The address the ingest listens on (`--bind`): a connection from it is this machine's. */
let bindAddress = '0.0.0.0';

// 1b. Bounded parsing. A chunk header declares its message's length; node-media-server allocated that much at once,
// per chunk stream. Here a message may be no longer than the connection's stage allows, a connection opens at most
// `maxChunkStreams` chunk streams, and a message buffer grows only as its bytes arrive, within
// `maxConnectionBuffer` for the whole connection. Breaking a bound throws: the socket closes (1.).
const RTMP_PARSE_INIT = 0;
const RTMP_PARSE_BASIC_HEADER = 1;
const RTMP_PARSE_MESSAGE_HEADER = 2;
const RTMP_PARSE_EXTENDED_TIMESTAMP = 3;
const RTMP_PARSE_PAYLOAD = 4;
const RTMP_CHUNK_TYPE_0 = 0;
const RTMP_HEADER_SIZE = [11, 7, 3, 0];
/** First allocation of a message buffer; it doubles as bytes arrive. */
const INITIAL_MESSAGE_BUFFER = 4096;

const packetParse = Rtmp.prototype.packetParse as (this: RtmpProto) => void;
Rtmp.prototype.packetParse = function (this: RtmpProto) {
  packetParse.call(this);
  if (this.inPackets.size > limits.maxChunkStreams)
    throw new Error(`more than ${limits.maxChunkStreams} chunk streams`);
};

function messageLimit(rtmp: RtmpProto): number {
  return rtmp.ecdnAccepted ? limits.maxMediaMessage : limits.maxCommandMessage;
}

/** Grows the current message's buffer to hold `needed` bytes (doubling, never past its declared length). */
function ensureCapacity(rtmp: RtmpProto, needed: number): void {
  const packet = rtmp.parserPacket;
  if (packet.capacity >= needed) return;
  const length = packet.header.length;
  const capacity = Math.min(length, Math.max(needed, packet.capacity * 2, INITIAL_MESSAGE_BUFFER));
  let held = capacity - packet.capacity;
  for (const p of rtmp.inPackets.values()) held += p.capacity;
  if (held > limits.maxConnectionBuffer)
    throw new Error(`message buffers over ${limits.maxConnectionBuffer} bytes on one connection`);
  const grown = Buffer.allocUnsafe(capacity);
  packet.payload.copy(grown, 0, 0, packet.bytes);
  packet.payload = grown;
  packet.capacity = capacity;
}

Rtmp.prototype.packetAlloc = function (this: RtmpProto) {
  const length = this.parserPacket.header.length;
  const limit = messageLimit(this);
  if (length > limit) throw new Error(`a ${length}-byte message (at most ${limit} here)`);
  ensureCapacity(this, Math.min(length, INITIAL_MESSAGE_BUFFER));
};

// node-media-server 4.4.3's chunkRead, with the payload copied into a buffer grown on demand (ensureCapacity).
Rtmp.prototype.chunkRead = function (this: RtmpProto, data: Buffer, p: number, bytes: number) {
  let size = 0;
  let offset = 0;
  let extendedTimestamp = 0;
  while (offset < bytes) {
    switch (this.parserState) {
      case RTMP_PARSE_INIT:
        this.parserBytes = 1;
        this.parserBuffer[0] = data[p + offset++] as number;
        if (0 === ((this.parserBuffer[0] as number) & 0x3f)) this.parserBasicBytes = 2;
        else if (1 === ((this.parserBuffer[0] as number) & 0x3f)) this.parserBasicBytes = 3;
        else this.parserBasicBytes = 1;
        this.parserState = RTMP_PARSE_BASIC_HEADER;
        break;
      case RTMP_PARSE_BASIC_HEADER:
        while (this.parserBytes < this.parserBasicBytes && offset < bytes)
          this.parserBuffer[this.parserBytes++] = data[p + offset++] as number;
        if (this.parserBytes >= this.parserBasicBytes) this.parserState = RTMP_PARSE_MESSAGE_HEADER;
        break;
      case RTMP_PARSE_MESSAGE_HEADER:
        size = (RTMP_HEADER_SIZE[(this.parserBuffer[0] as number) >> 6] as number) + this.parserBasicBytes;
        while (this.parserBytes < size && offset < bytes)
          this.parserBuffer[this.parserBytes++] = data[p + offset++] as number;
        if (this.parserBytes >= size) {
          this.packetParse();
          this.parserState = RTMP_PARSE_EXTENDED_TIMESTAMP;
        }
        break;
      case RTMP_PARSE_EXTENDED_TIMESTAMP: {
        const header = this.parserPacket.header;
        size = (RTMP_HEADER_SIZE[header.fmt] as number) + this.parserBasicBytes;
        if (header.timestamp === 0xffffff) size += 4;
        while (this.parserBytes < size && offset < bytes)
          this.parserBuffer[this.parserBytes++] = data[p + offset++] as number;
        if (this.parserBytes >= size) {
          extendedTimestamp =
            header.timestamp === 0xffffff
              ? this.parserBuffer.readUInt32BE(
                  (RTMP_HEADER_SIZE[header.fmt] as number) + this.parserBasicBytes,
                )
              : header.timestamp;
          if (this.parserPacket.bytes === 0) {
            if (RTMP_CHUNK_TYPE_0 === header.fmt) this.parserPacket.clock = extendedTimestamp;
            else this.parserPacket.clock += extendedTimestamp;
            this.packetAlloc();
          }
          this.parserState = RTMP_PARSE_PAYLOAD;
        }
        break;
      }
      case RTMP_PARSE_PAYLOAD: {
        const packet = this.parserPacket;
        size = Math.min(
          this.inChunkSize - (packet.bytes % this.inChunkSize),
          packet.header.length - packet.bytes,
        );
        size = Math.min(size, bytes - offset);
        if (size > 0) {
          ensureCapacity(this, packet.bytes + size);
          data.copy(packet.payload, packet.bytes, p + offset, p + offset + size);
        }
        packet.bytes += size;
        offset += size;
        if (packet.bytes >= packet.header.length) {
          this.parserState = RTMP_PARSE_INIT;
          packet.bytes = 0;
          if (packet.clock > 0xffffffff) break;
          this.packetHandler();
        } else if (0 === packet.bytes % this.inChunkSize) {
          this.parserState = RTMP_PARSE_INIT;
        }
        break;
      }
    }
  }
  return null;
};

// 2. Connect: validate tcUrl, split the Kaltura query off the application name.
const onConnect = Rtmp.prototype.onConnect as (this: RtmpProto, m: InvokeMessage) => void;
Rtmp.prototype.onConnect = function (this: RtmpProto, m: InvokeMessage) {
  const cmdObj = m.cmdObj;
  if (!cmdObj || typeof cmdObj.app !== 'string') throw new Error('connect without an application name');
  const tcUrl = cmdObj.tcUrl;
  if (typeof tcUrl !== 'string' || !URL.canParse(tcUrl))
    throw new Error(`invalid tcUrl ${JSON.stringify(String(tcUrl).slice(0, 80))}`);
  const { app, query } = splitConnectApp(cmdObj.app);
  // Some encoders put the query on tcUrl only.
  this.ecdnQuery =
    Object.keys(query).length > 0
      ? query
      : splitConnectApp(new URL(tcUrl).pathname.slice(1) + new URL(tcUrl).search).query;
  onConnect.call(this, { ...m, cmdObj: { ...cmdObj, app } });
};

// 3. Publish: ask the core first; only then answer Publish.Start and register the stream.
Rtmp.prototype.onPublish = function (this: RtmpProto, m: InvokeMessage) {
  const streamId = this.parserPacket.header.stream_id;
  const [streamName = '', ...streamQuery] = String(m.streamName ?? '').split('?');
  // The broadcast URL alone, without "/<entry>_1": the encoder sent the Kaltura query as its stream name. Read
  // it from there, so the refusal names the channel and says what is missing (not "Missing argument: entryId").
  const connectQuery = this.ecdnQuery ?? {};
  const query =
    Object.keys(connectQuery).length === 0 && streamName === '' && streamQuery.length > 0
      ? splitConnectApp(`?${streamQuery.join('?')}`).query
      : connectQuery;
  const session = sessionOf(this);
  if (!session || this.ecdnPublishing) return;
  this.ecdnPublishing = true;
  const requestId = nextRequestId++;
  pending.set(requestId, (decision) => {
    if (session.socket.destroyed) return;
    if (!decision.allow) {
      this.sendStatusMessage(
        streamId,
        'error',
        'NetStream.Publish.Rejected',
        `${decision.code}: ${decision.reason}`,
      );
      session.socket.end();
      return;
    }
    this.ecdnAccepted = true;
    this.streamName = decision.internalName;
    this.streamQuery = {};
    this.streamId = streamId;
    this.respondPublish();
    this.onConnectCallback({ app: this.streamApp, name: this.streamName, host: this.streamHost, query: {} });
    this.onPushCallback();
    // No "resume" of a publish: stock node-media-server shifts a same-address reconnect's timestamps past the
    // previous publish for 30 s; every publish starts its own timeline at 0 here (the core anchors it).
    if (session.broadcast) session.broadcast.publishGraceMs = 0;
    if (!session.isPublisher) {
      send({
        type: 'publish-failed',
        sessionId: session.id,
        reason: `stream ${decision.internalName} already has a publisher`,
      });
      return;
    }
    watchClock(this, session.id);
    watchHealth(this, session);
    void announceWhenDescribed(session, `/${this.streamApp}/${this.streamName}`);
  });
  send({
    type: 'authorize',
    requestId,
    sessionId: session.id,
    remote: remoteOf(session),
    app: this.streamApp,
    query,
    streamName,
  });
};

// 4. Play: only our own loopback puller, holding an unused pull key for this stream.
Rtmp.prototype.onPlay = function (this: RtmpProto, m: InvokeMessage) {
  const [name, qs] = String(m.streamName ?? '').split('?');
  const session = sessionOf(this);
  const key = new URLSearchParams(qs ?? '').get('k');
  const remote = remoteOf(session);
  const loopback = isOwnAddress(remote, bindAddress);
  if (!session || !loopback || !spendPullKey(key, `/${this.streamApp}/${name ?? ''}`)) {
    send({ type: 'refused', remote, reason: 'RTMP play is not offered; watch over HLS or DASH' });
    session?.socket.end();
    return;
  }
  this.ecdnPlaying = true;
  this.streamName = name ?? '';
  this.streamQuery = {};
  this.streamId = this.parserPacket.header.stream_id;
  this.respondPlay();
  this.onConnectCallback({ app: this.streamApp, name: this.streamName, host: this.streamHost, query: {} });
  this.onPlayCallback();
};

/**
 * Estimates where the encoder's timestamp 0 lies on our clock: the smallest (arrival − dts) over its audio and
 * video packets. Packets sent in a burst (an encoder's backlog after the handshake) arrive late and never set
 * it; the least-delayed packet does. Reported to the core, throttled, as it improves.
 */
function watchClock(rtmp: RtmpProto, sessionId: string): void {
  const forward = rtmp.onPacketCallback;
  let origin = Number.POSITIVE_INFINITY;
  let timer: NodeJS.Timeout | undefined;
  rtmp.onPacketCallback = (packet) => {
    if (packet.codec_type === 8 || packet.codec_type === 9) {
      const o = Date.now() - packet.dts;
      if (o < origin) {
        const first = origin === Number.POSITIVE_INFINITY;
        origin = o;
        if (first) send({ type: 'clock', sessionId, origin });
        else
          timer ??= setTimeout(() => {
            timer = undefined;
            send({ type: 'clock', sessionId, origin });
          }, 250);
      }
    }
    forward(packet);
  };
}

/** Measures the ingest's health from its packets and sends a snapshot to the core every 2 s, until it closes. */
function watchHealth(rtmp: RtmpProto, session: NmsSession): void {
  const meter = new IngestHealthMeter();
  const forward = rtmp.onPacketCallback;
  rtmp.onPacketCallback = (packet) => {
    meter.packet(packet);
    forward(packet);
  };
  const timer = setInterval(
    () => send({ type: 'health', sessionId: session.id, health: meter.snapshot() }),
    2000,
  );
  timer.unref();
  session.socket.once('close', () => clearInterval(timer));
}

const AUDIO_CODECS: Record<string, string> = { '10': 'aac', '2': 'mp3', mp4a: 'aac', '.mp3': 'mp3' };
const VIDEO_CODECS: Record<string, string> = {
  '7': 'h264',
  avc1: 'h264',
  '12': 'hevc',
  hvc1: 'hevc',
  '2': 'flv1',
};

/** Waits briefly for onMetaData, then tells the core the stream is live. */
async function announceWhenDescribed(session: NmsSession, internalPath: string): Promise<void> {
  for (let i = 0; i < 30 && !session.videoWidth && !session.audioCodec && !session.socket.destroyed; i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const md: IngestMetadata = {};
  if (session.videoWidth) md.width = Number(session.videoWidth);
  if (session.videoHeight) md.height = Number(session.videoHeight);
  if (session.videoFramerate) md.framerate = Number(session.videoFramerate);
  if (session.videoDatarate) md.videodatarate = Number(session.videoDatarate);
  if (session.audioDatarate) md.audiodatarate = Number(session.audioDatarate);
  if (session.videoCodec)
    md.videocodecidstring = VIDEO_CODECS[String(session.videoCodec)] ?? String(session.videoCodec);
  if (session.audioCodec)
    md.audiocodecidstring = AUDIO_CODECS[String(session.audioCodec)] ?? String(session.audioCodec);
  send({ type: 'published', sessionId: session.id, internalPath, metadata: md });
  const ended = () => {
    // node-media-server keeps players attached through a 30 s grace window; our puller must see the
    // end of the stream now, so ffmpeg flushes its last fragments and exits on its own.
    for (const player of Context.broadcasts.get(internalPath)?.subscribers.values() ?? []) player.close();
    send({ type: 'unpublished', sessionId: session.id, bytesIn: session.inBytes });
  };
  if (session.socket.destroyed) ended();
  else session.socket.once('close', ended);
}

/**
 * Connections: at most `maxConnections` in all and `maxConnectionsPerAddress` from one address; each must publish
 * (or our ffmpeg play) within `handshakeTimeoutMs`, and is closed after `idleTimeoutMs` of silence.
 */
function admitConnections(nms: { rtmpServer?: { tcpServer?: net.Server } }): void {
  const server = nms.rtmpServer?.tcpServer;
  // No RTMP port configured (port 0): node-media-server listens on nothing, so there is nothing to guard.
  if (!server) return;
  const accept = server.listeners('connection') as Array<(socket: net.Socket) => void>;
  server.removeAllListeners('connection');
  const perAddress = new Map<string, number>();
  let open = 0;
  server.on('connection', (socket: net.Socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    const fromThere = perAddress.get(address) ?? 0;
    if (open >= limits.maxConnections || fromThere >= limits.maxConnectionsPerAddress) {
      send({
        type: 'refused',
        remote: address,
        reason: `too many RTMP connections (${open} open, ${fromThere} from this address)`,
      });
      socket.destroy();
      return;
    }
    open++;
    perAddress.set(address, fromThere + 1);
    socket.once('close', () => {
      open--;
      const n = (perAddress.get(address) ?? 1) - 1;
      if (n <= 0) perAddress.delete(address);
      else perAddress.set(address, n);
    });
    socket.setTimeout(limits.idleTimeoutMs, () => {
      send({
        type: 'refused',
        remote: address,
        reason: `RTMP connection silent for ${limits.idleTimeoutMs} ms`,
      });
      socket.destroy();
    });
    const deadline = setTimeout(() => {
      const rtmp = [...Context.sessions.values()].find((s) => s.socket === socket)?.rtmp;
      // A publish waiting for the partner's answer is bounded by the service timeout, not by this deadline.
      if (socket.destroyed || rtmp?.ecdnPublishing || rtmp?.ecdnPlaying) return;
      send({
        type: 'refused',
        remote: address,
        reason: `no accepted publish within ${limits.handshakeTimeoutMs} ms of connecting`,
      });
      socket.destroy();
    }, limits.handshakeTimeoutMs);
    deadline.unref();
    socket.once('close', () => clearTimeout(deadline));
    for (const listener of accept) listener(socket);
  });
}

async function main(opts: IngestChildOptions): Promise<void> {
  limits = opts.limits ?? DEFAULT_RTMP_LIMITS;
  bindAddress = opts.bind;
  // Check the port ourselves: node-media-server calls process.exit on a listen error.
  const probe = net.createServer();
  const free = await new Promise<string | null>((resolve) => {
    probe.once('error', (err) => resolve(err.message));
    probe.listen(opts.rtmpPort, opts.bind, () => probe.close(() => resolve(null)));
  });
  if (free !== null) {
    send({ type: 'listen-error', message: `RTMP port ${opts.bind}:${opts.rtmpPort}: ${free}` });
    process.exit(2);
  }
  const nms = new NodeMediaServer({
    bind: opts.bind,
    rtmp: { port: opts.rtmpPort },
    store: { path: opts.workDir },
    webadmin: { enable: false },
  });
  nmsLogger.level = process.env.ECDN_NMS_LOG_LEVEL ?? 'warn';
  admitConnections(nms as unknown as { rtmpServer?: { tcpServer?: net.Server } });
  setInterval(() => send({ type: 'memory', rss: process.memoryUsage.rss() }), 2000).unref();
  await nms.run();
  nmsLogger.level = process.env.ECDN_NMS_LOG_LEVEL ?? 'warn';
  process.on('message', (m: CoreToChild) => {
    if (m.type === 'authorized') {
      pending.get(m.requestId)?.(m);
      pending.delete(m.requestId);
    } else if (m.type === 'pull-key') {
      issuePullKey(m.key, m.internalPath);
    } else if (m.type === 'disconnect') {
      Context.sessions.get(m.sessionId)?.socket.destroy();
    } else if (m.type === 'shutdown') {
      void nms.stop().finally(() => process.exit(0));
    }
  });
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', port: opts.rtmpPort });
}

const raw = process.env.ECDN_INGEST_OPTIONS;
if (!raw) {
  console.error('rtmp-child: ECDN_INGEST_OPTIONS is missing');
  process.exit(2);
}
void main(JSON.parse(raw) as IngestChildOptions);
