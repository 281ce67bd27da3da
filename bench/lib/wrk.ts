/**
 * wrk, the native HTTP load generator (Debian package `wrk`): a Node load generator saturates the two cores before
 * the server does and hides its latency, wrk does not. One run: `threads` threads, `connections` keep-alive
 * connections, each request the next path of a list (threads start `spread` apart in it), and a Lua `done` hook
 * that prints the figures as one JSON line, so nothing is scraped from wrk's human-readable report.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const WRK = process.env.BENCH_WRK ?? '/usr/bin/wrk';

/** wrk's version, e.g. `wrk debian/4.1.0-3+b2 [epoll]` (it prints its usage too, and exits 1), or null when missing. */
export function wrkVersion(): string | null {
  const r = spawnSync(WRK, ['--version'], { encoding: 'utf8' });
  if (r.error) return null;
  return (`${r.stdout}${r.stderr}`.split('\n')[0] ?? WRK).replace(/\s*Copyright.*$/, '').trim() || WRK;
}

export interface WrkSummary {
  requests: number;
  /** Response bytes, headers included (as wrk counts them). */
  bytes: number;
  durationSeconds: number;
  rps: number;
  bytesPerSecond: number;
  latencyMs: { p50: number; p99: number; max: number };
  errors: { connect: number; read: number; write: number; timeout: number };
  /** Answers that were not 2xx or 3xx. */
  non2xx: number;
}

/** Writes the Lua script that cycles through `paths` and reports as JSON; returns its file name. */
export function writeWrkScript(dir: string, name: string, paths: readonly string[], spread = 0): string {
  const file = path.join(dir, `${name}.lua`);
  fs.writeFileSync(
    file,
    `local paths = { ${paths.map((p) => JSON.stringify(p)).join(', ')} }\n` +
      `local threads = 0\n` +
      `function setup(thread) thread:set("tid", threads); threads = threads + 1 end\n` +
      `local n = 0\n` +
      `function init(args) n = (tid or 0) * ${Math.max(0, Math.floor(spread))} end\n` +
      `function request() n = n + 1; return wrk.format("GET", paths[(n % #paths) + 1]) end\n` +
      `function done(summary, latency, requests)\n` +
      `  local e = summary.errors\n` +
      `  io.write(string.format('WRK_JSON {"requests":%d,"bytes":%d,"duration":%d,"p50":%d,"p99":%d,` +
      `"max":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}\\n', summary.requests, ` +
      `summary.bytes, summary.duration, latency:percentile(50), latency:percentile(99), latency.max, ` +
      `e.connect, e.read, e.write, e.status, e.timeout))\n` +
      `end\n`,
  );
  return file;
}

export interface WrkRun {
  url: string;
  script: string;
  connections: number;
  seconds: number;
  threads?: number;
}

/** Runs wrk once; resolves with its figures (rejects when wrk fails or prints none). */
export async function runWrk(r: WrkRun): Promise<WrkSummary & { pid: number }> {
  const args = [
    `-t${r.threads ?? 2}`,
    `-c${r.connections}`,
    `-d${r.seconds}s`,
    '--timeout',
    '10s',
    '-s',
    r.script,
    r.url,
  ];
  const proc = spawn(WRK, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  const code = await new Promise<number | null>((resolve) => proc.once('exit', (c) => resolve(c)));
  const line = /WRK_JSON (\{.*\})/.exec(out)?.[1];
  if (code !== 0 || !line) throw new Error(`wrk exited with ${code}:\n${out}`);
  const j = JSON.parse(line) as Record<string, number>;
  const n = (k: string) => j[k] ?? 0;
  const durationSeconds = n('duration') / 1e6;
  return {
    pid: proc.pid ?? 0,
    requests: n('requests'),
    bytes: n('bytes'),
    durationSeconds,
    rps: n('requests') / durationSeconds,
    bytesPerSecond: n('bytes') / durationSeconds,
    latencyMs: { p50: n('p50') / 1000, p99: n('p99') / 1000, max: n('max') / 1000 },
    errors: { connect: n('connect'), read: n('read'), write: n('write'), timeout: n('timeout') },
    non2xx: n('status'),
  };
}
