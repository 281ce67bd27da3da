/**
 * Publishing points with a real encoder: SMIL options honoured, announced tracks, /archive ranges across a
 * reconnect, purge, playout control, archive segments as MP4, channel stop/start/restart, STREAM_CLOSED.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { createChannel, waitFor, type ChannelJson, type RunningAppliance } from '../helpers/appliance.js';
import { FFPROBE, ffmpegUrl, publish } from '../helpers/encoder.js';
import { describe, expect, test } from '../helpers/fixtures.js';

const smil = (options: Record<string, string>) => `<?xml version="1.0" encoding="utf-8"?>
<smil xmlns="http://www.w3.org/2001/SMIL20/Language">
  <head>
${Object.entries(options)
  .map(([k, v]) => `    <meta name="${k}" content="${v}" />`)
  .join('\n')}
  </head>
  <body>
    <switch>
    </switch>
  </body>
</smil>
`;

function isml(a: RunningAppliance, c: ChannelJson): string {
  return `${a.admin}/${c.entryId}/${c.entryId}.isml`;
}

async function put(a: RunningAppliance, url: string, method: string, body?: string): Promise<Response> {
  return fetch(url, { method, headers: { authorization: `Bearer ${a.token}` }, body });
}

async function events(
  a: RunningAppliance,
  entryId: string,
): Promise<Array<{ code: string; message: string }>> {
  const r = await a.api('GET', `/api/v1/channels/${entryId}/events`);
  return ((await r.json()) as { events: Array<{ code: string; message: string }> }).events;
}

async function state(a: RunningAppliance, entryId: string): Promise<string> {
  return ((await (await a.api('GET', `/api/v1/channels/${entryId}`)).json()) as { state: string }).state;
}

const xml = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  isArray: (n) => ['video', 'audio', 'c', 'meta', 'param'].includes(n),
});

/** Track name -> its /archive ranges. */
async function archiveRanges(
  a: RunningAppliance,
  c: ChannelJson,
): Promise<Map<string, Array<{ start: string; end: string }>>> {
  const doc = xml.parse(
    await (await fetch(`${a.origin}/${c.entryId}/${c.entryId}.isml/archive`)).text(),
  ).smil;
  const out = new Map<string, Array<{ start: string; end: string }>>();
  for (const el of [...(doc.body?.video ?? []), ...(doc.body?.audio ?? [])] as Array<{
    param: Array<{ name: string; value: string }>;
    c?: Array<{ start: string; end: string }>;
  }>) {
    out.set(el.param.find((p) => p.name === 'trackName')?.value as string, el.c ?? []);
  }
  return out;
}

async function publishFor(a: RunningAppliance, c: ChannelJson, seconds: number): Promise<void> {
  const enc = publish(ffmpegUrl(c.broadcastUrl, c.streamName), { seconds });
  await waitFor('started', async () => (await state(a, c.entryId)) === 'started', 30_000);
  expect((await enc.done).code).toBe(0);
  await waitFor('stopped', async () => (await state(a, c.entryId)) === 'stopped', 30_000);
}

