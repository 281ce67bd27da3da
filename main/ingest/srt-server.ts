/**
 * Runs the SRT ingest (srt-child.ts) in its own child process and restarts it if it dies. An SRT caller the child
 * accepted is put to the core's `admit` (which builds the same publish request an RTMP encoder makes), then
 * relayed into the RTMP ingest on a loopback URL with a single-use relay key: the RTMP publish that presents the
 * key is the caller's, and is decided by the one publish gate with the caller's own address and credentials.
 */
import { EventEmitter } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bracketHost, isOwnAddress, ownAddress } from '../lib/host-name.js';
import { randomToken } from '../lib/random-id.js';
import { SupervisedChild } from '../lib/supervised-child.js';
import type { Logger } from '../lib/logger.js';
import { APPLICATION_NAME } from './broadcast-url.js';
import type { PublishRequest } from './ingest-server.js';
import type {
  SrtCaller,
  SrtChannelSettings,
  SrtChildOptions,
  SrtChildToCore,
  SrtCoreToChild,
  SrtStats,
} from './srt-protocol.js';

/** How long a relay key stays usable: the relay's ffmpeg connects within moments. */
export const RELAY_KEY_TTL_MS = 10_000;
/** SRT callers at once. */
export const MAX_SRT_SESSIONS = 64;

export interface SrtServerEvents {
  refused: [{ remote: string; entryId?: string; streamId: string; code: string; reason: string }];
  /** SRT statistics of the caller behind an RTMP ingest session. */
  stats: [{ sessionId: string; stats: SrtStats }];
  ended: [{ srtId: number; reason: string }];
  restarting: [{ reason: string; delayMs: number }];
}

export interface SrtServerOptions {
  bind: string;
  srtPort: number;
  ffmpegPath: string;
  /** The RTMP ingest's loopback port (where admitted callers are relayed). */
  rtmpPort: () => number;
  /** The publish request (RTMP's broadcast URL query and stream name) an admitted caller makes. */
  admit: (caller: SrtCaller) => { query: Record<string, string> } | { code: string; reason: string };
  log: Logger;
  library?: string;
  /** The child's resident memory past which the core restarts it (as after a crash). */
  maxChildRss?: number;
}

const MiB = 1024 * 1024;
/**
 * The SRT child's memory bound: what {@link MAX_SRT_SESSIONS} callers may hold within their own limits (libsrt's
 * receive buffer, about 12 MB filled at long latencies; up to 8 MB of relay backlog; 24 MiB each with room) and the
 * process itself (256 MiB). Past it something runs away, and restarting the child costs the callers a reconnect,
 * not the host.
 */
export const MAX_SRT_CHILD_RSS = MAX_SRT_SESSIONS * 24 * MiB + 256 * MiB;

interface RelayKey {
  caller: SrtCaller;
  query: Record<string, string>;
  expires: number;
  /** The RTMP session that presented it. */
  sessionId?: string;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const CHILD_MODULE = path.join(here, `srt-child${path.extname(fileURLToPath(import.meta.url))}`);

export class SrtServer extends EventEmitter<SrtServerEvents> {
  private readonly child: SupervisedChild<SrtChildToCore, SrtCoreToChild>;
  private port = 0;
  private channels: Record<string, SrtChannelSettings> = {};
  private readonly keys = new Map<string, RelayKey>();
  /** RTMP session id → the SRT caller relayed into it. */
  private readonly relayed = new Map<string, number>();
  /** RTMP session id → its caller's latest SRT statistics. */
  private readonly latest = new Map<string, SrtStats>();

  constructor(
    private readonly opts: SrtServerOptions,
    private readonly now: () => number = Date.now,
  ) {
    super();
    const childOpts: SrtChildOptions = {
      bind: opts.bind,
      srtPort: opts.srtPort,
      ffmpegPath: opts.ffmpegPath,
      maxSessions: MAX_SRT_SESSIONS,
      ...(opts.library ? { library: opts.library } : {}),
    };
    this.child = new SupervisedChild({
      module: CHILD_MODULE,
      // Only what the child needs: no secret of the appliance reaches the process that parses SRT.
      env: { ECDN_SRT_OPTIONS: JSON.stringify(childOpts) },
      what: 'SRT ingest',
      log: opts.log,
      onMessage: (m) => this.onMessage(m),
      // The passphrases before the child listens: it waits for them.
      onSpawn: () => this.child.send({ type: 'channels', channels: this.channels }),
      onReady: (port) => {
        this.port = port;
      },
      onExit: () => {
        this.relayed.clear();
        this.latest.clear();
      },
      onRestarting: (r) => this.emit('restarting', r),
    });
  }

