/**
 * Was the machine quiet? Total busy CPU time (/proc/stat) against the CPU time of the bench's own process
 * tree (/proc/self/stat utime+stime plus reaped children's cutime+cstime): the difference is what other
 * processes used while the bench ran. Read the end only after every child has exited and been reaped.
 */
import fs from 'node:fs';

/** USER_HZ: the unit of /proc CPU times; 100 on every mainstream Linux build. */
const TICKS_PER_SECOND = 100;

function machineBusyTicks(): number {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
  return [user, nice, system, irq, softirq, steal].reduce<number>((s, v) => s + (v ?? 0), 0);
}

/** Busy CPU seconds of the whole machine since boot (all cores): the difference of two readings / wall = cores busy. */
export function machineBusySeconds(): number {
  return machineBusyTicks() / TICKS_PER_SECOND;
}

function selfTreeTicks(): number {
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  const f = stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number);
  // After "pid (comm) ": state=0 ... utime=11 stime=12 cutime=13 cstime=14.
  return (f[11] ?? 0) + (f[12] ?? 0) + (f[13] ?? 0) + (f[14] ?? 0);
}

export interface CpuAccount {
  wallSeconds: number;
  /** CPU seconds used on the whole machine. */
  machineCpuSeconds: number;
  /** CPU seconds of the bench, the appliance and every ffmpeg they ran. */
  benchCpuSeconds: number;
  /** CPU seconds of everything else: should be near 0 on a quiet machine. */
  otherCpuSeconds: number;
  /** otherCpuSeconds / wallSeconds: average number of cores used by other processes. */
  otherCores: number;
}

export function startCpuAccount(): () => CpuAccount {
  const t0 = performance.now();
  const busy0 = machineBusyTicks();
  const self0 = selfTreeTicks();
  return () => {
    const wallSeconds = (performance.now() - t0) / 1000;
    const machineCpuSeconds = (machineBusyTicks() - busy0) / TICKS_PER_SECOND;
    const benchCpuSeconds = (selfTreeTicks() - self0) / TICKS_PER_SECOND;
    const otherCpuSeconds = Math.max(0, machineCpuSeconds - benchCpuSeconds);
    return {
      wallSeconds,
      machineCpuSeconds,
      benchCpuSeconds,
      otherCpuSeconds,
      otherCores: otherCpuSeconds / wallSeconds,
    };
  };
}

/** utime+stime of one process (not its children), in CPU seconds; undefined when it is gone. */
export function processCpuSeconds(pid: number): number | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const f = stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number);
  return ((f[11] ?? 0) + (f[12] ?? 0)) / TICKS_PER_SECOND;
}

/**
 * CPU seconds of a set of processes over an interval: call `take()` at the start and `take()` at the end;
 * a process that exits in between is counted up to its last reading (`sample()` keeps readings fresh).
 */
export class ProcessCpu {
  private readonly first = new Map<number, number>();
  private readonly last = new Map<number, number>();

  /** Reads every pid; new pids start at their first reading (CPU spent before that is not counted). */
  sample(pids: readonly number[]): void {
    for (const pid of pids) {
      const s = processCpuSeconds(pid);
      if (s === undefined) continue;
      if (!this.first.has(pid)) this.first.set(pid, s);
      this.last.set(pid, s);
    }
  }

  /** CPU seconds used since each pid's first reading. */
  seconds(pids?: readonly number[]): number {
    let total = 0;
    for (const [pid, end] of this.last) {
      if (pids && !pids.includes(pid)) continue;
      total += end - (this.first.get(pid) ?? end);
    }
    return total;
  }
}

/**
 * Seconds one thread has run on a CPU and waited on a runqueue for one (runnable, but every CPU busy with other
 * work), from /proc/<pid>/task/<tid>/schedstat; the main thread when `tid` is omitted. Undefined when gone.
 */
export function threadSchedSeconds(pid: number, tid = pid): { run: number; wait: number } | undefined {
  try {
    const [run, wait] = fs
      .readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    return { run: (run ?? 0) / 1e9, wait: (wait ?? 0) / 1e9 };
  } catch {
    return undefined;
  }
}
