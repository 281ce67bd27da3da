/**
 * A live channel end to end: the headless appliance, a real ffmpeg encoder publishing to the
 * Kaltura broadcast URL, and the HLS/DASH output read back over HTTP and checked with ffprobe.
 */
import { XMLParser } from 'fast-xml-parser';
import { waitFor, type ChannelJson, type RunningAppliance } from '../helpers/appliance.js';
import { decodedFrames, probe } from '../helpers/encoder.js';
import { describe, expect, test } from '../helpers/fixtures.js';

test.override('liveChannelName', 'End to end');
// Long enough for the checks made while live (about 6 s in), with room to spare on a busy machine.
test.override('encoderOptions', { seconds: 11 });

async function get(url: string): Promise<Response> {
  return fetch(url);
}

async function text(url: string): Promise<string> {
  const r = await get(url);
  if (r.status !== 200) throw new Error(`${url}: ${r.status}`);
  return r.text();
}

async function bytes(url: string): Promise<Buffer> {
  const r = await get(url);
  if (r.status !== 200) throw new Error(`${url}: ${r.status}`);
  return Buffer.from(await r.arrayBuffer());
}

async function state(a: RunningAppliance, channel: ChannelJson): Promise<string> {
  const r = await a.api('GET', `/api/v1/channels/${channel.entryId}`);
  return ((await r.json()) as ChannelJson).state;
}