  /** How many times the child has been restarted after dying. */
  get restarts(): number {
    return this.child.restarts;
  }

  /** The port SRT callers use (after start). */
  get listeningPort(): number {
    return this.port;
  }

  get isListening(): boolean {
    return this.child.isListening;
  }

  /** Tells the child each channel's passphrase and latency (before any caller needs them). */
  setChannels(channels: Record<string, SrtChannelSettings>): void {
    this.channels = channels;
    this.send({ type: 'channels', channels });
  }

  /**
   * The RTMP ingest's question about a loopback publish presenting `relay=<key>`: the caller's publish request
   * (its address, its broadcast URL query), or a refusal. Undefined: not a relay, decide as usual.
   */
  relayRequest(req: PublishRequest): PublishRequest | { code: string; reason: string } | undefined {
    const key = req.query.relay;
    if (key === undefined) return undefined;
    const found = this.keys.get(key);
    this.keys.delete(key);
    const loopback = isOwnAddress(req.remote, this.opts.bind);
    if (!found || found.expires < this.now() || !loopback) {
      return { code: 'INVALID_RELAY_KEY', reason: 'Unknown, used or expired relay key' };
    }
    this.relayed.set(req.sessionId, found.caller.srtId);
    return {
      sessionId: req.sessionId,
      remote: found.caller.remote,
      transport: 'srt',
      app: APPLICATION_NAME,
      query: found.query,
      streamName: found.caller.streamName,
    };
  }

  /** A relayed publish was refused by the gate: hang up on its caller now (it is told by the SRT session ending). */
  refusedRelay(sessionId: string, code: string, reason: string): void {
    const srtId = this.relayed.get(sessionId);
    this.relayed.delete(sessionId);
    this.latest.delete(sessionId);
    if (srtId !== undefined) this.send({ type: 'close', srtId, code, reason });
  }

  /** The latest SRT statistics of the caller behind an RTMP ingest session. */
  statsOf(sessionId: string): SrtStats | undefined {
    return this.latest.get(sessionId);
  }

  /** Whether an RTMP ingest session is an SRT caller's relay. */
  isRelay(sessionId: string): boolean {
    return this.relayed.has(sessionId);
  }

  start(): Promise<void> {
    return this.child.start();
  }

  private onMessage(m: SrtChildToCore): void {
    switch (m.type) {
      case 'publish': {
        const { type: _type, ...caller } = m;
        const admitted = this.opts.admit(caller);
        if ('code' in admitted) {
          this.send({ type: 'close', srtId: caller.srtId, code: admitted.code, reason: admitted.reason });
          return;
        }
        this.prune();
        const key = randomToken(18);
        this.keys.set(key, { caller, query: admitted.query, expires: this.now() + RELAY_KEY_TTL_MS });
        const url = `rtmp://${bracketHost(ownAddress(this.opts.bind))}:${this.opts.rtmpPort()}/${APPLICATION_NAME}/?relay=${key}/${caller.streamName}`;
        this.send({ type: 'relay', srtId: caller.srtId, url });
        break;
      }
      case 'refused':
        this.opts.log.warn(
          { remote: m.remote, entryId: m.entryId, code: m.code, reason: m.reason },
          'SRT caller refused',
        );
        this.emit('refused', m);
        break;
      case 'stats':
        for (const [sessionId, srtId] of this.relayed) {
          if (srtId !== m.srtId) continue;
          this.latest.set(sessionId, m.stats);
          this.emit('stats', { sessionId, stats: m.stats });
        }
        break;
      case 'memory': {
        const max = this.opts.maxChildRss ?? MAX_SRT_CHILD_RSS;
        if (m.rss > max) {
          this.opts.log.error({ rss: m.rss, max }, 'SRT ingest over its memory bound: restarting it');
          this.child.kill();
        }
        break;
      }
      case 'ended':
        // A relay key of a caller that is gone is worth nothing to anyone.
        for (const [key, k] of this.keys) if (k.caller.srtId === m.srtId) this.keys.delete(key);
        for (const [sessionId, srtId] of this.relayed) {
          if (srtId !== m.srtId) continue;
          this.relayed.delete(sessionId);
          this.latest.delete(sessionId);
        }
        this.emit('ended', m);
        break;
    }
  }

  private prune(): void {
    const now = this.now();
    for (const [k, v] of this.keys) if (v.expires < now) this.keys.delete(k);
    while (this.keys.size > MAX_SRT_SESSIONS * 4) this.keys.delete(this.keys.keys().next().value as string);
  }

  private send(m: SrtCoreToChild): void {
    this.child.send(m);
  }

  /** The child's process id (for fault drills). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  stop(): Promise<void> {
    return this.child.stop({ type: 'shutdown' });
  }
}
