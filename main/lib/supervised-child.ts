/**
 * A helper process the core forks and keeps running: it is told its options in the environment (and nothing else
 * of the core's), says `{type: 'ready', port}` once it listens or `{type: 'listen-error', message}`, and is
 * restarted after a backoff (0.5 s doubling to 10 s) whenever it dies. The RTMP and SRT ingest children are two.
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { Logger } from './logger.js';

export interface SupervisedChildOptions<In> {
  /** The module forked (a sibling .ts under tsx, .js when built). */
  module: string;
  /** The child's whole environment besides PATH. */
  env: Record<string, string>;
  /** What it is, in log lines and errors ("RTMP ingest"). */
  what: string;
  log: Logger;
  /** Every message but `ready` and `listen-error`. */
  onMessage: (m: In) => void;
  /** It was forked (first start and each restart): what it must be told before it listens. */
  onSpawn?: () => void;
  /** It listens (again): on the first start and after each restart. */
  onReady?: (port: number) => void;
  /** It exited (whatever the reason), before any restart. */
  onExit?: () => void;
  onRestarting?: (r: { reason: string; delayMs: number }) => void;
}

type Control = { type: 'ready'; port: number } | { type: 'listen-error'; message: string };

export class SupervisedChild<In extends { type: string }, Out> {
  private child: ChildProcess | undefined;
  private stopping = false;
  private restartDelay = 500;
  private listeningNow = false;
  /** How many times the child was restarted after dying. */
  restarts = 0;

  constructor(private readonly o: SupervisedChildOptions<In>) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get isListening(): boolean {
    return this.listeningNow;
  }

  /** Starts the child and resolves once it listens; rejects if it cannot. */
  start(): Promise<void> {
    const { log, what } = this.o;
    const child = fork(this.o.module, [], {
      env: { PATH: process.env.PATH ?? '', ...this.o.env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
    this.child = child;
    this.o.onSpawn?.();
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      for (const line of d.split('\n').filter(Boolean)) log.debug({ child: line }, what);
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      for (const line of d.split('\n').filter(Boolean)) log.warn({ child: line }, what);
    });
    return new Promise((resolve, reject) => {
      let ready = false;
      child.on('message', (m: In | Control) => {
        if (m.type === 'ready') {
          ready = true;
          this.listeningNow = true;
          this.restartDelay = 500;
          this.o.onReady?.((m as Control & { type: 'ready' }).port);
          resolve();
        } else if (m.type === 'listen-error') {
          reject(new Error((m as Control & { type: 'listen-error' }).message));
        } else {
          this.o.onMessage(m as In);
        }
      });
      child.once('exit', (code, signal) => {
        this.child = undefined;
        this.listeningNow = false;
        this.o.onExit?.();
        if (!ready) {
          reject(new Error(`${what} exited before listening (${signal ?? `code ${code}`})`));
          return;
        }
        if (this.stopping) return;
        const reason = `${what} process died (${signal ?? `code ${code}`})`;
        const delayMs = this.restartDelay;
        this.restartDelay = Math.min(this.restartDelay * 2, 10_000);
        log.error({ reason, delayMs }, `restarting the ${what}`);
        this.restarts++;
        this.o.onRestarting?.({ reason, delayMs });
        setTimeout(() => {
          if (!this.stopping)
            this.start().catch((err: Error) => log.error({ err: err.message }, `${what} restart failed`));
        }, delayMs).unref();
      });
    });
  }

  send(m: Out): void {
    if (this.child?.connected) this.child.send(m as object);
  }

  /** Kills the child now (a runaway one is restarted as after a crash). */
  kill(): void {
    this.child?.kill('SIGKILL');
  }

  /** Asks it to shut down (`shutdown`), and kills it after 3 s if it has not. */
  async stop(shutdown: Out): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    this.send(shutdown);
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }
}
