/** Viewer statistics: concurrent viewers, bytes and requests per rendition in the control API and at /metrics. */
import { waitFor } from '../helpers/appliance.js';
import { describe, expect, test } from '../helpers/fixtures.js';

test.override('liveChannelName', 'stats');
test.override('encoderOptions', { seconds: 30 });

test.beforeAll(async ({ liveChannel: c, encoder: _encoder }) => {
  // HEAD requests are not viewers: the readiness poll stays out of the statistics.
  await waitFor('live', async () => (await fetch(c.playback.hls, { method: 'HEAD' })).status === 200, 40_000);
});

describe('viewer statistics', () => {
  test('counts distinct players, bytes served and requests per rendition', async ({
    appliance: a,
    liveChannel: c,
  }) => {
    const base = c.playback.hls.replace(/\/\.m3u8$/, '/');
    for (const player of ['hls.js', 'Safari', 'VLC']) {
      const headers = { 'user-agent': player };
      await (await fetch(c.playback.hls, { headers })).text();
      const playlist = await (await fetch(`${base}tracks/video_source.m3u8`, { headers })).text();
      const fragment = playlist.split('\n').filter((l) => l.endsWith('.m4s'))[0] as string;
      await (await fetch(`${base}tracks/${fragment}`, { headers })).arrayBuffer();
    }
    const v = (await (await a.api('GET', `/api/v1/channels/${c.entryId}/viewers`)).json()) as {
      viewers: number;
      bytesServed: number;
      requestsByRendition: Record<string, number>;
      series: Array<{ viewers: number }>;
    };
    expect(v.viewers).toBe(3);
    expect(v.requestsByRendition.manifest).toBeGreaterThanOrEqual(3);
    expect(v.requestsByRendition.video_source).toBe(3);
    expect(v.bytesServed).toBeGreaterThan(10_000);
    expect(v.series[v.series.length - 1]?.viewers).toBe(3);
  });

  test("leaves out the dashboard's preview and admin requests; tells named players apart; notes an edge", async ({
    appliance: a,
    liveChannel: c,
  }) => {
    const viewers = async () =>
      (await (await a.api('GET', `/api/v1/channels/${c.entryId}/viewers`)).json()) as {
        viewers: number;
        peakViewers: number;
        peakAt: string | null;
        uniqueViewers: number;
        edges: string[];
      };
    const before = await viewers();
    expect(before.viewers).toBe(3);
    // The preview (marked) and a script with the admin token are not viewers.
    await (await fetch(`${c.playback.hls}?ecdn_preview=1`, { headers: { 'user-agent': 'preview' } })).text();
    await (
      await fetch(c.playback.hls, { headers: { 'user-agent': 'script', authorization: `Bearer ${a.token}` } })
    ).text();
    expect((await viewers()).viewers).toBe(3);
    // Two portal players in the same browser on the same address: two viewers.
    for (const id of ['0123456789abcdef0123', 'fedcba98765432100123'])
      await (
        await fetch(c.playback.hls, { headers: { 'user-agent': 'Chrome', 'x-ecdn-player': id } })
      ).text();
    // A cache in front forwards a viewer.
    await (
      await fetch(c.playback.hls, { headers: { 'user-agent': 'nginx', 'x-forwarded-for': '10.1.2.3' } })
    ).text();
    const after = await viewers();
    expect(after.viewers).toBe(6);
    expect(after.peakViewers).toBe(6);
    expect(Date.parse(after.peakAt ?? '')).toBeGreaterThan(Date.now() - 60_000);
    expect(after.uniqueViewers).toBe(6);
    expect(after.edges).toEqual(['127.0.0.1']);
  });

  test('offers Prometheus metrics on the admin listener, behind the admin token', async ({
    appliance: a,
    liveChannel: c,
  }) => {
    expect((await fetch(`${a.admin}/metrics`)).status).toBe(401);
    const r = await a.api('GET', '/metrics');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('text/plain');
    const text = await r.text();
    expect(text).toContain(`ecdn_channel_viewers{channel="${c.entryId}"} 6`);
    expect(text).toMatch(
      new RegExp(`ecdn_channel_requests\\{channel="${c.entryId}",rendition="video_source"\\} 3`),
    );
    expect(text).toMatch(/ecdn_channel_bytes_served\{channel="[^"]+"\} \d+/);
    expect(text).toContain('ecdn_process_resident_memory_bytes');
    // The appliance's own alerts: the data directory's disk, and nothing raised.
    expect(text).toMatch(/ecdn_disk_free_bytes [1-9]\d*/);
    expect(text).toMatch(/ecdn_disk_total_bytes [1-9]\d*/);
    expect(text).toContain('ecdn_alert{condition="DISK_NEARLY_FULL"} 0');
    expect(text).toContain('ecdn_alert{condition="BINDING_LOST"} 0');
  });
});
