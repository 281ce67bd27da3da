/**
 * Push targets (issue: SRT and push targets): the live channel's stream also goes, copied, to an RTMP receiver
 * (`ffmpeg -listen 1`) and an SRT listener, both real ffmpeg writing what they receive. One receiver goes away for
 * 20 s: the other and the origin go on, its target retries, and it is live again within 10 s of coming back. What
 * both received decodes. Target URLs hold stream keys: never shown or logged in full.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitFor, type RunningAppliance } from '../helpers/appliance.js';
import { FFMPEG, FFPROBE } from '../helpers/encoder.js';
import { describe, expect, test } from '../helpers/fixtures.js';

// 540p: the ladder is the source (540) and 360, so a pushed rendition can be told from the source by its height.
test.override('encoderOptions', { seconds: 150, gop: 30, size: '960x540' });

interface Target {
  id: string;
  name: string;
  url: string;
  state: string;
  lastError?: string;
  bytesSent: number;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecdn-push-'));
const receivers: ChildProcess[] = [];

/** A receiver: ffmpeg listening on `input` (`-listen 1` for RTMP), writing what arrives to `file` (MPEG-TS, copied). */
function receive(input: string, file: string): ChildProcess {
  const listen = input.startsWith('rtmp:') ? ['-listen', '1'] : [];
  const p = spawn(
    FFMPEG,
    ['-hide_banner', '-loglevel', 'error', '-y', ...listen, '-i', input, '-c', 'copy', '-f', 'mpegts', file],
    { stdio: 'ignore' },
  );
  receivers.push(p);
  return p;
}

const receiveSrt = (port: number, file: string) => receive(`srt://127.0.0.1:${port}?mode=listener`, file);

