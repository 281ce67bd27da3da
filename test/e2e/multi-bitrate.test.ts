/** A multi-bitrate ingest: `<entry>_1` and `<entry>_2` published together become renditions of one publishing point. */
import { createChannel, waitFor } from '../helpers/appliance.js';
import { ffmpegUrl } from '../helpers/encoder.js';
import { describe, expect, test } from '../helpers/fixtures.js';

// Fragment counts are what matter here, not their length: 1 s fragments (1 s GOPs from the encoders).
test.override('applianceOptions', { extraArgs: ['--fragment-duration', '1'] });

describe('multi-bitrate ingest', () => {
  test('serves streams _1 and _2 as renditions of the one publishing point, on one timeline', async ({
    appliance: a,
    publish,
  }) => {
    const c = await createChannel(a, 'mbr');
    publish(ffmpegUrl(c.broadcastUrl, `${c.entryId}_1`), { seconds: 30, size: '640x360', gop: 30 });
    publish(ffmpegUrl(c.broadcastUrl, `${c.entryId}_2`), { seconds: 30, size: '320x180', gop: 30 });
    const master = await waitFor(
      'both streams in the master',
      async () => {
        const r = await fetch(c.playback.hls);
        const m = r.status === 200 ? await r.text() : '';
        return m.includes('tracks/video_source_s2.m3u8') && m.includes('tracks/video_source.m3u8') && m;
      },
      40_000,
    );
    expect(master).toMatch(/RESOLUTION=320x180/);
    expect(master).toMatch(/RESOLUTION=640x360/);
    const ch = (await (await a.api('GET', `/api/v1/channels/${c.entryId}`)).json()) as {
      ingests: Array<{ streamName: string; feeding: boolean }>;
    };
    expect(ch.ingests.map((i) => i.streamName).sort()).toEqual([`${c.entryId}_1`, `${c.entryId}_2`]);
    expect(ch.ingests.every((i) => i.feeding)).toBe(true);
    // Both streams' newest fragments sit at about the same wall-clock time (not one behind the other).
    const base = c.playback.hls.replace(/\/\.m3u8$/, '/');
    const newest = async (track: string) => {
      const p = await (await fetch(`${base}tracks/${track}.m3u8`)).text();
      const pdts = [...p.matchAll(/#EXT-X-PROGRAM-DATE-TIME:(\S+)/g)].map((m) => Date.parse(m[1] as string));
      return pdts[pdts.length - 1] as number;
    };
    await waitFor(
      '3 fragments of stream 2',
      async () =>
        ((await (await fetch(`${base}tracks/video_source_s2.m3u8`)).text()).match(/#EXTINF/g) ?? []).length >=
        3,
      30_000,
    );
    expect(Math.abs((await newest('video_source')) - (await newest('video_source_s2')))).toBeLessThan(5000);
  });
});
