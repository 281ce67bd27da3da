/**
 * Short-lived helper processes (ffprobe of an upload, the remux of a space item, an archive export): tracked so
 * that shutting the appliance down ends them too, instead of leaving them running without their parent.
 * (Transcoders are supervised by their own class; these are the one-off ones.)
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

const running = new Set<ChildProcess>();

/** `spawn`, remembered until the process exits. */
export function spawnHelper(bin: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
  const p = spawn(bin, args, options);
  running.add(p);
  p.once('exit', () => running.delete(p));
  p.once('error', () => running.delete(p));
  return p;
}

export function runningHelpers(): number {
  return running.size;
}

/** Ends every running helper: SIGTERM, then SIGKILL after `graceMs`. Resolves when all have exited. */
export async function stopHelpers(graceMs = 2000): Promise<void> {
  const all = [...running];
  await Promise.all(
    all.map(
      (p) =>
        new Promise<void>((resolve) => {
          if (p.exitCode !== null || p.signalCode !== null) return resolve();
          const timer = setTimeout(() => p.kill('SIGKILL'), graceMs);
          p.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          p.kill('SIGTERM');
        }),
    ),
  );
}
