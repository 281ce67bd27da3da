/** One-off helper processes end with the appliance: SIGTERM, then SIGKILL for one that ignores it. */
import { describe, expect, it } from 'vitest';
import { runningHelpers, spawnHelper, stopHelpers } from '../../main/lib/helper-processes.js';

describe('helper processes', () => {
  it('are tracked while they run and stopped on shutdown, even one that ignores SIGTERM', async () => {
    const polite = spawnHelper('sleep', ['30'], { stdio: 'ignore' });
    const stubborn = spawnHelper(
      process.execPath,
      ['-e', "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)"],
      {
        stdio: 'ignore',
      },
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(runningHelpers()).toBe(2);
    await stopHelpers(500);
    expect(polite.signalCode).toBe('SIGTERM');
    expect(stubborn.signalCode).toBe('SIGKILL');
    expect(runningHelpers()).toBe(0);
  });

  it('forgets a helper that exits by itself or cannot start', async () => {
    const quick = spawnHelper('true', [], { stdio: 'ignore' });
    await new Promise((r) => quick.once('exit', r));
    const missing = spawnHelper('/nonexistent/ffmpeg', [], { stdio: 'ignore' });
    await new Promise((r) => missing.once('error', r));
    expect(runningHelpers()).toBe(0);
    await stopHelpers();
  });
});
