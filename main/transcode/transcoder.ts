/**
 * Runs one ffmpeg per published stream: it pulls the ingest over loopback and writes one fMP4
 * stream per track into the publishing point. If ffmpeg dies while the encoder is still connected,
 * it is restarted with backoff; its progress feeds the channel's statistics.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Logger } from '../lib/logger.js';
import type { TranscoderRun } from '../origin/fragment-writer.js';
import type { TranscodePlan } from './ffmpeg-args.js';
import { ProgressParser, type TranscodeProgress } from './transcode-progress.js';

export interface TranscoderEvents {
  progress: [TranscodeProgress];
  /** ffmpeg exited on its own while the encoder stayed connected, and was started again after `delayMs`. */
  restarting: [{ attempt: number; delayMs: number; reason: string }];
  /** The transcoder has stopped for good (after {@link Transcoder.stop}). */
  stopped: [];
}

export interface TranscoderOptions {
  ffmpegPath: string;
  plan: TranscodePlan;
  /** Called once per ffmpeg process: where its track outputs go. */
  beginRun: () => TranscoderRun;
  /**
   * Called once per ffmpeg process: its input URL, in place of the plan's (the ingest's pull keys are single-use,
   * so a restarted ffmpeg needs a new one).
   */
  inputUrl?: () => string;
  log: Logger;
  /** Backoff steps in ms between restarts; the last repeats. */
  backoff?: readonly number[];
  /** How long ffmpeg may take to finish after SIGINT before it is killed. */
  stopTimeoutMs?: number;
}

const DEFAULT_BACKOFF = [500, 1000, 2000, 4000, 8000, 15000];
/** A run that lasted this long resets the backoff. */
const HEALTHY_MS = 30_000;

export class Transcoder extends EventEmitter<TranscoderEvents> {
  private child: ChildProcess | undefined;
  private stopping = false;
  private attempt = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private exited: Promise<void> = Promise.resolve();
  /** Where the current (or last) ffmpeg process writes. */
  private run: TranscoderRun | undefined;
  lastProgress: TranscodeProgress | undefined;
  restarts = 0;

  constructor(private readonly opts: TranscoderOptions) {
    super();
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  start(): void {
    if (this.stopping || this.child) return;
    const { plan, ffmpegPath, log } = this.opts;
    const run = this.opts.beginRun();
    this.run = run;
    const stdio: Array<'ignore' | 'pipe'> = [
      'ignore',
      'pipe',
      'pipe',
      ...plan.tracks.map(() => 'pipe' as const),
    ];
    const startedAt = Date.now();
    const args = [...plan.args];
    if (this.opts.inputUrl) args[args.indexOf('-i') + 1] = this.opts.inputUrl();
    const child = spawn(ffmpegPath, args, { stdio });
    this.child = child;
    log.info({ pid: child.pid, tracks: plan.tracks.map((t) => t.trackName) }, 'transcoder started');
    const progress = new ProgressParser((p) => {
      this.lastProgress = p;
      this.emit('progress', p);
    });
    child.stdout?.setEncoding('utf8').on('data', (d: string) => progress.push(d));
    const stderrTail: string[] = [];
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      // ffmpeg names its input URL in errors: never log the ingest's pull key.
      for (const line of d
        .replace(/([?&]k=)[^&\s]+/g, '$1[redacted]')
        .split('\n')
        .filter(Boolean)) {
        stderrTail.push(line);
        if (stderrTail.length > 20) stderrTail.shift();
        log.debug({ ffmpeg: line }, 'ffmpeg');
      }
    });
    plan.tracks.forEach((_t, i) => {
      const out = child.stdio[3 + i] as NodeJS.ReadableStream | null;
      const input = run.input(i);
      out?.on('data', (chunk: Buffer) => input.push(chunk));
      out?.on('end', () => input.end());
      out?.on('error', () => input.end());
    });
    this.exited = new Promise((resolve) => {
      child.once('error', (err) => {
        log.error({ err: err.message }, 'could not start ffmpeg');
      });
      child.once('close', (code, signal) => {
        this.child = undefined;
        plan.tracks.forEach((_t, i) => run.input(i).end());
        const reason = signal ? `killed by ${signal}` : `exit code ${code}`;
        if (this.stopping) {
          log.info({ reason }, 'transcoder stopped');
          resolve();
          return;
        }
        if (Date.now() - startedAt > HEALTHY_MS) this.attempt = 0;
        const steps = this.opts.backoff ?? DEFAULT_BACKOFF;
        const delayMs = steps[Math.min(this.attempt, steps.length - 1)] ?? 1000;
        const detail = stderrTail.slice(-3).join(' | ');
        // Decide after the delay: an ffmpeg that ended because the encoder left is stopped meanwhile.
        this.restartTimer = setTimeout(() => {
          this.restartTimer = undefined;
          if (this.stopping) return;
          this.attempt++;
          this.restarts++;
          log.warn({ reason, detail, delayMs }, 'transcoder died while the encoder is connected; restarted');
          this.emit('restarting', {
            attempt: this.attempt,
            delayMs,
            reason: detail ? `${reason}: ${detail}` : reason,
          });
          this.start();
        }, delayMs);
        resolve();
      });
    });
  }

  /**
   * Stops ffmpeg: first it may finish on its own (its input ended: it flushes every fragment), then SIGINT
   * (it still writes its last fragments), then SIGKILL if it hangs.
   */
  async stop(drainMs = 3000): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const child = this.child;
    if (child) {
      const exited = this.exited;
      const interrupt = setTimeout(() => child.kill('SIGINT'), drainMs);
      const kill = setTimeout(() => child.kill('SIGKILL'), drainMs + (this.opts.stopTimeoutMs ?? 8000));
      await exited;
      clearTimeout(interrupt);
      clearTimeout(kill);
    }
    // ffmpeg has closed its pipes; its last fragments are still being written and indexed.
    if (this.run) await Promise.race([this.run.finished, new Promise((r) => setTimeout(r, 5000).unref())]);
    this.emit('stopped');
  }

  /** For tests and fault drills: kill ffmpeg as a crash would. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.child?.kill(signal);
  }
}
