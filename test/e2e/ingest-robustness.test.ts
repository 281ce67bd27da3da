/**
 * Bad input and dying parts: malformed RTMP, an invalid tcUrl, a WebSocket on the RTMP port, a killed
 * ingest process and a killed ffmpeg. Each is survived, said, and the stream goes on.
 */
import { createChannel, waitFor, type ChannelJson, type RunningAppliance } from '../helpers/appliance.js';
import { ffmpegUrl, publish } from '../helpers/encoder.js';
import { describe, expect, test } from '../helpers/fixtures.js';
import { childrenOf } from '../helpers/processes.js';
import { connectChunk, sendAfterHandshake, sendRaw } from '../helpers/rtmp-raw.js';

// Fragment counts are what matter here, not their length: 1 s fragments (1 s GOPs from the encoders).
test.override('applianceOptions', { extraArgs: ['--fragment-duration', '1'] });

interface Status {
  ingest: { pid: number | null; listening: boolean; restarts: number };
}

async function status(a: RunningAppliance): Promise<Status> {
  return (await (await a.api('GET', '/api/v1/status')).json()) as Status;
}

async function channel(
  a: RunningAppliance,
  entryId: string,
): Promise<ChannelJson & { statistics: Array<{ fps: number; restarts: number }> }> {
  return (await (await a.api('GET', `/api/v1/channels/${entryId}`)).json()) as ChannelJson & {
    statistics: Array<{ fps: number; restarts: number }>;
  };
}

async function codes(a: RunningAppliance, entryId: string): Promise<string[]> {
  const r = await a.api('GET', `/api/v1/channels/${entryId}/events`);
  return ((await r.json()) as { events: Array<{ code: string }> }).events.map((e) => e.code);
}

/** Publishes 8 s to a new channel and waits until the origin serves its master playlist. */
async function publishWorks(a: RunningAppliance, name: string): Promise<void> {
  const c = await createChannel(a, name);
  const enc = publish(ffmpegUrl(c.broadcastUrl, c.streamName), { seconds: 8, gop: 30 });
  try {
    await waitFor('master playlist', async () => (await fetch(c.playback.hls)).status === 200, 30_000);
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${a.stdout().slice(-4000)}`);
  } finally {
    await enc.stop();
  }
}

describe('the ingest survives bad input', () => {
  test('an invalid tcUrl closes that connection only', async ({ appliance: a }) => {
    const before = await status(a);
    const r = await sendAfterHandshake(a.rtmpPort, connectChunk({ app: 'kLive/?p=1', tcUrl: 'not a url' }));
    expect(r.closed).toBe(true);
    await waitFor('the refusal in the log', async () => a.stdout().includes('invalid tcUrl'));
    expect((await status(a)).ingest).toEqual(before.ingest);
  });

  test('garbage instead of RTMP, and a WebSocket upgrade to an unknown path', async ({ appliance: a }) => {
    const before = await status(a);
    // Each connection is given 2 s to do harm; the three at once (the ingest keeps them open, waiting for more).
    await Promise.all([
      sendRaw(
        a.rtmpPort,
        Buffer.from(
          'GET /nothing-here HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
        ),
        2000,
      ),
      sendAfterHandshake(a.rtmpPort, Buffer.alloc(4096, 0xff), 2000),
      sendAfterHandshake(
        a.rtmpPort,
        Buffer.from([0x03, 0, 0, 0, 0, 0, 5, 0x14, 0, 0, 0, 0, 0x02, 0xff, 0xff, 0xff, 0xff]),
        2000,
      ),
    ]);
    expect((await status(a)).ingest).toEqual(before.ingest);
    await publishWorks(a, 'after garbage');
  });

  test('a killed ingest process is restarted, said, and publishing works again', async ({ appliance: a }) => {
    const before = await status(a);
    expect(before.ingest.pid).toBeGreaterThan(0);
    process.kill(before.ingest.pid as number, 'SIGKILL');
    const after = await waitFor('ingest restarted', async () => {
      const s = await status(a);
      return (
        s.ingest.restarts === before.ingest.restarts + 1 &&
        s.ingest.listening &&
        s.ingest.pid !== before.ingest.pid &&
        s
      );
    });
    expect(after.ingest.pid).not.toBe(before.ingest.pid);
    expect(a.stdout()).toContain('RTMP ingest process died');
    await publishWorks(a, 'after ingest restart');
  });
});

describe('an encoder that sends no metadata', () => {
  test('is transcoded all the same, and the appliance stays up', async ({ appliance: a }) => {
    const c = await createChannel(a, 'no metadata');
    const enc = publish(ffmpegUrl(c.broadcastUrl, c.streamName), {
      seconds: 10,
      gop: 30,
      extraOutputArgs: ['-flvflags', 'no_metadata'],
    });
    try {
      await waitFor('master playlist', async () => (await fetch(c.playback.hls)).status === 200, 30_000);
      expect((await fetch(`${a.admin}/api/v1/health`)).status).toBe(200);
    } finally {
      await enc.stop();
    }
  });
});

describe('a dying ffmpeg', () => {
  test('is restarted while the encoder is connected; the stream goes on with a discontinuity', async ({
    appliance: a,
  }) => {
    const c = await createChannel(a, 'ffmpeg dies');
    const enc = publish(ffmpegUrl(c.broadcastUrl, c.streamName), { seconds: 30, gop: 30 });
    try {
      const base = c.playback.hls.replace(/\/\.m3u8$/, '/');
      await waitFor(
        '2 fragments',
        async () =>
          ((await (await fetch(`${base}tracks/video_source.m3u8`)).text()).match(/#EXTINF/g) ?? []).length >=
          2,
        30_000,
      );
      const stats = await waitFor('transcoder statistics', async () => {
        const s = (await channel(a, c.entryId)).statistics;
        return s.length === 1 && (s[0]?.fps ?? 0) > 0 && s;
      });
      expect(stats[0]?.restarts).toBe(0);
      // The transcoder's ffmpeg (the content monitor pulls the same stream with its own, watching for black).
      const ffmpeg = childrenOf(a.proc.pid as number).filter(
        (p) => p.comm === 'ffmpeg' && p.cmdline.includes(c.streamName) && !p.cmdline.includes('blackdetect'),
      );
      expect(ffmpeg).toHaveLength(1);
      process.kill((ffmpeg[0] as { pid: number }).pid, 'SIGKILL');
      await waitFor('TRANSCODER_RESTART event', async () =>
        (await codes(a, c.entryId)).includes('TRANSCODER_RESTART'),
      );
      const playlist = await waitFor(
        'fragments after the restart',
        async () => {
          const p = await (await fetch(`${base}tracks/video_source.m3u8`)).text();
          const after = p.split('#EXT-X-DISCONTINUITY\n')[1];
          return after !== undefined && (after.match(/#EXTINF/g) ?? []).length >= 2 && p;
        },
        40_000,
      );
      expect(playlist).toContain('#EXT-X-DISCONTINUITY');
      expect((await channel(a, c.entryId)).statistics[0]?.restarts).toBe(1);
      expect((await channel(a, c.entryId)).state).toBe('started');
    } finally {
      await enc.stop();
    }
  });
});
