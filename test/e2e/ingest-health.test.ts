/**
 * Ingest health on a running appliance, measured from what real encoders send: a well-set encoder (key frames
 * every 2 s, 2 s fragments) shows its frame rate, bitrate and key frame interval and no warning; one with key
 * frames every 5 s is told, in plain words with the fix, on the channel and in its events.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, createChannel, waitFor, type RunningAppliance } from '../helpers/appliance.js';
import { ffmpegUrl } from '../helpers/encoder.js';
import { describe, expect, test } from '../helpers/fixtures.js';

interface Ingest {
  role: string;
  health?: {
    fps: number | null;
    bitrate: number;
    keyFrameIntervalMs: number | null;
    audio: boolean;
    bFrames: boolean;
  };
  warnings: Array<{ code: string; message: string }>;
}

async function ingests(a: RunningAppliance, entryId: string): Promise<Ingest[]> {
  return ((await (await a.api('GET', `/api/v1/channels/${entryId}`)).json()) as { ingests: Ingest[] })
    .ingests;
}

describe('ingest health', () => {
  test('measured from the packets; a key frame interval that does not fit the fragments is a warning', async ({
    appliance: a,
    publish,
  }) => {
    const good = await createChannel(a, 'good encoder');
    const slowKeys = await createChannel(a, 'key frames every 5 s');
    publish(ffmpegUrl(good.broadcastUrl, good.streamName), { seconds: 16, gop: 60 });
    publish(ffmpegUrl(slowKeys.broadcastUrl, slowKeys.streamName), { seconds: 16, gop: 150 });
    const measured = await waitFor(
      'a key frame interval measured on both',
      async () => {
        const [g, s] = [(await ingests(a, good.entryId))[0], (await ingests(a, slowKeys.entryId))[0]];
        return g?.health?.keyFrameIntervalMs && s?.health?.keyFrameIntervalMs ? { g, s } : undefined;
      },
      30_000,
    );
    const g = measured.g.health;
    expect(g?.keyFrameIntervalMs).toBeGreaterThanOrEqual(1900);
    expect(g?.keyFrameIntervalMs).toBeLessThanOrEqual(2100);
    expect(g?.fps).toBeGreaterThan(20);
    expect(g?.bitrate).toBeGreaterThan(100_000);
    expect(g?.audio).toBe(true);
    expect(measured.g.warnings).toEqual([]);
    expect(measured.s.health?.keyFrameIntervalMs).toBeGreaterThanOrEqual(4900);
    const warning = await waitFor('the warning', async () =>
      (await ingests(a, slowKeys.entryId))[0]?.warnings.find((w) => w.code === 'KEYFRAME_INTERVAL'),
    );
    expect(warning.message).toContain("set the encoder's key frame interval to 2 s");
    const events = (await (await a.api('GET', `/api/v1/channels/${slowKeys.entryId}/events`)).json()) as {
      events: Array<{ code: string; message: string }>;
    };
    expect(events.events.find((e) => e.code === 'INGEST_KEYFRAME_INTERVAL')?.message).toContain(
      'primary ingest',
    );
  });

  test("an encoder far above the conversion profile's top rendition is told so", async ({
    startOtherAppliance,
    publish,
  }) => {
    // A profile whose top rendition is 100 kbit/s: an ordinary 1.5 Mbit/s encoder is far above it.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecdn-profile-'));
    const profile = path.join(dir, 'low.xml');
    const xml = fs.readFileSync(path.join(ROOT, 'resources/conversion-profiles/default.xml'), 'utf8');
    fs.writeFileSync(
      profile,
      xml
        .replace('<Bitrate>2500000</Bitrate>', '<Bitrate>100000</Bitrate>')
        .replace('<Bitrate>800000</Bitrate>', '<Bitrate>60000</Bitrate>'),
    );
    try {
      const a = await startOtherAppliance({ extraArgs: ['--conversion-profile', profile] });
      const c = await createChannel(a, 'too much');
      publish(ffmpegUrl(c.broadcastUrl, c.streamName), {
        seconds: 20,
        gop: 60,
        extraOutputArgs: ['-b:v', '1500k'],
      });
      const warning = await waitFor(
        'the bitrate warning',
        async () => (await ingests(a, c.entryId))[0]?.warnings.find((w) => w.code === 'BITRATE_HIGH'),
        30_000,
      );
      expect(warning.message).toMatch(/more than 3× the conversion profile's top rendition \(0\.1 Mb\/s\)/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
