/** Finds an appliance's child processes through /proc (Linux), for fault drills. */
import fs from 'node:fs';

export function childrenOf(pid: number): Array<{ pid: number; comm: string; cmdline: string }> {
  const out: Array<{ pid: number; comm: string; cmdline: string }> = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const ppid = Number(stat.slice(close + 2).split(' ')[1]);
      if (ppid === pid)
        out.push({
          pid: Number(name),
          comm,
          cmdline: fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' '),
        });
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}
