/**
 * One push target while its channel is live: an ffmpeg process that copies the channel's stream from the ingest
 * (its own single-use pull key) to the target, no re-encode. It is on its own: when the target refuses or drops,
 * only this process ends, and it is started again after a backoff (1, 2, 4 s, then every 5 s) with a fresh pull
 * URL, while the ingest, the origin and the other targets go on. Its state (connecting, live, retrying with the
 * last error) and the bytes it sent are what the dashboard shows. The target URL is never logged.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Logger } from '../lib/logger.js';
import { maskPushUrl, redactPushUrl, type PushProtocol } from './push-target-url.js';

export type PushState = 'idle' | 'connecting' | 'live' | 'retrying' | 'disabled';

export interface PushStatus {
  state: PushState;
  /** The last failure, in ffmpeg's words with the URL masked. */
  lastError?: string;
  /** Bytes sent by the current process (ffmpeg's total_size). */
  bytesSent: number;
  /** When the current process started sending (ms since the epoch). */
  liveSince?: number;
  /** When the next attempt starts (retrying). */
  retryAt?: number;
  /** Attempts since the last one that went live. */
  failures: number;
}

export interface PushRunOptions {
  ffmpegPath: string;
  url: string;
  protocol: PushProtocol;
  /**
   * ffmpeg's input arguments, fresh for each process: the ingest's stream with a single-use pull key
   * ({@link sourceInput}), or a transcoded rendition's tracks from the origin ({@link renditionInput}).
   */
  input: () => string[];
  log: Logger;
  /** Delays between attempts (ms); the last repeats. */
  backoff?: readonly number[];
  now?: () => number;
}

const DEFAULT_BACKOFF = [1000, 2000, 4000, 5000];
/** A process that sent for this long resets the backoff. */
const HEALTHY_MS = 30_000;

/** The source rendition: the encoder's stream from the ingest. */
export function sourceInput(url: string): string[] {
  return ['-rw_timeout', '10000000', '-i', url, '-map', '0:v?', '-map', '0:a?'];
}

/**
 * A transcoded rendition: its video and audio tracks' live playlists on the origin (loopback), from the newest
 * fragment on; copied as the ingest's stream is.
 */
export function renditionInput(video: string, audio: string): string[] {
  // The appliance's own request: not counted as a viewer (origin/viewer-stats.ts).
  const live = [
    '-live_start_index',
    '-1',
    '-rw_timeout',
    '10000000',
    '-headers',
    'X-Ecdn-Internal: push\r\n',
  ];
  return [...live, '-i', video, ...live, '-i', audio, '-map', '0:v', '-map', '1:a'];
}

export function pushArgs(input: string[], url: string, protocol: PushProtocol): string[] {
  return [
    '-hide_banner',
    '-loglevel',
    'warning',
    '-nostats',
    '-progress',
    'pipe:1',
    ...input,
    '-c',
    'copy',
    ...(protocol === 'srt' ? ['-f', 'mpegts'] : ['-f', 'flv']),
    url,
  ];
}

export class PushRun extends EventEmitter<{ status: [PushStatus] }> {
  private child: ChildProcess | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private startedAt = 0;
  private exited: Promise<void> = Promise.resolve();
  status: PushStatus = { state: 'idle', bytesSent: 0, failures: 0 };

  constructor(private readonly o: PushRunOptions) {
    super();
  }

  private get now(): number {
    return (this.o.now ?? Date.now)();
  }

  private set(change: Partial<PushStatus>, drop: Array<keyof PushStatus> = []): void {
    const next = { ...this.status, ...change };
    for (const k of drop) delete next[k];
    this.status = next;
    this.emit('status', next);
  }

  start(): void {
    if (this.stopped || this.child) return;
    const { ffmpegPath, url, protocol, log } = this.o;
    this.set({ state: 'connecting', bytesSent: 0 }, ['liveSince', 'retryAt']);
    this.startedAt = this.now;
    const child = spawn(ffmpegPath, pushArgs(this.o.input(), url, protocol), {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    log.info({ pid: child.pid, target: maskPushUrl(url) }, 'push started');
    let progress = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      progress += d;
      const lines = progress.split('\n');
      progress = lines.pop() ?? '';
      for (const line of lines) {
        const m = /^total_size=(\d+)/.exec(line);
        if (!m) continue;
        const bytes = Number(m[1]);
        if (bytes > 0 && this.status.state !== 'live')
          this.set({ state: 'live', liveSince: this.now, bytesSent: bytes });
        else if (bytes !== this.status.bytesSent) this.set({ bytesSent: bytes });
      }
    });
    const tail: string[] = [];
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      for (const line of redactPushUrl(d, url).split('\n').filter(Boolean)) {
        tail.push(line.replace(/([?&](?:k|sig)=)[^&\s]+/g, '$1[redacted]'));
        if (tail.length > 5) tail.shift();
      }
    });
    this.exited = new Promise((resolve) => {
      child.once('error', (err) => tail.push(`could not start ffmpeg: ${err.message}`));
      child.once('close', (code, signal) => {
        this.child = undefined;
        resolve();
        if (this.stopped) return;
        const wasLive = this.status.state === 'live';
        const healthy = wasLive && this.now - this.startedAt > HEALTHY_MS;
        const failures = healthy ? 1 : this.status.failures + 1;
        const reason =
          tail.filter((l) => !/^\s*$/.test(l)).slice(-1)[0] ??
          (wasLive ? 'the target closed the connection' : `ffmpeg exited (${signal ?? `code ${code}`})`);
        const steps = this.o.backoff ?? DEFAULT_BACKOFF;
        const delay = steps[Math.min(failures - 1, steps.length - 1)] ?? 5000;
        log.warn({ target: maskPushUrl(url), reason, delayMs: delay }, 'push ended; retrying');
        this.set({ state: 'retrying', lastError: reason, failures, retryAt: this.now + delay }, [
          'liveSince',
        ]);
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.start();
        }, delay);
      });
    });
  }

  /** Ends the push (the channel stopped, the target was disabled or deleted). */
  async stop(state: 'idle' | 'disabled' = 'idle'): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT');
      const kill = setTimeout(() => child.kill('SIGKILL'), 3000);
      await this.exited;
      clearTimeout(kill);
    }
    this.set({ state, bytesSent: this.status.bytesSent }, ['liveSince', 'retryAt']);
  }
}
