/**
 * A real player plays a live channel: the headless appliance, a real ffmpeg encoder, and hls.js in
 * headless Chromium (playwright-core) loading the channel's master playlist from the origin.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ROOT,
  createChannel,
  startAppliance,
  waitFor,
  type ChannelJson,
  type RunningAppliance,
} from '../helpers/appliance.js';
import { launchChromium } from '../helpers/browser.js';
import { ffmpegUrl, publish, type Publisher } from '../helpers/encoder.js';
import { startPlayerServer, type PlayerPage, type PlayerServer } from '../helpers/player.js';

const SCREENSHOT = path.join(ROOT, 'test-artifacts', 'playback.png');

let a: RunningAppliance | undefined;
let channel: ChannelJson;
let encoder: Publisher | undefined;
let players: PlayerServer | undefined;
let browser: Browser | undefined;
let player: PlayerPage | undefined;

beforeAll(async () => {
  a = await startAppliance();
  channel = await createChannel(a, 'Playback');
  encoder = publish(ffmpegUrl(channel.broadcastUrl, channel.streamName), { seconds: 25 });
  players = await startPlayerServer();
  browser = await launchChromium();
});

afterAll(async () => {
  const steps: Array<[string, () => Promise<unknown>]> = [
    ['page', async () => player?.page.close()],
    ['browser', async () => browser?.close()],
    ['page server', async () => players?.close()],
    ['encoder', async () => encoder?.stop()],
    ['appliance', async () => a?.stop()],
    ['data dir', async () => a && fs.rmSync(a.dataDir, { recursive: true, force: true })],
  ];
  const failures: string[] = [];
  for (const [name, step] of steps) {
    try {
      await step();
    } catch (err) {
      failures.push(`${name}: ${(err as Error).message}`);
    }
  }
  if (failures.length) throw new Error(`cleanup failed: ${failures.join('; ')}`);
});

describe('playback in a real player', () => {
  it('offers the master playlist once every track has its first fragment', async () => {
    await waitFor(
      'master playlist 200',
      async () => {
        const r = await fetch(channel.playback.hls);
        await r.arrayBuffer();
        return r.status === 200;
      },
      30_000,
    );
  });

  it('plays the live stream in hls.js in Chromium', async () => {
    player = await (players as PlayerServer).open(browser as Browser, channel.playback.hls);
    const first = await player.until('playback to start', (s) => !s.paused && s.currentTime > 0, 30_000);
    const later = await player.until(
      'currentTime to advance by 3 s',
      (s) => s.currentTime - first.currentTime >= 3,
      20_000,
    );
    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await player.page.screenshot({ path: SCREENSHOT });
    expect(later.currentTime - first.currentTime).toBeGreaterThanOrEqual(3);
    expect(later.videoHeight, player.describe(later)).toBe(360);
    expect(later.playError, player.describe(later)).toBeNull();
    expect(later.errors.filter((e) => e.fatal)).toEqual([]);
    expect(later.levels.length, player.describe(later)).toBeGreaterThanOrEqual(2);
  });
});
