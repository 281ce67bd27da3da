/**
 * Runs the RTMP ingest (node-media-server) in its own child process and restarts it if it dies.
 * Every publish request is put to the core's `authorize` callback before the encoder may send media.
 */
import type { IngestHealthSnapshot } from './ingest-health.js';
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../lib/logger.js';
import type { ChildToCore, CoreToChild, IngestChildOptions, IngestMetadata } from './ingest-protocol.js';
import { randomToken } from '../lib/random-id.js';
import { DEFAULT_RTMP_LIMITS, type RtmpLimits } from './rtmp-limits.js';

export interface PublishRequest {
  sessionId: string;
  remote: string;
  app: string;
  query: Record<string, string>;
  streamName: string;
}

export type AuthorizeDecision =
  { allow: true; internalName: string } | { allow: false; code: string; reason: string };

export interface IngestServerEvents {
  published: [{ sessionId: string; internalPath: string; metadata: IngestMetadata }];
  unpublished: [{ sessionId: string; bytesIn: number }];
  clock: [{ sessionId: string; origin: number }];
  health: [{ sessionId: string; health: IngestHealthSnapshot }];
  publishFailed: [{ sessionId: string; reason: string }];
  refused: [{ remote: string; reason: string }];
  /** The child died and is being restarted. */
  restarting: [{ reason: string; delayMs: number }];
}

export interface IngestServerOptions {
  bind: string;
  rtmpPort: number;
  workDir: string;
  log: Logger;
  authorize: (req: PublishRequest) => Promise<AuthorizeDecision>;
  /** What one RTMP peer may make the child hold; defaults {@link DEFAULT_RTMP_LIMITS}. */
  limits?: RtmpLimits;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const CHILD_MODULE = path.join(here, `rtmp-child${path.extname(fileURLToPath(import.meta.url))}`);

export class IngestServer extends EventEmitter<IngestServerEvents> {
  private child: ChildProcess | undefined;
  private listening = false;
  private stopping = false;
  private readonly live = new Set<string>();
  private restartDelay = 500;
  /** How many times the child has been restarted after dying. */
  restarts = 0;

  constructor(private readonly opts: IngestServerOptions) {
    super();
  }

  /** The loopback URL of a stream, without a pull key (the ingest refuses to play it). */
  streamUrl(internalPath: string): string {
    return `rtmp://127.0.0.1:${this.opts.rtmpPort}${internalPath}`;
  }

  /**
   * The loopback URL one ffmpeg process pulls a stream from, with a pull key good for one play of that stream
   * (the key is visible in ffmpeg's command line to every local user; by the time they read it, it is spent).
   */
  pullUrl(internalPath: string): string {
    const key = randomToken(18);
    this.send({ type: 'pull-key', key, internalPath });
    return `${this.streamUrl(internalPath)}?k=${key}`;
  }

  /** Starts the child and resolves once it listens; rejects if the port cannot be used. */
  start(): Promise<void> {
    const childOpts: IngestChildOptions = {
      bind: this.opts.bind,
      rtmpPort: this.opts.rtmpPort,
      workDir: this.opts.workDir,
      limits: this.opts.limits ?? DEFAULT_RTMP_LIMITS,
    };
    const child = fork(CHILD_MODULE, [], {
      // Only what the child needs: none of the appliance's secrets reach the process that parses RTMP.
      env: {
        PATH: process.env.PATH ?? '',
        ECDN_INGEST_OPTIONS: JSON.stringify(childOpts),
        ...(process.env.ECDN_NMS_LOG_LEVEL ? { ECDN_NMS_LOG_LEVEL: process.env.ECDN_NMS_LOG_LEVEL } : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
    this.child = child;
    const log = this.opts.log;
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      for (const line of d.split('\n').filter(Boolean)) log.debug({ nms: line }, 'ingest');
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      for (const line of d.split('\n').filter(Boolean)) log.warn({ nms: line }, 'ingest');
    });
    return new Promise((resolve, reject) => {
      let ready = false;
      child.on('message', (m: ChildToCore) => {
        if (m.type === 'ready') {
          ready = true;
          this.listening = true;
          this.restartDelay = 500;
          resolve();
        } else if (m.type === 'listen-error') {
          reject(new Error(m.message));
        } else {
          this.onMessage(m);
        }
      });
      child.once('exit', (code, signal) => {
        this.child = undefined;
        this.listening = false;
        for (const sessionId of this.live) this.emit('unpublished', { sessionId, bytesIn: 0 });
        this.live.clear();
        if (!ready) {
          reject(new Error(`RTMP ingest exited before listening (${signal ?? `code ${code}`})`));
          return;
        }
        if (this.stopping) return;
        const reason = `RTMP ingest process died (${signal ?? `code ${code}`})`;
        const delayMs = this.restartDelay;
        this.restartDelay = Math.min(this.restartDelay * 2, 10_000);
        log.error({ reason, delayMs }, 'restarting the RTMP ingest');
        this.restarts++;
        this.emit('restarting', { reason, delayMs });
        setTimeout(() => {
          if (!this.stopping)
            this.start().catch((err: Error) => log.error({ err: err.message }, 'RTMP ingest restart failed'));
        }, delayMs).unref();
      });
    });
  }

  private onMessage(m: ChildToCore): void {
    switch (m.type) {
      case 'authorize': {
        const { requestId, ...req } = m;
        this.opts
          .authorize(req)
          .catch((err: Error): AuthorizeDecision => ({
            allow: false,
            code: 'INTERNAL_ERROR',
            reason: err.message,
          }))
          .then((d) =>
            this.send(
              d.allow
                ? { type: 'authorized', requestId, allow: true, internalName: d.internalName }
                : { type: 'authorized', requestId, ...d },
            ),
          );
        break;
      }
      case 'published':
        this.live.add(m.sessionId);
        this.emit('published', m);
        break;
      case 'unpublished':
        if (this.live.delete(m.sessionId)) this.emit('unpublished', m);
        break;
      case 'clock':
        this.emit('clock', m);
        break;
      case 'health':
        if (this.live.has(m.sessionId)) this.emit('health', m);
        break;
      case 'publish-failed':
        this.emit('publishFailed', m);
        break;
      case 'refused':
        this.emit('refused', m);
        break;
      case 'memory': {
        const max = (this.opts.limits ?? DEFAULT_RTMP_LIMITS).maxChildRss;
        if (m.rss > max && this.child) {
          // Bounded by the core: a runaway child is restarted (as after a crash), never the host.
          this.opts.log.error({ rss: m.rss, max }, 'RTMP ingest over its memory bound: restarting it');
          this.child.kill('SIGKILL');
        }
        break;
      }
    }
  }

  /** Closes an encoder's connection. */
  disconnect(sessionId: string): void {
    this.send({ type: 'disconnect', sessionId });
  }

  /** The child's process id (for fault drills and monitoring). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Whether encoders can connect right now. */
  get isListening(): boolean {
    return this.listening;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    this.send({ type: 'shutdown' });
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }

  private send(m: CoreToChild): void {
    if (this.child?.connected) this.child.send(m);
  }
}
