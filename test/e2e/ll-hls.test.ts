/**
 * Low-latency HLS with a real encoder: the channel's publishing point created through the publishing point API
 * with `hls.low_latency`, a 15 s publish, and the origin read back as an LL-HLS player, a regular HLS player
 * and a DASH player would: tags, blocking reloads, preload-hinted parts, parts and segments decoded by ffprobe.
 */
import fs from 'node:fs';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { parseFragment, parseInit } from '../../main/origin/mp4.js';
import { waitFor } from '../helpers/appliance.js';
import { decodedFrames, probe } from '../helpers/encoder.js';
import { describe, expect, test as fixtures } from '../helpers/fixtures.js';

/** The channel's publishing point URL on the origin, ending in `/`. */
const test = fixtures.extend(
  'base',
  { scope: 'file' },
  ({ appliance: a, liveChannel: c }) => `${a.origin}/${c.entryId}/${c.entryId}.isml/`,
);
test.override('liveChannelName', 'Low latency');
// Long enough for the checks made while live (about 9 s in), with room to spare on a busy machine.
test.override('encoderOptions', { seconds: 13, size: '640x360' });

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

async function bytes(url: string): Promise<Buffer> {
  const r = await fetch(url);
  if (r.status !== 200) throw new Error(`${url}: ${r.status}`);
  return Buffer.from(await r.arrayBuffer());
}

interface Playlist {
  text: string;
  mediaSequence: number;
  segments: Array<{
    duration: number;
    uri: string;
    parts: Array<{ duration: number; uri: string; independent: boolean }>;
  }>;
  partial: Array<{ duration: number; uri: string; independent: boolean }>;
  hint?: string;
}

