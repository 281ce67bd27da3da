/**
 * Memory of the appliance and its children, read from Linux /proc: VmRSS (now) and VmHWM (the kernel's
 * own peak RSS of the process). Children are found by scanning /proc/<pid>/stat for a matching ppid.
 */
import fs from 'node:fs';

export interface MemReading {
  rssKb: number;
  hwmKb: number;
}

/** VmRSS and VmHWM of `pid` in kB, or undefined when the process is gone. */
export function readMem(pid: number): MemReading | undefined {
  let status: string;
  try {
    status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
}

export interface ProcInfo {
  pid: number;
  ppid: number;
  comm: string;
}

/** `pid (comm) state ppid ...`; comm may hold spaces or parentheses, so split at the last `)`. */
function readStat(pid: number): ProcInfo | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const open = stat.indexOf('(');
  const close = stat.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const rest = stat
    .slice(close + 2)
    .split(' ')
    .filter(Boolean);
  return { pid, comm: stat.slice(open + 1, close), ppid: Number(rest[1]) };
}

/** Direct children of `ppid`. */
export function childrenOf(ppid: number): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const info = readStat(Number(name));
    if (info && info.ppid === ppid) out.push(info);
  }
  return out;
}

export type MemRole = 'core' | 'ingest' | 'transcoder' | 'other';

export interface RolePeak {
  /** Highest VmRSS seen by sampling. */
  peakRssKb: number;
  /** Highest VmHWM seen (the kernel's peak, catches spikes between samples). */
  peakHwmKb: number;
  pids: number[];
  samples: number;
}

/** Samples the appliance process and its direct children every `intervalMs`. */
export class MemorySampler {
  private timer: NodeJS.Timeout | undefined;
  readonly peaks: Record<MemRole, RolePeak> = {
    core: { peakRssKb: 0, peakHwmKb: 0, pids: [], samples: 0 },
    ingest: { peakRssKb: 0, peakHwmKb: 0, pids: [], samples: 0 },
    transcoder: { peakRssKb: 0, peakHwmKb: 0, pids: [], samples: 0 },
    other: { peakRssKb: 0, peakHwmKb: 0, pids: [], samples: 0 },
  };
  samples = 0;

  constructor(
    private readonly rootPid: number,
    private readonly intervalMs = 250,
  ) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.sample();
  }

  sample(): void {
    this.samples++;
    this.record('core', this.rootPid);
    for (const c of childrenOf(this.rootPid)) {
      const role: MemRole = c.comm === 'ffmpeg' ? 'transcoder' : c.comm === 'node' ? 'ingest' : 'other';
      this.record(role, c.pid);
    }
  }

  private record(role: MemRole, pid: number): void {
    const m = readMem(pid);
    if (!m) return;
    const p = this.peaks[role];
    p.samples++;
    p.peakRssKb = Math.max(p.peakRssKb, m.rssKb);
    p.peakHwmKb = Math.max(p.peakHwmKb, m.hwmKb);
    if (!p.pids.includes(pid)) p.pids.push(pid);
  }
}
