/**
 * A real player plays a live channel: the headless appliance, a real ffmpeg encoder, and hls.js in
 * headless Chromium (playwright-core) loading the channel's master playlist from the origin.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, waitFor } from '../helpers/appliance.js';
import { describe, expect, test } from '../helpers/fixtures.js';

const SCREENSHOT = path.join(ROOT, 'test-artifacts', 'playback.png');

test.override('liveChannelName', 'Playback');
// How long fragments are is not the point here, and players start sooner on 1 s fragments (1 s GOPs).
test.override('applianceOptions', { extraArgs: ['--fragment-duration', '1'] });
test.override('encoderOptions', { seconds: 25, gop: 30 });

describe('playback in a real player', () => {
  test('offers the master playlist once every track has its first fragment', async ({
    liveChannel: channel,
    encoder: _encoder,
  }) => {
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

  test('plays the live stream in hls.js in Chromium', async ({ liveChannel: channel, players, browser }) => {
    const player = await players.open(browser, channel.playback.hls);
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
