/**
 * Load generators run in child node processes (TypeScript through tsx, as the appliance does), so they never
 * share an event loop with the measuring process: the input goes in on stdin as JSON, the result comes back as
 * the last line of stdout. Every child is bounded in time (SIGKILL at the deadline) and killed by `kill()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { ROOT } from '../../test/helpers/appliance.js';

export interface Worker<T> {
  proc: ChildProcess;
  pid: number;
  /** Resolves with the child's JSON result; rejects when it fails, prints no result or passes its deadline. */
  result: Promise<T>;
  /** SIGKILL unless it has exited; resolves once it has. */
  kill: () => Promise<void>;
}

export function startWorker<T>(script: string, input: unknown, deadlineMs: number): Worker<T> {
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, script)], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  if (proc.pid === undefined) throw new Error(`could not spawn ${script}`);
  let stdout = '';
  let stderr = '';
  proc.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  proc.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  proc.stdin?.end(JSON.stringify(input));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const timer = setTimeout(() => proc.kill('SIGKILL'), deadlineMs);
  const result = exited.then((code) => {
    clearTimeout(timer);
    const last = stdout.trim().split('\n').pop() ?? '';
    if (code !== 0 || !last.startsWith('{'))
      throw new Error(`${script} exited with ${code ?? proc.signalCode}: ${stderr.slice(-3000)}`);
    return JSON.parse(last) as T;
  });
  // A failure is reported through `result`; never an unhandled rejection when only kill() is awaited.
  result.catch(() => undefined);
  return {
    proc,
    pid: proc.pid,
    result,
    kill: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface ServerChild<T> {
  pid: number;
  /** What the child printed as its first JSON line once it was listening. */
  ready: T;
  /** SIGKILL unless it has exited; resolves once it has. */
  kill: () => Promise<void>;
}

/**
 * A long-running child (a server the bench loads): started like a worker, ready once it prints a JSON line on
 * stdout, killed by `kill()` (or by SIGKILL at the deadline, so it can never outlive a bench that failed).
 */
export async function startServerChild<T>(
  script: string,
  input: unknown,
  deadlineMs: number,
): Promise<ServerChild<T>> {
  const worker = startWorker<never>(script, input, deadlineMs);
  const ready = await new Promise<T>((resolve, reject) => {
    let stdout = '';
    const onData = (d: string) => {
      stdout += d;
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (line && stdout.includes('\n', stdout.indexOf(line))) {
        worker.proc.stdout?.off('data', onData);
        resolve(JSON.parse(line) as T);
      }
    };
    worker.proc.stdout?.on('data', onData);
    worker.result.then(
      () => reject(new Error(`${script} exited before it was ready`)),
      (err: unknown) => reject(err instanceof Error ? err : new Error(String(err))),
    );
  });
  return { pid: worker.pid, ready, kill: worker.kill };
}
