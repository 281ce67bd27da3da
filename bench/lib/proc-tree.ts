/**
 * A process and all its descendants with their command lines, read from Linux /proc in one scan: tells apart
 * processes that share a name (the content monitor's ffmpeg from a transcoder's, the SRT child from the RTMP one).
 */
import fs from 'node:fs';
import type { ProcInfo } from './proc-mem.js';

export interface TreeProcess extends ProcInfo {
  /** argv joined by spaces; '' when the process is gone or has none (a zombie). */
  cmdline: string;
}

/** /proc/<pid>/cmdline, its NUL-separated arguments joined by spaces. */
export function commandLine(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '';
  }
}

/** `pid (comm) state ppid ...`; comm may hold spaces or parentheses, so split at the last `)`. */
function stat(pid: number): ProcInfo | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const ppid = Number(text.slice(close + 2).split(' ')[1]);
  return { pid, comm: text.slice(open + 1, close), ppid };
}

/** Every descendant of `pid` (children first, then theirs), not `pid` itself. */
export function descendants(pid: number): TreeProcess[] {
  const byParent = new Map<number, ProcInfo[]>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const info = stat(Number(name));
    if (!info) continue;
    const siblings = byParent.get(info.ppid);
    if (siblings) siblings.push(info);
    else byParent.set(info.ppid, [info]);
  }
  const out: TreeProcess[] = [];
  const queue = [pid];
  for (let i = 0; i < queue.length; i++) {
    for (const c of byParent.get(queue[i] as number) ?? []) {
      out.push({ ...c, cmdline: commandLine(c.pid) });
      queue.push(c.pid);
    }
  }
  return out;
}
