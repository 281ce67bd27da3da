/**
 * Runs the RTMP ingest (node-media-server) in its own child process and restarts it if it dies.
 * Every publish request is put to the core's `authorize` callback before the encoder may send media.
 */
import type { IngestHealthSnapshot } from './ingest-health.js';
import { EventEmitter } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../lib/logger.js';
import type { ChildToCore, CoreToChild, IngestChildOptions, IngestMetadata } from './ingest-protocol.js';
import { SupervisedChild } from '../lib/supervised-child.js';
import { bracketHost, ownAddress } from '../lib/host-name.js';
import { randomToken } from '../lib/random-id.js';
import { DEFAULT_RTMP_LIMITS, type RtmpLimits } from './rtmp-limits.js';

export interface PublishRequest {
  sessionId: string;
  remote: string;
  /** How the encoder reaches the appliance (absent: RTMP). */
  transport?: 'rtmp' | 'srt';
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
  private readonly child: SupervisedChild<ChildToCore, CoreToChild>;
  private readonly live = new Set<string>();

  constructor(private readonly opts: IngestServerOptions) {
    super();
    const childOpts: IngestChildOptions = {
      bind: opts.bind,
      rtmpPort: opts.rtmpPort,
      workDir: opts.workDir,
      limits: opts.limits ?? DEFAULT_RTMP_LIMITS,
    };
    this.child = new SupervisedChild({
      module: CHILD_MODULE,
      // Only what the child needs: none of the appliance's secrets reach the process that parses RTMP.
      env: {
        ECDN_INGEST_OPTIONS: JSON.stringify(childOpts),
        ...(process.env.ECDN_NMS_LOG_LEVEL ? { ECDN_NMS_LOG_LEVEL: process.env.ECDN_NMS_LOG_LEVEL } : {}),
      },
      what: 'RTMP ingest',
      log: opts.log,
      onMessage: (m) => this.onMessage(m),
      onExit: () => {
        for (const sessionId of this.live) this.emit('unpublished', { sessionId, bytesIn: 0 });
        this.live.clear();
      },
      onRestarting: (r) => this.emit('restarting', r),
    });
  }

  /** How many times the child has been restarted after dying. */
  get restarts(): number {
    return this.child.restarts;
  }

  /** The loopback URL of a stream, without a pull key (the ingest refuses to play it). */
  streamUrl(internalPath: string): string {
    return `rtmp://${bracketHost(ownAddress(this.opts.bind))}:${this.opts.rtmpPort}${internalPath}`;
  }

  /**
   * The loopback URL one ffmpeg process pulls a stream from, with a pull key good for one play of that stream
   * (the key is visible in ffmpeg's command line to every local user; by the time they read it, it is spent).
   */
  pullUrl(internalPath: string): string {
    const key = randomToken(18);
    this.child.send({ type: 'pull-key', key, internalPath });
    return `${this.streamUrl(internalPath)}?k=${key}`;
  }

  /** Starts the child and resolves once it listens; rejects if the port cannot be used. */
  start(): Promise<void> {
    return this.child.start();
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
            this.child.send(
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
        if (m.rss > max) {
          // Bounded by the core: a runaway child is restarted (as after a crash), never the host.
          this.opts.log.error({ rss: m.rss, max }, 'RTMP ingest over its memory bound: restarting it');
          this.child.kill();
        }
        break;
      }
    }
  }

  /** Closes an encoder's connection. */
  disconnect(sessionId: string): void {
    this.child.send({ type: 'disconnect', sessionId });
  }

  /** The child's process id (for fault drills and monitoring). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Whether encoders can connect right now. */
  get isListening(): boolean {
    return this.child.isListening;
  }

  stop(): Promise<void> {
    return this.child.stop({ type: 'shutdown' });
  }
}