async function stopReceiver(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  p.kill('SIGINT');
  const t = setTimeout(() => p.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(t);
}

async function targets(a: RunningAppliance, entryId: string): Promise<Target[]> {
  return ((await (await a.api('GET', `/api/v1/channels/${entryId}/targets`)).json()) as { targets: Target[] })
    .targets;
}

async function stateOf(a: RunningAppliance, entryId: string, id: string): Promise<Target | undefined> {
  return (await targets(a, entryId)).find((t) => t.id === id);
}

/** The height of the first video stream of a file. */
function videoHeight(file: string): number {
  const probe = spawnSync(
    FFPROBE,
    ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=height', '-of', 'csv=p=0', file],
    { encoding: 'utf8' },
  );
  // MPEG-TS lists the stream under its program too: the first line is the stream's.
  return Number(probe.stdout.trim().split('\n')[0]);
}

/** Video and audio streams that decode without errors. */
function decodes(file: string): { video: boolean; audio: boolean; clean: boolean } {
  const probe = spawnSync(
    FFPROBE,
    ['-v', 'error', '-show_entries', 'stream=codec_type', '-of', 'csv=p=0', file],
    {
      encoding: 'utf8',
    },
  );
  const decode = spawnSync(FFMPEG, ['-v', 'error', '-i', file, '-f', 'null', '-'], { encoding: 'utf8' });
  return {
    video: probe.stdout.includes('video'),
    audio: probe.stdout.includes('audio'),
    clean: decode.status === 0,
  };
}

describe('push targets', () => {
  test('copy the live stream to an RTMP and an SRT destination; one drops for 20 s and comes back', async ({
    appliance: a,
    liveChannel: c,
    encoder: _encoder,
  }) => {
    try {
      const rtmpPort = await freePort();
      const srtPort = await freePort();
      const rtmpUrl = `rtmp://127.0.0.1:${rtmpPort}/live/rtmp-stream-key-secret`;
      const srtUrl = `srt://127.0.0.1:${srtPort}?streamid=srt-stream-key-secret`;
      const rtmpFile = path.join(dir, 'rtmp.ts');
      receive(rtmpUrl, rtmpFile);
      let srt = receiveSrt(srtPort, path.join(dir, 'srt-1.ts'));

      // Bad input is refused with the reason.
      const bad = await a.api('POST', `/api/v1/channels/${c.entryId}/targets`, {
        url: 'http://example.com/x',
      });
      expect(bad.status).toBe(400);
      expect(await bad.text()).toMatch(/not a push protocol/);
      expect(
        (await a.api('POST', `/api/v1/channels/${c.entryId}/targets`, { url: 'srt://127.0.0.1' })).status,
      ).toBe(400);

      const r1 = await a.api('POST', `/api/v1/channels/${c.entryId}/targets`, {
        url: rtmpUrl,
        name: 'RTMP receiver',
      });
      expect(r1.status).toBe(201);
      const rtmp = (await r1.json()) as Target;
      const r2 = await a.api('POST', `/api/v1/channels/${c.entryId}/targets`, {
        url: srtUrl,
        name: 'SRT receiver',
      });
      expect(r2.status).toBe(201);
      const srtTarget = (await r2.json()) as Target;
      // Shown masked: the stream keys never leave the core.
      expect(JSON.stringify(await targets(a, c.entryId))).not.toMatch(/stream-key-secret/);
      expect(rtmp.url).toBe(`rtmp://127.0.0.1:${rtmpPort}/live/••••`);

      await waitFor(
        'both pushes live',
        async () =>
          (await stateOf(a, c.entryId, rtmp.id))?.state === 'live' &&
          (await stateOf(a, c.entryId, srtTarget.id))?.state === 'live',
        40_000,
      );

      // The SRT destination goes away for 20 s.
      await stopReceiver(srt);
      await waitFor(
        'the SRT push to retry',
        async () => (await stateOf(a, c.entryId, srtTarget.id))?.state === 'retrying',
        20_000,
      );
      const sentBefore = (await stateOf(a, c.entryId, rtmp.id))?.bytesSent ?? 0;
      const playlist = c.playback.hls.replace(/\.m3u8$/, '') + 'tracks/video_source.m3u8';
      const listed = async () => ((await (await fetch(playlist)).text()).match(/#EXTINF/g) ?? []).length;
      const before = await listed();
      await new Promise((r) => setTimeout(r, 20_000));
      // Meanwhile the other target and the origin went on.
      const rtmpNow = await stateOf(a, c.entryId, rtmp.id);
      expect(rtmpNow?.state).toBe('live');
      expect(rtmpNow?.bytesSent ?? 0).toBeGreaterThan(sentBefore);
      expect(await listed()).toBeGreaterThan(before);
      const retrying = await stateOf(a, c.entryId, srtTarget.id);
      expect(retrying?.state === 'retrying' || retrying?.state === 'connecting').toBe(true);
      expect(retrying?.lastError ?? '').not.toMatch(/stream-key-secret/);

      // It comes back: live again within 10 s.
      const srtFile = path.join(dir, 'srt-2.ts');
      srt = receiveSrt(srtPort, srtFile);
      await waitFor(
        'the SRT push live again',
        async () => (await stateOf(a, c.entryId, srtTarget.id))?.state === 'live',
        10_000,
        250,
      );
      await waitFor(
        'media at the SRT receiver',
        async () => fs.existsSync(srtFile) && fs.statSync(srtFile).size > 200_000,
        15_000,
      );

      // Disabled, then removed: the receivers see the end of their stream.
      const off = await a.api('PATCH', `/api/v1/channels/${c.entryId}/targets/${srtTarget.id}`, {
        enabled: false,
      });
      expect(((await off.json()) as Target).state).toBe('disabled');
      expect((await a.api('DELETE', `/api/v1/channels/${c.entryId}/targets/${rtmp.id}`)).status).toBe(200);
      expect((await a.api('DELETE', `/api/v1/channels/${c.entryId}/targets/${rtmp.id}`)).status).toBe(404);
      await stopReceiver(srt);
      for (const p of receivers) await stopReceiver(p);
      for (const file of [rtmpFile, srtFile])
        expect(decodes(file), file).toEqual({ video: true, audio: true, clean: true });
      // The keys never reached the log.
      expect(a.stdout()).not.toMatch(/stream-key-secret/);
      const events = (await (await a.api('GET', `/api/v1/channels/${c.entryId}/events`)).json()) as {
        events: Array<{ code: string }>;
      };
      expect(events.events.map((e) => e.code)).toEqual(
        expect.arrayContaining(['TARGET_ADDED', 'TARGET_DISABLED', 'TARGET_REMOVED']),
      );
    } finally {
      for (const p of receivers) await stopReceiver(p);
    }
  });

  test('push a transcoded rendition: its tracks copied from the origin, not the source', async ({
    appliance: a,
    liveChannel: c,
    encoder: _encoder,
  }) => {
    const port = await freePort();
    const url = `rtmp://127.0.0.1:${port}/live/rendition-key-secret`;
    const file = path.join(dir, 'rendition.ts');
    const receiver = receive(url, file);
    try {
      const bad = await a.api('POST', `/api/v1/channels/${c.entryId}/targets`, { url, rendition: '../x' });
      expect(bad.status).toBe(400);
      const r = await a.api('POST', `/api/v1/channels/${c.entryId}/targets`, {
        url,
        name: '360p to the cloud',
        rendition: '360',
      });
      expect(r.status).toBe(201);
      const t = (await r.json()) as Target & { rendition: string };
      expect(t.rendition).toBe('360');
      await waitFor(
        'the rendition push live',
        async () => (await stateOf(a, c.entryId, t.id))?.state === 'live',
        40_000,
      );
      await waitFor(
        'media at the receiver',
        async () => fs.existsSync(file) && fs.statSync(file).size > 300_000,
        30_000,
      );
      // The appliance's own copy is not a viewer: none of the 360 rendition's requests were counted.
      const v = (await (await a.api('GET', `/api/v1/channels/${c.entryId}/viewers`)).json()) as {
        requestsByRendition: Record<string, number>;
      };
      expect(Object.keys(v.requestsByRendition).filter((r) => r.includes('360'))).toEqual([]);
      expect((await a.api('DELETE', `/api/v1/channels/${c.entryId}/targets/${t.id}`)).status).toBe(200);
      await stopReceiver(receiver);
      expect(decodes(file), file).toEqual({ video: true, audio: true, clean: true });
      expect(videoHeight(file)).toBe(360);
      expect(a.stdout()).not.toMatch(/rendition-key-secret/);
    } finally {
      await stopReceiver(receiver);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