/** Media playlist URIs of a master playlist, by track name. */
function variants(master: string): string[] {
  return [...master.matchAll(/(?:^|URI=")(tracks\/([a-z0-9_]+)\.m3u8)/gm)].map((m) => m[2] as string);
}

describe('a live channel', () => {
  test('goes through starting to started while the encoder publishes', async ({
    appliance: a,
    liveChannel: channel,
    encoder: _encoder,
  }) => {
    await waitFor('state started', async () => (await state(a, channel)) === 'started', 30_000);
    const r = await a.api('GET', `/api/v1/channels/${channel.entryId}`);
    const body = (await r.json()) as {
      ingests: Array<{ role: string; feeding: boolean; streamName: string }>;
    };
    expect(body.ingests).toMatchObject([{ role: 'primary', feeding: true, streamName: channel.streamName }]);
  });

  test('offers a master playlist with the source and a transcoded rendition', async ({
    liveChannel: channel,
  }) => {
    const master = await waitFor('two video variants', async () => {
      const m = await text(channel.playback.hls);
      return (m.match(/#EXT-X-STREAM-INF/g) ?? []).length >= 2 && m;
    });
    expect(master).toMatch(/^#EXTM3U/);
    const lines = master.split('\n');
    const inf = lines.filter((l) => l.startsWith('#EXT-X-STREAM-INF'));
    for (const l of inf) {
      expect(l).toMatch(/BANDWIDTH=\d+/);
      expect(l).toMatch(/RESOLUTION=\d+x\d+/);
      expect(l).toMatch(/CODECS="avc1\.[0-9a-fA-F]{6},mp4a\.40\.\d"/);
    }
    const names = variants(master);
    expect(names).toContain('video_source');
    expect(names).toContain('video_360');
    expect(names.some((n) => n.startsWith('audio_'))).toBe(true);
    // 720p is taller than the 360p source: dropped.
    expect(names).not.toContain('video_720');
    const res = await get(channel.playback.hls);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('cache-control')).toMatch(/max-age=1\b/);
  });

  test('serves media playlists whose fragments decode at the expected sizes', async ({
    liveChannel: channel,
  }) => {
    const base = channel.playback.hls.replace(/\/\.m3u8$/, '/');
    for (const [track, height] of [
      ['video_source', 360],
      ['video_360', 360],
    ] as const) {
      const playlist = await waitFor(`${track} with 2 fragments`, async () => {
        const p = await text(`${base}tracks/${track}.m3u8`);
        return (p.match(/#EXTINF/g) ?? []).length >= 2 && p;
      });
      // Each run has its own init segment (init-<run start>.mp4); init.mp4 is the newest run's.
      expect(playlist).toMatch(/#EXT-X-MAP:URI="video_[a-z0-9]+\/init-\d+\.mp4"/);
      expect(playlist).toMatch(/#EXT-X-PROGRAM-DATE-TIME:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/);
      expect(playlist).toMatch(/#EXT-X-TARGETDURATION:[23]\b/);
      expect(playlist).not.toContain('#EXT-X-ENDLIST');
      const uris = playlist.split('\n').filter((l) => l && !l.startsWith('#'));
      const init = await bytes(`${base}tracks/${track}/init.mp4`);
      const fragUrl = `${base}tracks/${uris[0]}`;
      const frag = await bytes(fragUrl);
      const info = probe(init, frag);
      expect(info.streams[0]).toMatchObject({ codec_type: 'video', codec_name: 'h264', height });
      expect(decodedFrames(init, frag)).toBeGreaterThanOrEqual(30);
      const fr = await get(fragUrl);
      expect(fr.headers.get('cache-control')).toContain('immutable');
      await fr.arrayBuffer();
      // Program date times are anchored to the wall clock at ingest: the live edge is never in the future.
      const pdts = [...playlist.matchAll(/#EXT-X-PROGRAM-DATE-TIME:(\S+)/g)].map((m) =>
        Date.parse(m[1] as string),
      );
      const lastPdt = pdts[pdts.length - 1] as number;
      expect(lastPdt).toBeLessThanOrEqual(Date.now());
      expect(Date.now() - lastPdt).toBeLessThan(15_000);
      const extinf = playlist
        .split('\n')
        .filter((l) => l.startsWith('#EXTINF'))
        .map((l) => Number(/#EXTINF:([\d.]+)/.exec(l)?.[1]));
      for (const d of extinf.slice(0, -1)) expect(d).toBeGreaterThan(1.5);
    }
  });

  test('offers a dynamic MPD whose SegmentTimeline points at fragments that exist', async ({
    liveChannel: channel,
  }) => {
    const xml = await text(channel.playback.dash);
    const mpd = new XMLParser({
      ignoreAttributes: false,
      attributeNamePrefix: '',
      isArray: (n) => ['AdaptationSet', 'Representation', 'S'].includes(n),
    }).parse(xml).MPD;
    expect(mpd.type).toBe('dynamic');
    expect(mpd.availabilityStartTime).toMatch(/Z$/);
    const sets = mpd.Period.AdaptationSet as Array<{
      mimeType?: string;
      contentType?: string;
      SegmentTemplate?: Template;
      Representation: Array<{ id: string; height?: string; SegmentTemplate?: Template }>;
    }>;
    const base = channel.playback.dash.replace(/\/\.mpd$/, '/');
    let checked = 0;
    for (const set of sets) {
      for (const rep of set.Representation) {
        const tpl = (rep.SegmentTemplate ?? set.SegmentTemplate) as Template;
        const s = tpl.SegmentTimeline.S;
        const t0 = Number(s[0]?.t);
        const media = tpl.media.replace('$RepresentationID$', rep.id).replace('$Time$', String(t0));
        expect((await get(base + media)).status).toBe(200);
        expect((await get(base + tpl.initialization.replace('$RepresentationID$', rep.id))).status).toBe(200);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(3);
  });

  test('after the encoder stops: state stopped, HLS ends with EXT-X-ENDLIST, MPD static', async ({
    appliance: a,
    liveChannel: channel,
    encoder,
  }) => {
    const r = await encoder.done;
    expect(r.code).toBe(0);
    await waitFor('state stopped', async () => (await state(a, channel)) === 'stopped', 30_000);
    const base = channel.playback.hls.replace(/\/\.m3u8$/, '/');
    expect(await text(`${base}tracks/video_source.m3u8`)).toContain('#EXT-X-ENDLIST');
    expect(await text(channel.playback.dash)).toMatch(/type="static"/);
    const events = (await (await a.api('GET', `/api/v1/channels/${channel.entryId}/events`)).json()) as {
      events: Array<{ code: string }>;
    };
    const codes = events.events.map((e) => e.code);
    // ffmpeg saw the end of the stream and finished on its own: no kill needed.
    expect(a.stdout()).toMatch(/"reason":"exit code \d+","msg":"transcoder stopped"/);
    expect(a.stdout()).not.toContain('SIGKILL');
    // Neither the channel's token nor the ingest's internal pull key reach the log.
    expect(a.stdout()).not.toContain(channel.token);
    expect(a.stdout()).not.toMatch(/[?&]k=[A-Za-z0-9_-]{16,}/);
    expect(codes).toEqual(
      expect.arrayContaining([
        'CHANNEL_CREATED',
        'PUBLISH_STARTED',
        'TRANSCODE_STARTED',
        'RENDITION_DROPPED',
        'PUBLISH_STOPPED',
      ]),
    );
  });
});

interface Template {
  media: string;
  initialization: string;
  SegmentTimeline: { S: Array<{ t?: string; d: string; r?: string }> };
}
