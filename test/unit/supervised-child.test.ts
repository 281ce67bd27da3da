/**
 * The ingest children's supervision (main/lib/supervised-child.ts): a child that dies is started again, and so is a
 * restart that fails, until one listens; a child over its memory bound is restarted (the SRT ingest's, with the real
 * SRT child).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, onTestFinished, test } from 'vitest';
import { SrtServer } from '../../main/ingest/srt-server.js';
import { createLogger } from '../../main/lib/logger.js';
import { SupervisedChild } from '../../main/lib/supervised-child.js';

const log = createLogger('silent');

/**
 * A child that does, on its n-th start, what the n-th word of PLAN says: `ok` (listens), `listen-error` (says it
 * cannot, and stays alive, as the SRT child does) or `die` (exits before listening). It appends its pid to PIDS.
 */
const FIXTURE = `
import fs from 'node:fs';
fs.appendFileSync(process.env.PIDS, process.pid + '\\n');
const n = fs.readFileSync(process.env.PIDS, 'utf8').trim().split('\\n').length;
const what = process.env.PLAN.split(',')[n - 1] ?? 'ok';
process.on('message', (m) => { if (m.type === 'shutdown') process.exit(0); });
if (what === 'listen-error') process.send({ type: 'listen-error', message: 'port taken' });
else if (what === 'die') process.exit(3);
else process.send({ type: 'ready', port: 1000 + n });
`;

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until<T>(what: string, f: () => T | undefined, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * A supervised fixture child following `plan` (restarts after 10 ms, doubling); what it was told and did. Stopped
 * when the test ends.
 */
function fixtureChild(plan: string, onRestarting?: (reason: string) => void) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecdn-supervised-'));
  const module = path.join(dir, 'child.mjs');
  fs.writeFileSync(module, FIXTURE);
  const pids = path.join(dir, 'pids');
  const ports: number[] = [];
  const reasons: string[] = [];
  const child = new SupervisedChild<{ type: string }, { type: string }>({
    module,
    env: { PIDS: pids, PLAN: plan },
    what: 'test child',
    log,
    onMessage: () => undefined,
    onReady: (port) => ports.push(port),
    onRestarting: (r) => {
      reasons.push(r.reason);
      onRestarting?.(r.reason);
    },
    restartDelayMs: 10,
  });
  onTestFinished(async () => {
    await child.stop({ type: 'shutdown' });
    fs.rmSync(dir, { recursive: true, force: true });
  });
  /** The pids of the children started so far, in order. */
  const startedPids = () => fs.readFileSync(pids, 'utf8').trim().split('\n').map(Number);
  return { child, ports, reasons, startedPids };
}

describe('supervised child', () => {
  test('a child that dies is started again, and a restart that fails is tried again until one listens', async () => {
    const { child, ports, reasons, startedPids } = fixtureChild('ok,listen-error,die,listen-error,ok');
    await child.start();
    expect(ports).toEqual([1001]);
    process.kill(child.pid as number, 'SIGKILL');
    await until('the fifth start to listen', () => ports.length === 2);
    expect(ports).toEqual([1001, 1005]);
    expect(child.isListening).toBe(true);
    expect(child.restarts).toBe(4);
    expect(reasons[0]).toMatch(/test child process died \(SIGKILL\)/);
    expect(reasons.slice(1)).toEqual([
      'test child restart failed: port taken',
      'test child restart failed: test child exited before listening (code 3)',
      'test child restart failed: port taken',
    ]);
    // The children that could not listen were not left running beside the one that does.
    const started = startedPids();
    expect(started).toHaveLength(5);
    await until('the failed children to be gone', () => started.slice(0, 4).every((p) => !alive(p)));
    expect(alive(started[4] as number)).toBe(true);
  });

  test('a child that could not listen and exits late does not take the place of the next one', async () => {
    const { child, ports, startedPids } = fixtureChild('ok,listen-error,ok', (reason) => {
      // The event loop is held longer than the backoff right after the failed restart: the next child is forked
      // before the one that could not listen is seen to exit.
      if (reason.includes('restart failed'))
        setImmediate(() => {
          const until = Date.now() + 150;
          while (Date.now() < until);
        });
    });
    await child.start();
    process.kill(child.pid as number, 'SIGKILL');
    await until('the third start to listen', () => ports.length === 2);
    const started = startedPids();
    await until('the child that could not listen to be gone', () => !alive(started[1] as number));
    await new Promise((r) => setTimeout(r, 50));
    expect(child.pid).toBe(started[2]);
    expect(child.isListening).toBe(true);
    await child.stop({ type: 'shutdown' });
    await until('the last child to be stopped', () => !alive(started[2] as number));
  });

  test('the SRT child is restarted when its memory passes the bound', async () => {
    const server = new SrtServer({
      bind: '127.0.0.1',
      srtPort: 0,
      ffmpegPath: '/usr/bin/ffmpeg',
      rtmpPort: () => 1935,
      admit: () => ({ code: 'TEST', reason: 'no callers here' }),
      log,
      // Below any process's: the first report is over it.
      maxChildRss: 1,
    });
    const restarting = new Promise<{ reason: string }>((resolve) => server.once('restarting', resolve));
    await server.start();
    onTestFinished(() => server.stop());
    const first = server.pid;
    expect((await restarting).reason).toMatch(/SRT ingest process died \(SIGKILL\)/);
    expect(first).toBeDefined();
    expect(alive(first as number)).toBe(false);
  });
});
