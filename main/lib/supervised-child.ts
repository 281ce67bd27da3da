/**
 * A helper process the core forks and keeps running: it is told its options in the environment (and nothing else
 * of the core's), says `{type: 'ready', port}` once it listens or `{type: 'listen-error', message}`, and is
 * restarted after a backoff (0.5 s doubling to 10 s) whenever it dies; a restart that fails (the port taken
 * meanwhile, a child that dies before listening) is tried again with the same backoff, so the ingest comes back once
 * it can. Only the first start's failure is the caller's (the appliance cannot start). The RTMP and SRT ingest
 * children are two.
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
  /** The first restart's delay (it doubles up to 10 s). */
  restartDelayMs?: number;
}

type Control = { type: 'ready'; port: number } | { type: 'listen-error'; message: string };

export class SupervisedChild<In extends { type: string }, Out> {
  private child: ChildProcess | undefined;
  private stopping = false;
  private restartDelay: number;
  private listeningNow = false;
  /** How many times the child was restarted (tried again) after dying. */
  restarts = 0;

  constructor(private readonly o: SupervisedChildOptions<In>) {
    this.restartDelay = o.restartDelayMs ?? 500;
  }

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
      execArgv: execArgvFor(this.o.module),
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
          this.restartDelay = this.o.restartDelayMs ?? 500;
          this.o.onReady?.((m as Control & { type: 'ready' }).port);
          resolve();
        } else if (m.type === 'listen-error') {
          reject(new Error((m as Control & { type: 'listen-error' }).message));
          // It cannot serve: never left running beside the next one.
          child.kill('SIGKILL');
        } else {
          this.o.onMessage(m as In);
        }
      });
      child.once('exit', (code, signal) => {
        // A child that could not listen may exit after the next one was forked: that one stays the child.
        const current = this.child === child;
        if (current) {
          this.child = undefined;
          this.listeningNow = false;
          this.o.onExit?.();
        }
        if (!ready) {
          reject(new Error(`${what} exited before listening (${signal ?? `code ${code}`})`));
          return;
        }
        if (this.stopping || !current) return;
        this.restart(`${what} process died (${signal ?? `code ${code}`})`);
      });
    });
  }

  /** Starts it again after the backoff; a start that fails is tried again the same way. */
  private restart(reason: string): void {
    const { log, what } = this.o;
    const delayMs = this.restartDelay;
    this.restartDelay = Math.min(this.restartDelay * 2, 10_000);
    log.error({ reason, delayMs }, `restarting the ${what}`);
    this.restarts++;
    this.o.onRestarting?.({ reason, delayMs });
    setTimeout(() => {
      if (this.stopping) return;
      this.start().catch((err: Error) => {
        if (!this.stopping) this.restart(`${what} restart failed: ${err.message}`);
      });
    }, delayMs).unref();
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

/**
 * The child's Node flags: the core's, and tsx's loader for a TypeScript module when the core was not started with it
 * (run from source by a test runner: the built app forks .js).
 */
function execArgvFor(module: string): string[] {
  const argv = process.execArgv;
  if (!module.endsWith('.ts') || argv.some((a) => a.includes('tsx'))) return argv;
  return [...argv, '--import', 'tsx'];
}
