/** Start-up and shutdown: the generated admin token, the ready line, and a clean SIGTERM/SIGINT while live. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createChannel, startAppliance, waitFor } from '../helpers/appliance.js';
import { ffmpegUrl, publish } from '../helpers/encoder.js';

describe('first start', () => {
  it('generates an admin token, stores it privately, and keeps it out of the log', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecdn-token-'));
    const first = await startAppliance({ dataDir, token: null });
    try {
      // Not a terminal (a service's journal): where it is, never the token itself.
      expect(first.stdout()).toMatch(/Admin token generated and stored in .*admin-token \(mode 0600\)/);
      expect(first.token).toMatch(/^\S{32}$/);
      expect(first.stdout()).not.toContain(first.token);
      expect(first.stdout()).toMatch(
        /ecdn-appliance ready: ingest rtmp:\/\/127\.0\.0\.1:\d+\/kLive origin http:\/\/127\.0\.0\.1:\d+\/ admin http:\/\/127\.0\.0\.1:\d+\/api\/v1\//,
      );
      const file = path.join(dataDir, 'admin-token');
      expect(fs.readFileSync(file, 'utf8').trim()).toBe(first.token);
      expect(fs.statSync(file).mode & 0o077).toBe(0);
      expect((await first.api('GET', '/api/v1/channels')).status).toBe(200);
    } finally {
      expect(await first.stop()).toBe(0);
    }
    const second = await startAppliance({ dataDir, token: null });
    try {
      expect(second.stdout()).not.toContain('Admin token');
      expect(second.stdout()).not.toContain(first.token);
      const r = await fetch(`${second.admin}/api/v1/channels`, {
        headers: { authorization: `Bearer ${first.token}` },
      });
      expect(r.status).toBe(200);
    } finally {
      await second.stop();
    }
  });

  it('refuses bad options with a clear message', async () => {
    await expect(startAppliance({ extraArgs: ['--rtmp-port', 'seventy'] })).rejects.toThrow(
      /--rtmp-port \/ ECDN_RTMP_PORT/,
    );
    await expect(startAppliance({ extraArgs: ['--no-such-flag'] })).rejects.toThrow(
      /Unknown option '--no-such-flag'/,
    );
  });
});

describe.each(['SIGTERM', 'SIGINT'] as const)('%s while live', (signal) => {
  it('disconnects the encoder, stops ffmpeg, finalises manifests, closes the database', async () => {
    // Live is what matters, not how long the fragments are: 1 s fragments (1 s GOPs) get there sooner.
    const a = await startAppliance({ extraArgs: ['--fragment-duration', '1'] });
    const c = await createChannel(a, `shutdown ${signal}`);
    const enc = publish(ffmpegUrl(c.broadcastUrl, c.streamName), { seconds: 60, gop: 30 });
    const base = c.playback.hls.replace(/\/\.m3u8$/, '/');
    try {
      await waitFor(
        '2 fragments',
        async () =>
          ((await (await fetch(`${base}tracks/video_source.m3u8`)).text()).match(/#EXTINF/g) ?? []).length >=
          2,
        30_000,
      );
      const t0 = Date.now();
      expect(await a.stop(signal)).toBe(0);
      expect(Date.now() - t0).toBeLessThan(15_000);
      const encoderExit = await Promise.race([
        enc.done,
        new Promise<null>((r) => setTimeout(() => r(null), 10_000)),
      ]);
      expect(encoderExit, 'the encoder was disconnected').not.toBeNull();
      expect(
        fs.existsSync(path.join(a.dataDir, 'appliance.db-wal'))
          ? fs.statSync(path.join(a.dataDir, 'appliance.db-wal')).size
          : 0,
      ).toBe(0);
      expect(a.stdout()).toContain('"msg":"stopped"');
    } finally {
      await enc.stop();
    }
    // The same data directory after a restart: the publishing point is stopped, its playlist final.
    const b = await startAppliance({ dataDir: a.dataDir });
    try {
      const ch = (await (await b.api('GET', `/api/v1/channels/${c.entryId}`)).json()) as { state: string };
      expect(ch.state).toBe('stopped');
      // The channel's events say why its stream stopped: the appliance shut down, not the encoder.
      const { events } = (await (await b.api('GET', `/api/v1/channels/${c.entryId}/events`)).json()) as {
        events: Array<{ code: string; message: string }>;
      };
      expect(events.map((e) => e.code)).toContain('APPLIANCE_STOPPING');
      expect(
        events.some((e) => e.code === 'PUBLISH_STOPPED' && e.message.endsWith(': the appliance shut down')),
      ).toBe(true);
      const origin = `${b.origin}/${c.entryId}/${c.entryId}.isml/`;
      const playlist = await (await fetch(`${origin}tracks/video_source.m3u8`)).text();
      expect(playlist).toContain('#EXT-X-ENDLIST');
      const last = playlist
        .split('\n')
        .filter((l) => l.endsWith('.m4s'))
        .pop() as string;
      expect((await fetch(`${origin}tracks/${last}`)).status).toBe(200);
    } finally {
      await b.stop();
    }
  });
});