function attributes(list: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of list.matchAll(/([A-Z0-9-]+)=("[^"]*"|[^,]*)/g))
    out[m[1] as string] = (m[2] as string).replace(/^"|"$/g, '');
  return out;
}

function parse(text: string): Playlist {
  const p: Playlist = { text, mediaSequence: NaN, segments: [], partial: [] };
  let duration = NaN;
  for (const line of text.trimEnd().split('\n')) {
    if (line.startsWith('#EXT-X-MEDIA-SEQUENCE:')) p.mediaSequence = Number(line.split(':')[1]);
    else if (line.startsWith('#EXT-X-PART:')) {
      const x = attributes(line.slice(12));
      p.partial.push({
        duration: Number(x.DURATION),
        uri: x.URI as string,
        independent: x.INDEPENDENT === 'YES',
      });
    } else if (line.startsWith('#EXTINF:')) duration = Number(line.slice(8).replace(/,$/, ''));
    else if (line.startsWith('#EXT-X-PRELOAD-HINT:')) p.hint = attributes(line.slice(20)).URI;
    else if (line !== '' && !line.startsWith('#')) {
      p.segments.push({ duration, uri: line, parts: p.partial });
      p.partial = [];
    }
  }
  return p;
}

const playlist = async (base: string, track: string, query = ''): Promise<Playlist> =>
  parse((await (await fetch(`${base}tracks/${track}.m3u8${query}`)).text()).toString());

test.beforeAll(async ({ appliance: a, liveChannel: c }) => {
  // As a user sets it: the channel's publishing point created with its options before the encoder starts.
  const created = await fetch(`${a.admin}/${c.entryId}/${c.entryId}.isml`, {
    method: 'POST',
    headers: { authorization: `Bearer ${a.token}` },
    body: smil({ 'hls.low_latency': 'true', 'hls.part_duration': '0.5', dvr_window_length: '30' }),
  });
  expect(created.status).toBe(201);
});

describe('low-latency HLS from a real stream', () => {
  test('lists parts of whole-GOP segments with the low-latency tags', async ({ base, encoder: _encoder }) => {
    const text = await waitFor(
      'a low-latency playlist with two segments',
      async () => {
        const r = await fetch(`${base}tracks/video_source.m3u8`);
        const t = r.status === 200 ? await r.text() : '';
        return (t.match(/#EXTINF/g) ?? []).length >= 2 && t;
      },
      30_000,
    );
    expect(text).toMatch(/^#EXT-X-VERSION:9$/m);
    const partTarget = Number(/^#EXT-X-PART-INF:PART-TARGET=([\d.]+)$/m.exec(text)?.[1]);
    expect(partTarget).toBeGreaterThanOrEqual(0.5);
    expect(partTarget).toBeLessThan(0.6);
    const target = Number(/^#EXT-X-TARGETDURATION:(\d+)$/m.exec(text)?.[1]);
    const control = attributes(/^#EXT-X-SERVER-CONTROL:(.*)$/m.exec(text)?.[1] ?? '');
    expect(control['CAN-BLOCK-RELOAD']).toBe('YES');
    expect(Number(control['PART-HOLD-BACK'])).toBeGreaterThanOrEqual(3 * partTarget - 0.001);
    expect(Number(control['CAN-SKIP-UNTIL'])).toBe(6 * target);
    expect(Number(control['HOLD-BACK'])).toBeGreaterThanOrEqual(3 * target);
    const p = parse(text);
    for (const seg of p.segments) expect(seg.uri).toMatch(/^video_source\/g2000-\d+\.m4s$/);
    const listed = p.segments.filter((s) => s.parts.length > 0);
    expect(listed.length).toBeGreaterThan(0);
    for (const seg of listed) {
      // 2 s GOPs at 30 fps cut into 0.5 s parts; a segment is its parts, and only its first has the key frame.
      expect(seg.parts.reduce((sum, x) => sum + x.duration, 0)).toBeCloseTo(seg.duration, 2);
      expect(seg.parts.map((x) => x.independent)).toEqual(seg.parts.map((_, i) => i === 0));
      for (const x of seg.parts) expect(x.duration).toBeLessThanOrEqual(partTarget);
    }
    expect(p.hint).toMatch(/^video_source\/n\d+\.m4s$/);
    const last = p.partial.at(-1) ?? listed.at(-1)?.parts.at(-1);
    expect(Number(/n(\d+)\.m4s/.exec(p.hint as string)?.[1])).toBe(
      Number(/n(\d+)\.m4s/.exec(last?.uri ?? '')?.[1]) + 1,
    );
    expect(text).toMatch(/^#EXT-X-RENDITION-REPORT:URI="video_360\.m3u8",LAST-MSN=\d+,LAST-PART=\d+$/m);
    expect(text).not.toContain('#EXT-X-ENDLIST');
  });

  test('holds a blocking reload for the next part until that part is indexed, then lists it', async ({
    appliance: a,
    liveChannel: c,
    base,
  }) => {
    const init = await bytes(`${base}tracks/video_source/init.mp4`);
    const info = parseInit(init);
    let checked = false;
    for (let attempt = 0; attempt < 5 && !checked; attempt++) {
      const p = await playlist(base, 'video_source');
      const inProgress = p.mediaSequence + p.segments.length;
      const asked = `_HLS_msn=${inProgress}&_HLS_part=${p.partial.length}`;
      const sent = Date.now();
      const r = await fetch(`${base}tracks/video_source.m3u8?${asked}`);
      const answered = Date.now();
      expect(r.status).toBe(200);
      const after = parse(await r.text());
      // The part the old playlist hinted at is in the answer.
      expect(after.text).toContain(`#EXT-X-PART:DURATION=`);
      expect(after.text).toMatch(new RegExp(`URI="${p.hint}"`));
      // When was that part indexed? Its file is written just before it is.
      const part = await bytes(`${base}tracks/${p.hint}`);
      const mediaTime = parseFragment(part, info).baseMediaDecodeTime;
      const dir = path.join(a.dataDir, 'origin', c.entryId, 'video_source');
      // Named `i<run start>-<mediaTime>[.d].m4s` (each run has its own init segment).
      const name = fs
        .readdirSync(dir)
        .find((f) => new RegExp(`^(i\\d+-)?${mediaTime}(\\.d)?\\.m4s$`).test(f));
      const file = name === undefined ? undefined : path.join(dir, name);
      expect(file, `the file of ${p.hint}`).toBeDefined();
      const written = fs.statSync(file as string).mtimeMs;
      // The part came in while the request was held (else it existed already: ask again with a newer playlist).
      if (written < sent) continue;
      expect(answered).toBeGreaterThanOrEqual(Math.floor(written));
      checked = true;
    }
    expect(checked, 'a blocking reload that had to wait for its part').toBe(true);
  });

  test('answers the preload-hinted part when it arrives, as valid fMP4', async ({ base }) => {
    const p = await playlist(base, 'video_source');
    const r = await fetch(`${base}tracks/${p.hint}`);
    expect(r.status).toBe(200);
    const part = Buffer.from(await r.arrayBuffer());
    const init = await bytes(`${base}tracks/video_source/init.mp4`);
    const probed = probe(init, part);
    expect(probed.streams[0]).toMatchObject({
      codec_type: 'video',
      codec_name: 'h264',
      width: 640,
      height: 360,
    });
    // A part far ahead of the newest is not waited for.
    const far = Number(/n(\d+)\.m4s/.exec(p.hint as string)?.[1]) + 50;
    expect((await fetch(`${base}tracks/video_source/n${far}.m4s`)).status).toBe(404);
  });

  test('serves parts and segments that decode, for video, the transcoded rendition and audio', async ({
    base,
  }) => {
    for (const track of ['video_source', 'video_360', 'audio_source']) {
      const p = await playlist(base, track);
      const init = await bytes(`${base}tracks/${track}/init.mp4`);
      const seg = p.segments.filter((s) => s.parts.length > 0).at(-1);
      if (!seg) throw new Error(`${track}: no segment with parts`);
      const parts = await Promise.all(seg.parts.map((x) => bytes(`${base}tracks/${x.uri}`)));
      for (const x of parts) {
        const s = probe(init, x).streams[0];
        expect(s?.codec_name).toBe(track.startsWith('video') ? 'h264' : 'aac');
      }
      // The first part decodes on its own (it starts with a key frame); the segment is its parts.
      expect(decodedFrames(init, parts[0] as Buffer)).toBeGreaterThan(0);
      const whole = await bytes(`${base}tracks/${seg.uri}`);
      expect(whole.equals(Buffer.concat(parts))).toBe(true);
      if (track.startsWith('video')) expect(decodedFrames(init, whole)).toBe(60);
    }
  });

  test('still gives a regular HLS player and a DASH player valid manifests', async ({ base }) => {
    const master = await (await fetch(`${base}.m3u8`)).text();
    expect(master).toMatch(/^#EXT-X-VERSION:7$/m);
    expect(master).toContain('tracks/video_source.m3u8');
    expect(master).toContain('tracks/video_360.m3u8');
    // A player that knows nothing of parts plays the segments.
    const p = await playlist(base, 'video_360');
    const init = await bytes(`${base}tracks/video_360/init.mp4`);
    const first = p.segments[0];
    if (!first) throw new Error('no segment');
    expect(decodedFrames(init, await bytes(`${base}tracks/${first.uri}`))).toBeGreaterThan(0);

    const mpd = await (await fetch(`${base}.mpd`)).text();
    const doc = new XMLParser({
      ignoreAttributes: false,
      attributeNamePrefix: '',
      isArray: (n) => ['AdaptationSet', 'Representation', 'S'].includes(n),
    }).parse(mpd).MPD;
    expect(doc.type).toBe('dynamic');
    const video = doc.Period.AdaptationSet[0].Representation.find(
      (r: { id: string }) => r.id === 'video_source',
    );
    expect(video.SegmentTemplate.media).toBe('tracks/$RepresentationID$/g2000-$Time$.m4s');
    const timeline = video.SegmentTemplate.SegmentTimeline.S as Array<{ t?: string; d: string; r?: string }>;
    let t = Number(timeline[0]?.t);
    const starts: number[] = [];
    for (const s of timeline) {
      if (s.t !== undefined) t = Number(s.t);
      for (let i = 0; i <= Number(s.r ?? 0); i++) {
        starts.push(t);
        t += Number(s.d);
      }
    }
    const vinit = await bytes(`${base}tracks/video_source/init.mp4`);
    const lastSegment = await bytes(`${base}tracks/video_source/g2000-${starts.at(-1)}.m4s`);
    expect(decodedFrames(vinit, lastSegment)).toBe(60);
  });

  test('refuses a blocking reload for a segment more than two ahead at once', async ({ base }) => {
    const p = await playlist(base, 'video_source');
    const far = p.mediaSequence + p.segments.length + 5;
    const r = await fetch(`${base}tracks/video_source.m3u8?_HLS_msn=${far}`);
    expect(r.status).toBe(400);
  });

  test('ends as a regular playlist once the encoder stops', async ({
    appliance: a,
    liveChannel: c,
    base,
    encoder,
  }) => {
    expect((await encoder.done).code).toBe(0);
    await waitFor(
      'stopped',
      async () => {
        const r = await a.api('GET', `/api/v1/channels/${c.entryId}`);
        return ((await r.json()) as { state: string }).state === 'stopped';
      },
      30_000,
    );
    const p = await playlist(base, 'video_source', '?_HLS_msn=99999');
    expect(p.text).toContain('#EXT-X-ENDLIST');
    expect(p.text).toMatch(/^#EXT-X-VERSION:7$/m);
    expect(p.text).not.toContain('#EXT-X-PART');
  });
});
