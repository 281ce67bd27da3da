/**
 * Nothing lost: the appliance is killed with SIGKILL mid-stream. The next start reconciles the index with the
 * disk (unindexed and temporary files removed, rows without a file dropped), shows the publishing point
 * stopped, and serves everything that was complete.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createChannel, startAppliance, waitFor } from '../helpers/appliance.js';
import { ffmpegUrl, publish } from '../helpers/encoder.js';
import { describe, expect, test } from '../helpers/fixtures.js';
import { childrenOf } from '../helpers/processes.js';

// Fragment counts are what matter here, not their length: 1 s fragments (1 s GOPs from the encoder).
test.override('applianceOptions', { extraArgs: ['--fragment-duration', '1'] });

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('kill -9 during ingest', () => {
  test('loses nothing that was complete, and reconciles the rest', async ({ appliance: a }) => {
    const c = await createChannel(a, 'crash');
    const enc = publish(ffmpegUrl(c.broadcastUrl, c.streamName), { seconds: 60, gop: 30 });
    const base = c.playback.hls.replace(/\/\.m3u8$/, '/');
    await waitFor(
      '4 fragments',
      async () =>
        ((await (await fetch(`${base}tracks/video_source.m3u8`)).text()).match(/#EXTINF/g) ?? []).length >= 4,
      30_000,
    );
    const children = childrenOf(a.proc.pid as number);
    expect(await a.stop('SIGKILL')).toBeNull();
    // Its children notice: the ingest child exits with the IPC channel, ffmpeg with its pipes, the encoder is cut off.
    await waitFor('children gone', async () => children.every((ch) => !alive(ch.pid)), 15_000);
    const exit = await Promise.race([enc.done, new Promise<null>((r) => setTimeout(() => r(null), 15_000))]);
    expect(exit, 'the encoder was disconnected').not.toBeNull();

    // What a crash leaves behind, and worse: a fragment written but never indexed, a temporary file,
    // and an indexed fragment whose file is gone.
    const trackDir = path.join(a.dataDir, 'origin', c.entryId, 'video_source');
    const files = fs
      .readdirSync(trackDir)
      .filter((f) => f.endsWith('.m4s'))
      .sort((x, y) => Number.parseInt(x) - Number.parseInt(y));
    fs.writeFileSync(path.join(trackDir, '999999999999.m4s'), 'never indexed');
    fs.writeFileSync(path.join(trackDir, '123.m4s.4242.tmp'), 'half written');
    const lost = files[files.length - 1] as string;
    fs.rmSync(path.join(trackDir, lost));

    const b = await startAppliance({ dataDir: a.dataDir });
    try {
      expect(b.stdout()).toContain('reconciled the segment index with the disk');
      const ch = (await (await b.api('GET', `/api/v1/channels/${c.entryId}`)).json()) as { state: string };
      expect(ch.state).toBe('stopped');
      const origin = `${b.origin}/${c.entryId}/${c.entryId}.isml/`;
      const state = await (await fetch(`${origin}state`)).text();
      expect(state).toMatch(/name="state"\s+content="stopped"/);
      for (const track of ['video_source', 'video_360', 'audio_source']) {
        const playlist = await (await fetch(`${origin}tracks/${track}.m3u8`)).text();
        expect(playlist).toContain('#EXT-X-ENDLIST');
        const uris = playlist.split('\n').filter((l) => l.endsWith('.m4s'));
        expect(uris.length).toBeGreaterThanOrEqual(3);
        for (const u of uris) expect((await fetch(`${origin}tracks/${u}`)).status, u).toBe(200);
        if (track === 'video_source') expect(uris).not.toContain(`video_source/${lost}`);
      }
      expect(fs.existsSync(path.join(trackDir, '999999999999.m4s'))).toBe(false);
      expect(fs.existsSync(path.join(trackDir, '123.m4s.4242.tmp'))).toBe(false);
      expect((await fetch(`${origin}.mpd`)).status).toBe(200);
      // And the channel takes a new publish.
      const again = publish(
        ffmpegUrl(c.broadcastUrl.replace(`:${a.rtmpPort}/`, `:${b.rtmpPort}/`), c.streamName),
        { seconds: 5, gop: 30 },
      );
      await waitFor(
        'started again',
        async () =>
          ((await (await b.api('GET', `/api/v1/channels/${c.entryId}`)).json()) as { state: string })
            .state === 'started',
        30_000,
      );
      await again.stop();
    } finally {
      await b.stop();
    }
  });
});