describe('a publishing point created through the API before the encoder', () => {
  let c: ChannelJson;

  test('honours its SMIL options and keeps unknown ones', async ({ appliance: a }) => {
    c = await createChannel(a, 'options');
    const created = await put(
      a,
      isml(a, c),
      'POST',
      smil({
        dvr_window_length: '6',
        archiving: 'true',
        archive_segment_length: '4',
        restart_on_encoder_reconnect: 'true',
        'mpd.segment_template': 'number_timeline',
        'mpd.min_buffer_time': '3',
        x_vendor_option: 'kept as is',
      }),
    );
    expect(created.status).toBe(201);
    // 14 s: an archive of more than 12 s (the next tests), more than twice the 6 s window; what the archive
    // holds is not about real time, so the encoder sends it 4 times as fast.
    const enc = publish(ffmpegUrl(c.broadcastUrl, c.streamName), { seconds: 14, speed: 4 });
    const base = `${a.origin}/${c.entryId}/${c.entryId}.isml/`;
    // The DVR window is 6 s: never more than 4 fragments of 2 s listed while live.
    const playlist = await waitFor(
      'a full window',
      async () => {
        const p = await (await fetch(`${base}tracks/video_source.m3u8`)).text();
        return (p.match(/#EXTINF/g) ?? []).length >= 3 && p;
      },
      30_000,
    );
    // Then the window moves on: once two of those fragments have left it, it still lists no more than 4.
    const fragments = (p: string) => p.split('\n').filter((l) => l.endsWith('.m4s'));
    await waitFor(
      'two fragments to leave the window',
      async () => {
        const first = fragments(await (await fetch(`${base}tracks/video_source.m3u8`)).text())[0];
        return first !== undefined && !fragments(playlist).slice(0, 2).includes(first);
      },
      30_000,
    );
    const later = await (await fetch(`${base}tracks/video_source.m3u8`)).text();
    expect((later.match(/#EXTINF/g) ?? []).length).toBeLessThanOrEqual(4);
    expect(playlist).toContain('#EXT-X-MAP');
    const mpd = await (await fetch(`${base}.mpd`)).text();
    expect(mpd).toContain('$Number$');
    expect(mpd).toContain('minBufferTime="PT3S"');
    expect(mpd).toContain('timeShiftBufferDepth="PT6S"');
    // GET returns the options and, now that streams arrived, the tracks.
    const got = await (await put(a, isml(a, c), 'GET')).text();
    expect(got).toContain('<meta name="x_vendor_option" content="kept as is" />');
    const doc = xml.parse(got).smil;
    expect((doc.body.switch.video as unknown[]).length).toBeGreaterThanOrEqual(2);
    expect((doc.body.switch.audio as unknown[]).length).toBeGreaterThanOrEqual(1);
    expect((await enc.done).code).toBe(0);
    await waitFor('stopped', async () => (await state(a, c.entryId)) === 'stopped', 30_000);
  });

  test('keeps the archive beyond the DVR window (archiving=true), in one range per track', async ({
    appliance: a,
  }) => {
    const ranges = await archiveRanges(a, c);
    const video = ranges.get('video_source') ?? [];
    expect(video).toHaveLength(1);
    const seconds = (Date.parse(video[0]?.end as string) - Date.parse(video[0]?.start as string)) / 1000;
    expect(seconds).toBeGreaterThan(12);
    const stats = await (await fetch(`${a.origin}/${c.entryId}/${c.entryId}.isml/statistics`)).text();
    expect(stats).toMatch(/name="state"\s+value="stopped"/);
  });

  test('serves a subclip of the archive as VOD, and time-shifted windows', async ({ appliance: a }) => {
    const video = (await archiveRanges(a, c)).get('video_source') ?? [];
    const start = Date.parse(video[0]?.start as string);
    const base = `${a.origin}/${c.entryId}/${c.entryId}.isml/`;
    const vbegin = new Date(start + 2000).toISOString();
    const vend = new Date(start + 8000).toISOString();
    const hls = await (await fetch(`${base}tracks/video_source.m3u8?vbegin=${vbegin}&vend=${vend}`)).text();
    expect(hls).toContain('#EXT-X-PLAYLIST-TYPE:VOD');
    expect(hls).toContain('#EXT-X-ENDLIST');
    expect((hls.match(/#EXTINF/g) ?? []).length).toBe(3);
    const mpd = await fetch(
      `${base}.mpd?vbegin=${Math.floor(start / 1000) + 2}&vend=${Math.floor(start / 1000) + 8}`,
    );
    expect(mpd.status).toBe(200);
    expect(await mpd.text()).toContain('type="static"');
    // The master carries the playout parameters into its media playlists.
    const master = await (await fetch(`${base}.m3u8?vbegin=${vbegin}&vend=${vend}`)).text();
    const child = master.split('\n').find((l) => l.startsWith('tracks/video_source.m3u8')) as string;
    expect(child).toContain(`vbegin=${encodeURIComponent(vbegin)}`);
    expect(await (await fetch(base + child)).text()).toContain('#EXT-X-PLAYLIST-TYPE:VOD');
    expect((await fetch(`${base}.m3u8?vbegin=2001-01-01T00:00:00Z&vend=2001-01-01T00:01:00Z`)).status).toBe(
      404,
    );
    expect((await fetch(`${base}.m3u8?vbegin=yesterday`)).status).toBe(400);
    expect((await fetch(`${base}.m3u8?time_shift=-3`)).status).toBe(400);
  });

  test('offers the archive as segments of archive_segment_length, each one MP4', async ({ appliance: a }) => {
    const r = await a.api('GET', `/api/v1/publishing-points/${c.entryId}/archive/segments`);
    expect(r.status).toBe(200);
    const list = (await r.json()) as {
      segments: Array<{ index: number; download: string; fragments: number }>;
    };
    expect(list.segments.length).toBeGreaterThanOrEqual(3);
    const seg = list.segments[1] as { download: string };
    const mp4 = await a.api('GET', seg.download);
    expect(mp4.status).toBe(200);
    expect(mp4.headers.get('content-type')).toBe('video/mp4');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecdn-seg-'));
    const file = path.join(dir, 'seg.mp4');
    fs.writeFileSync(file, Buffer.from(await mp4.arrayBuffer()));
    const probe = JSON.parse(
      spawnSync(FFPROBE, ['-v', 'error', '-show_streams', '-show_format', '-of', 'json', file], {
        encoding: 'utf8',
      }).stdout,
    ) as {
      streams: Array<{ codec_type: string }>;
      format: { duration: string };
    };
    fs.rmSync(dir, { recursive: true, force: true });
    expect(probe.streams.map((s) => s.codec_type).sort()).toEqual(['audio', 'video']);
    expect(Number(probe.format.duration)).toBeGreaterThan(3);
    expect(Number(probe.format.duration)).toBeLessThan(6.5);
    expect(
      (await a.api('GET', `/api/v1/publishing-points/${c.entryId}/archive/segments/999999.mp4`)).status,
    ).toBe(404);
  });

  test('purges: keep the last 4 s, then everything (then /archive is empty and DELETE works)', async ({
    appliance: a,
  }) => {
    const url = `${a.origin}/${c.entryId}/${c.entryId}.isml/purge`;
    expect((await fetch(`${url}?t=00:00:04`, { method: 'POST' })).status).toBe(401);
    const keep = await fetch(`${url}?t=00:00:04`, {
      method: 'POST',
      headers: { authorization: `Bearer ${a.token}` },
    });
    expect(keep.status).toBe(200);
    const kept = (await archiveRanges(a, c)).get('video_source') ?? [];
    expect(
      (Date.parse(kept[0]?.end as string) - Date.parse(kept[0]?.start as string)) / 1000,
    ).toBeLessThanOrEqual(4.1);
    const all = await fetch(`${url}?t=00:00:00`, {
      method: 'POST',
      headers: { authorization: `Bearer ${a.token}` },
    });
    expect(all.status).toBe(200);
    expect((await archiveRanges(a, c)).size).toBe(0);
    expect((await fetch(`${a.origin}/${c.entryId}/${c.entryId}.isml/.m3u8`)).status).toBe(404);
    expect((await events(a, c.entryId)).map((e) => e.code)).toEqual(
      expect.arrayContaining(['PURGE_STARTED', 'PURGE_DONE']),
    );
    expect((await put(a, isml(a, c), 'DELETE')).status).toBe(200);
  });
});

describe('reconnects', () => {
  test('with restart_on_encoder_reconnect the same presentation continues: the gap is a second /archive range', async ({
    appliance: a,
  }) => {
    const c = await createChannel(a, 'reconnect');
    await publishFor(a, c, 4);
    // The gap is what is under test, so it stays a real pause: 1 s is ten times the 0.1 s that ranges may be
    // apart and still count as one (on top of the time the second encoder takes to connect).
    await new Promise((r) => setTimeout(r, 1000));
    await publishFor(a, c, 4);
    const ranges = await archiveRanges(a, c);
    expect(ranges.get('video_source')).toHaveLength(2);
    expect(ranges.get('audio_source')).toHaveLength(2);
    const playlist = await (
      await fetch(`${a.origin}/${c.entryId}/${c.entryId}.isml/tracks/video_source.m3u8`)
    ).text();
    expect(playlist).toContain('#EXT-X-DISCONTINUITY');
  });

  test('without it, a stopped publishing point refuses new ingest until the channel is restarted', async ({
    appliance: a,
  }) => {
    const c = await createChannel(a, 'closed');
    expect(
      (
        await put(
          a,
          isml(a, c),
          'POST',
          smil({ restart_on_encoder_reconnect: 'false', dvr_window_length: '30' }),
        )
      ).status,
    ).toBe(201);
    await publishFor(a, c, 4);
    const refused = publish(ffmpegUrl(c.broadcastUrl, c.streamName), { seconds: 4 });
    expect((await refused.done).code).not.toBe(0);
    const ev = (await events(a, c.entryId)).find((e) => e.code === 'STREAM_CLOSED');
    expect(ev?.message).toContain('Stream is closed, cannot restart');

    const r = await a.api('POST', `/api/v1/channels/${c.entryId}/restart`);
    expect(r.status).toBe(200);
    const steps = (await events(a, c.entryId)).filter((e) => e.code === 'RESTART_STEP').map((e) => e.message);
    expect(steps).toEqual([
      '1/5 stopping the encoder',
      '2/5 purging the archive completely',
      '3/5 deleting the publishing point',
      '4/5 creating the publishing point again with the same options',
      '5/5 accepting the encoder again',
    ]);
    // Same options, empty archive, accepting again.
    expect(await (await put(a, isml(a, c), 'GET')).text()).toContain(
      '<meta name="restart_on_encoder_reconnect" content="false" />',
    );
    expect((await archiveRanges(a, c)).size).toBe(0);
    await publishFor(a, c, 4);
  });
});

describe('channel control', () => {
  test('stop disconnects the encoder and refuses publishes until start', async ({ appliance: a }) => {
    const c = await createChannel(a, 'control');
    const enc = publish(ffmpegUrl(c.broadcastUrl, c.streamName), { seconds: 30 });
    await waitFor('started', async () => (await state(a, c.entryId)) === 'started', 30_000);
    const stop = await a.api('POST', `/api/v1/channels/${c.entryId}/stop`);
    expect(stop.status).toBe(200);
    expect(((await stop.json()) as { state: string }).state).toBe('stopped');
    const exit = await Promise.race([enc.done, new Promise<null>((r) => setTimeout(() => r(null), 10_000))]);
    expect(exit, 'the encoder was disconnected').not.toBeNull();
    const again = publish(ffmpegUrl(c.broadcastUrl, c.streamName), { seconds: 4 });
    expect((await again.done).code).not.toBe(0);
    expect((await events(a, c.entryId)).map((e) => e.code)).toEqual(
      expect.arrayContaining(['CHANNEL_STOPPING', 'CHANNEL_STOPPED', 'CHANNEL_STOPPED']),
    );
    expect((await events(a, c.entryId)).some((e) => e.message.includes('start it to accept publishes'))).toBe(
      true,
    );
    expect((await a.api('POST', `/api/v1/channels/${c.entryId}/start`)).status).toBe(200);
    await publishFor(a, c, 4);
  });
});

describe('minimum fragment lengths and lookahead', () => {
  test('combines 2 s fragments into 6 s HLS and 4 s DASH segments that play, and holds players back', async ({
    appliance: a,
  }) => {
    const c = await createChannel(a, 'grouped');
    const options = {
      dvr_window_length: '30',
      'hls.minimum_fragment_length': '6',
      'mpd.minimum_fragment_length': '4',
      lookahead_fragments: '3',
    };
    expect((await put(a, isml(a, c), 'POST', smil(options))).status).toBe(201);
    // How fragments combine is not about real time: the encoder sends 3 times as fast.
    const enc = publish(ffmpegUrl(c.broadcastUrl, c.streamName), { seconds: 16, speed: 3 });
    const base = `${a.origin}/${c.entryId}/${c.entryId}.isml/`;
    const playlist = await waitFor(
      'two 6 s segments',
      async () => {
        const p = await (await fetch(`${base}tracks/video_source.m3u8`)).text();
        return (p.match(/#EXTINF/g) ?? []).length >= 2 && p;
      },
      40_000,
    );
    const durations = [...playlist.matchAll(/#EXTINF:([\d.]+)/g)].map((m) => Number(m[1]));
    for (const d of durations.slice(1)) expect(d).toBeCloseTo(6, 0);
    expect(playlist).toMatch(/#EXT-X-TARGETDURATION:6\b/);
    expect(playlist).toMatch(/#EXT-X-SERVER-CONTROL:HOLD-BACK=18\.000/);
    const uris = playlist.split('\n').filter((l) => l.endsWith('.m4s'));
    expect(uris.every((u) => /^video_source\/g6000-\d+\.m4s$/.test(u))).toBe(true);
    const init = Buffer.from(await (await fetch(`${base}tracks/video_source/init.mp4`)).arrayBuffer());
    const seg = Buffer.from(await (await fetch(`${base}tracks/${uris[1]}`)).arrayBuffer());
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecdn-grp-'));
    fs.writeFileSync(path.join(dir, 'g.mp4'), Buffer.concat([init, seg]));
    const frames = spawnSync(
      FFPROBE,
      [
        '-v',
        'error',
        '-count_frames',
        '-select_streams',
        'v:0',
        '-show_entries',
        'stream=nb_read_frames',
        '-of',
        'csv=p=0',
        path.join(dir, 'g.mp4'),
      ],
      { encoding: 'utf8' },
    ).stdout.trim();
    fs.rmSync(dir, { recursive: true, force: true });
    expect(Number(frames)).toBe(180);
    const mpd = await (await fetch(`${base}.mpd`)).text();
    expect(mpd).toContain('tracks/$RepresentationID$/g4000-$Time$.m4s');
    expect(mpd).toContain('suggestedPresentationDelay="PT8S"');
    const s = new XMLParser({
      ignoreAttributes: false,
      attributeNamePrefix: '',
      isArray: (n) => n === 'S' || n === 'AdaptationSet' || n === 'Representation',
    }).parse(mpd).MPD;
    const video = s.Period.AdaptationSet[0].Representation[0];
    const timeline = video.SegmentTemplate.SegmentTimeline.S as Array<{ t?: string; d: string }>;
    const ts = Number(video.SegmentTemplate.timescale);
    expect(Number(timeline[timeline.length - 1]?.d) / ts).toBeCloseTo(4, 0);
    const t0 = Number(timeline[timeline.length - 1]?.t ?? timeline[0]?.t);
    expect((await fetch(`${base}tracks/video_source/g4000-${t0}.m4s`)).status).toBe(200);
    expect((await fetch(`${base}tracks/video_source/g4000-12345.m4s`)).status).toBe(404);
    // Only the lengths this publishing point combines to: a made-up one never reads the archive.
    expect((await fetch(`${base}tracks/video_source/g999999999-n0.m4s`)).status).toBe(404);
    expect((await fetch(`${base}tracks/video_source/g5000-n0.m4s`)).status).toBe(404);
    await enc.stop();
  });
});

describe('recording ("Record this event")', () => {
  interface PpView {
    options: Record<string, string>;
    editable: boolean;
    recording: {
      record: boolean;
      dvrWindowMinutes: number;
      keepDays: number;
      canStart: boolean;
      canStop: boolean;
    };
  }
  const record = (a: RunningAppliance, c: ChannelJson, body: unknown) =>
    a.api('PUT', `/api/v1/channels/${c.entryId}/recording`, body);

  test('a channel created with recording has its publishing point at once, recording, with the channel defaults', async ({
    appliance: a,
  }) => {
    const r = await a.api('POST', '/api/v1/channels', {
      name: 'recorded from the start',
      recording: { dvrWindowMinutes: 1, keepDays: 2 },
    });
    expect(r.status).toBe(201);
    const c = (await r.json()) as ChannelJson;
    const pp = (await (
      await a.api('GET', `/api/v1/channels/${c.entryId}/publishing-point`)
    ).json()) as PpView;
    expect(pp.options).toMatchObject({
      archiving: 'true',
      dvr_window_length: '60',
      archive_length: '172800',
    });
    expect(pp.options.fragment_duration).toBeDefined();
    expect(pp.recording).toMatchObject({ record: true, dvrWindowMinutes: 1, keepDays: 2, canStart: true });
    expect((await events(a, c.entryId)).map((e) => e.code)).toContain('RECORDING_ON');
    // Bad input is refused with the reason.
    const bad = await a.api('POST', '/api/v1/channels', { name: 'x', recording: { keepDays: -1 } });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('days to keep');
  });

  test('on an idle channel with an archive, turning recording on needs no purge; anything else still does', async ({
    appliance: a,
  }) => {
    const c = await createChannel(a, 'record later');
    const enc = publish(ffmpegUrl(c.broadcastUrl, c.streamName), { seconds: 8, speed: 2 });
    await waitFor('started', async () => (await state(a, c.entryId)) === 'started', 30_000);
    // Live: not now.
    const live = await record(a, c, { record: true });
    expect(live.status).toBe(409);
    expect(await live.text()).toContain('PUBLISHING_POINT_BUSY');
    expect((await enc.done).code).toBe(0);
    await waitFor('stopped', async () => (await state(a, c.entryId)) === 'stopped', 30_000);
    const before = await archiveRanges(a, c);
    expect([...before.values()].flat().length).toBeGreaterThan(0);

    // Idle with an archive: other options still need a purge.
    const pp0 = (await (
      await a.api('GET', `/api/v1/channels/${c.entryId}/publishing-point`)
    ).json()) as PpView;
    expect(pp0.editable).toBe(false);
    expect(pp0.recording).toMatchObject({ record: false, canStart: true, canStop: false });
    const other = await a.api('PUT', `/api/v1/channels/${c.entryId}/publishing-point`, {
      options: { ...pp0.options, fragment_duration: '4' },
    });
    expect(other.status).toBe(409);
    // Recording on (with its DVR window and retention): applied at once, the archive untouched.
    const on = await record(a, c, { record: true, dvrWindowMinutes: 5, keepDays: 7 });
    expect(on.status).toBe(200);
    const v = (await on.json()) as PpView;
    expect(v.options).toMatchObject({
      archiving: 'true',
      dvr_window_length: '300',
      archive_length: '604800',
    });
    expect(v.options.fragment_duration).toBe(pp0.options.fragment_duration);
    expect(await archiveRanges(a, c)).toEqual(before);
    // The raw options (Advanced) follow the same rule: keeping recordings longer is fine, shorter is not.
    const longer = await a.api('PUT', `/api/v1/channels/${c.entryId}/publishing-point`, {
      options: { ...v.options, archive_length: '0' },
    });
    expect(longer.status).toBe(200);
    expect((await record(a, c, { record: true, keepDays: 1 })).status).toBe(409);
    // Off drops what would be kept: only once the archive is purged.
    const off = await record(a, c, { record: false });
    expect(off.status).toBe(409);
    expect(await off.text()).toContain('purge');
    expect((await a.api('POST', `/api/v1/channels/${c.entryId}/purge`, { keepSeconds: 0 })).status).toBe(200);
    expect((await record(a, c, { record: false })).status).toBe(200);
    expect((await events(a, c.entryId)).map((e) => e.code)).toEqual(
      expect.arrayContaining(['RECORDING_ON', 'RECORDING_OFF']),
    );
  });
});
