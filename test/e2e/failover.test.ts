/**
 * Primary and backup ingest (`i=0`, `i=1`) of one entry: the origin is fed by the primary, switches to the
 * backup when the primary stops and back when it returns, with playlists that stay valid throughout; the
 * archive records which ingest fed each range.
 */
import { createChannel, waitFor, type ChannelJson, type RunningAppliance } from '../helpers/appliance.js';
import { ffmpegUrl, type PublishOptions } from '../helpers/encoder.js';
import { describe, expect, test } from '../helpers/fixtures.js';

// What counts here is fragments from each ingest, not their length: 1 s fragments (1 s GOPs from the encoders).
test.override('applianceOptions', { extraArgs: ['--fragment-duration', '1'] });
const ENCODER: PublishOptions = { seconds: 120, gop: 30 };

interface Ingest {
  role: string;
  feeding: boolean;
}

async function ingests(a: RunningAppliance, c: ChannelJson): Promise<Ingest[]> {
  return ((await (await a.api('GET', `/api/v1/channels/${c.entryId}`)).json()) as { ingests: Ingest[] })
    .ingests;
}

/** Fetches the media playlist and checks every listed fragment exists; returns the fragment URIs. */
async function intactPlaylist(a: RunningAppliance, c: ChannelJson): Promise<string[]> {
  const base = `${a.origin}/${c.entryId}/${c.entryId}.isml/`;
  const p = await (await fetch(`${base}tracks/video_source.m3u8`)).text();
  expect(p.startsWith('#EXTM3U')).toBe(true);
  const uris = p.split('\n').filter((l) => l.endsWith('.m4s'));
  for (const u of uris.slice(-3)) expect((await fetch(`${base}tracks/${u}`)).status, u).toBe(200);
  return uris;
}

describe('primary and backup', () => {
  test('feeds from the primary, fails over to the backup and back, and records who fed what', async ({
    appliance: a,
    publish,
  }) => {
    const c = await createChannel(a, 'failover');
    const primary = publish(ffmpegUrl(c.broadcastUrl, c.streamName), ENCODER);
    await waitFor(
      'primary feeding',
      async () => (await ingests(a, c)).some((i) => i.role === 'primary' && i.feeding),
      30_000,
    );
    publish(ffmpegUrl(c.backupBroadcastUrl, c.streamName), ENCODER);
    await waitFor('both ingests', async () => (await ingests(a, c)).length === 2, 30_000);
    expect(await ingests(a, c)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ role: 'primary', feeding: true }),
        expect.objectContaining({ role: 'backup', feeding: false }),
      ]),
    );
    await waitFor('4 fragments', async () => (await intactPlaylist(a, c)).length >= 4, 30_000);

    // The primary encoder dies.
    primary.proc.kill('SIGKILL');
    await waitFor(
      'backup feeding',
      async () => (await ingests(a, c)).some((i) => i.role === 'backup' && i.feeding),
      15_000,
    );
    const before = (await intactPlaylist(a, c)).length;
    await waitFor(
      'fragments from the backup',
      async () => (await intactPlaylist(a, c)).length >= before + 2,
      20_000,
    );

    // The primary returns.
    publish(ffmpegUrl(c.broadcastUrl, c.streamName), ENCODER);
    await waitFor(
      'primary feeding again',
      async () => (await ingests(a, c)).some((i) => i.role === 'primary' && i.feeding),
      20_000,
    );
    const mid = (await intactPlaylist(a, c)).length;
    await waitFor(
      'fragments from the primary again',
      async () => (await intactPlaylist(a, c)).length >= mid + 2,
      20_000,
    );

    const playlist = await (
      await fetch(`${a.origin}/${c.entryId}/${c.entryId}.isml/tracks/video_source.m3u8`)
    ).text();
    expect((playlist.match(/#EXT-X-DISCONTINUITY\n/g) ?? []).length).toBeGreaterThanOrEqual(2);
    const codes = (
      (await (await a.api('GET', `/api/v1/channels/${c.entryId}/events`)).json()) as {
        events: Array<{ code: string }>;
      }
    ).events.map((e) => e.code);
    expect(codes.filter((x) => x === 'INGEST_SWITCH').length).toBeGreaterThanOrEqual(2);

    const archive = (await (await a.api('GET', `/api/v1/publishing-points/${c.entryId}/archive`)).json()) as {
      tracks: Array<{ trackName: string; ranges: Array<{ ingest: string }> }>;
    };
    const video = archive.tracks.find((t) => t.trackName === 'video_source');
    expect(video?.ranges.map((r) => r.ingest)).toEqual(['primary', 'backup', 'primary']);
  });
});
