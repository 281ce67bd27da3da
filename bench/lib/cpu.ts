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
