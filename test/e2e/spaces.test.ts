/**
 * Spaces of stored media: uploads type-checked with ffprobe, progressive download with byte ranges, HLS remuxed
 * on demand and played by hls.js, streaming on/off, open and secure access, and a live archive range saved as MP4.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createChannel, startAppliance, waitFor, type RunningAppliance } from '../helpers/appliance.js';
import { FFMPEG, FFPROBE, ffmpegUrl, publish } from '../helpers/encoder.js';
import { describe, expect, test } from '../helpers/fixtures.js';

/** Media made for the uploads, in a temporary directory. */
let dir: string;
let mp4: Buffer;
let mp3: Buffer;

interface Space {
  id: string;
  items: Array<{ name: string; kind: string; hls: string; progressive: string }>;
}

test.beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecdn-media-'));
  const make = (out: string, args: string[]) => {
    const r = spawnSync(FFMPEG, ['-hide_banner', '-loglevel', 'error', ...args, path.join(dir, out)]);
    if (r.status !== 0) throw new Error(String(r.stderr));
    return fs.readFileSync(path.join(dir, out));
  };
  mp4 = make('clip.mp4', [
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=640x360:rate=30',
    '-f',
    'lavfi',
    '-i',
    'sine',
    '-t',
    '8',
    '-c:v',
    'libx264',
    '-g',
    '60',
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    '-movflags',
    '+faststart',
  ]);
  mp3 = make('tone.mp3', ['-f', 'lavfi', '-i', 'sine=frequency=300', '-t', '5', '-c:a', 'libmp3lame']);
});
test.afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

async function space(a: RunningAppliance, id: string): Promise<Space> {
  return (await (await a.api('GET', `/api/v1/spaces/${id}`)).json()) as Space;
}

function upload(a: RunningAppliance, id: string, name: string, body: Buffer): Promise<Response> {
  return fetch(`${a.admin}/api/v1/spaces/${id}/items/${name}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${a.token}`, 'content-type': 'application/octet-stream' },
    body,
  });
}

describe('spaces', () => {
  let s: Space;

  test('takes uploads, checking their type with ffprobe and not by extension', async ({ appliance: a }) => {
    const r = await a.api('POST', '/api/v1/spaces', { name: 'Recordings' });
    expect(r.status).toBe(201);
    s = (await r.json()) as Space;
    expect(s.id).toMatch(/^s_[0-9a-z]{8}$/);
    expect((await upload(a, s.id, 'clip.mp4', mp4)).status).toBe(201);
    const audio = await upload(a, s.id, 'tone.mp3', mp3);
    expect(audio.status).toBe(201);
    expect(((await audio.json()) as { kind: string }).kind).toBe('audio');
    const fake = await upload(
      a,
      s.id,
      'fake.mp4',
      Buffer.from('this is not a video, whatever the name says'),
    );
    expect(fake.status).toBe(415);
    const refusal = ((await fake.json()) as { error: { code: string; message: string } }).error;
    // The contract's code, as saving a range into a space answers it.
    expect(refusal.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(refusal.message).toMatch(/not an audio or video file|not a streamable file/);
    expect((await upload(a, s.id, '..%2Fescape.mp4', mp4)).status).toBeGreaterThanOrEqual(400);
    expect((await upload(a, s.id, '.hidden', mp4)).status).toBe(400);
    const items = (await space(a, s.id)).items.map((i) => [i.name, i.kind]);
    expect(items).toEqual([
      ['clip.mp4', 'video'],
      ['tone.mp3', 'audio'],
    ]);
    expect(fs.readdirSync(path.join(a.dataDir, 'spaces', s.id)).filter((f) => !f.startsWith('.'))).toEqual([
      'clip.mp4',
      'tone.mp3',
    ]);
  });

  test('serves items progressively with byte ranges', async ({ appliance: a }) => {
    const item = (await space(a, s.id)).items.find((i) => i.name === 'clip.mp4') as Space['items'][number];
    const whole = await fetch(item.progressive);
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    expect(Buffer.from(await whole.arrayBuffer()).equals(mp4)).toBe(true);
    const part = await fetch(item.progressive, { headers: { range: 'bytes=100-199' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 100-199/${mp4.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(mp4.subarray(100, 200))).toBe(true);
    const tail = await fetch(item.progressive, { headers: { range: 'bytes=-10' } });
    expect(Buffer.from(await tail.arrayBuffer()).equals(mp4.subarray(mp4.length - 10))).toBe(true);
    expect((await fetch(item.progressive, { headers: { range: `bytes=${mp4.length + 5}-` } })).status).toBe(
      416,
    );
    const tone = await fetch(
      (await space(a, s.id)).items.find((i) => i.name === 'tone.mp3')?.progressive as string,
    );
    expect(tone.headers.get('content-type')).toBe('audio/mpeg');
  });

  test('streams items as HLS, remuxed on demand, and hls.js plays them', async ({
    appliance: a,
    players,
    browser,
  }) => {
    const item = (await space(a, s.id)).items.find((i) => i.name === 'clip.mp4') as Space['items'][number];
    const playlist = await (await fetch(item.hls)).text();
    expect(playlist).toContain('#EXT-X-PLAYLIST-TYPE:VOD');
    expect(playlist).toContain('#EXT-X-ENDLIST');
    const base = item.hls.replace(/index\.m3u8$/, '');
    const init = Buffer.from(await (await fetch(`${base}init.mp4`)).arrayBuffer());
    const seg = playlist.split('\n').find((l) => l.endsWith('.m4s')) as string;
    const frag = Buffer.from(await (await fetch(base + seg)).arrayBuffer());
    fs.writeFileSync(path.join(dir, 'seg.mp4'), Buffer.concat([init, frag]));
    const probe = spawnSync(
      FFPROBE,
      ['-v', 'error', '-show_entries', 'stream=codec_name', '-of', 'csv=p=0', path.join(dir, 'seg.mp4')],
      { encoding: 'utf8' },
    );
    expect(probe.stdout).toContain('h264');
    const player = await players.open(browser, item.hls);
    await player.until('2 s of playback', (st) => st.currentTime >= 2, 20_000);
  });

  test('turns streaming off and on, and secures a space with signed URLs', async ({ appliance: a }) => {
    const item = (await space(a, s.id)).items.find((i) => i.name === 'clip.mp4') as Space['items'][number];
    await a.api('PATCH', `/api/v1/spaces/${s.id}`, { streaming: false });
    expect((await fetch(item.progressive)).status).toBe(404);
    await a.api('PATCH', `/api/v1/spaces/${s.id}`, { streaming: true, access: 'secure' });
    const denied = await fetch(item.hls);
    expect(denied.status).toBe(403);
    expect(denied.headers.get('x-ecdn-denied')).toBe('missing');
    const signed = (await (
      await a.api('POST', `/api/v1/spaces/${s.id}/items/clip.mp4/signed-url`, { resourcePrefix: 'mp4:' })
    ).json()) as {
      url: string;
      progressive: string;
      streamName: string;
    };
    expect(signed.streamName).toBe('mp4:clip.mp4');
    const playlist = await (await fetch(signed.url)).text();
    const child = playlist.split('\n').find((l) => l.includes('.m4s')) as string;
    expect(child).toContain('sig=');
    expect((await fetch(signed.url.replace(/index\.m3u8\?.*$/, child))).status).toBe(200);
    expect((await fetch(signed.progressive, { headers: { range: 'bytes=0-9' } })).status).toBe(206);
    const other = (await (await a.api('POST', '/api/v1/spaces', { name: 'other' })).json()) as Space;
    await upload(a, other.id, 'clip.mp4', mp4);
    await a.api('PATCH', `/api/v1/spaces/${other.id}`, { access: 'secure' });
    const wrongSpace = `${(await space(a, other.id)).items[0]?.hls as string}${new URL(signed.url).search}`;
    expect((await fetch(wrongSpace)).status).toBe(403);
  });

  test('saves a live channel archive range into a space as one MP4', async ({ appliance: a }) => {
    const c = await createChannel(a, 'to keep');
    // 7 s: an archive range longer than the 4 s the saved file must last, sent faster than real time.
    const enc = publish(ffmpegUrl(c.broadcastUrl, c.streamName), { seconds: 7, speed: 4 });
    await enc.done;
    await waitFor(
      'stopped',
      async () =>
        ((await (await a.api('GET', `/api/v1/channels/${c.entryId}`)).json()) as { state: string }).state ===
        'stopped',
      30_000,
    );
    const archive = (await (await a.api('GET', `/api/v1/publishing-points/${c.entryId}/archive`)).json()) as {
      tracks: Array<{ ranges: Array<{ start: string; end: string }> }>;
    };
    const range = archive.tracks[0]?.ranges[0] as { start: string; end: string };
    const r = await a.api('POST', `/api/v1/channels/${c.entryId}/archive/save`, {
      spaceId: s.id,
      name: 'keynote.mp4',
      from: range.start,
      to: range.end,
    });
    expect(r.status).toBe(201);
    const saved = (await r.json()) as { kind: string; duration: number };
    expect(saved.kind).toBe('video');
    expect(saved.duration).toBeGreaterThan(4);
    expect(
      (
        await a.api('POST', `/api/v1/channels/${c.entryId}/archive/save`, {
          spaceId: s.id,
          name: 'x.mp4',
          from: '2001-01-01T00:00:00Z',
          to: '2001-01-01T00:01:00Z',
        })
      ).status,
    ).toBe(404);
  });

  test('the dashboard\'s "Download MP4" and "Save to library" for a range of the timeline (control API)', async ({
    appliance: a,
  }) => {
    const c = await createChannel(a, 'range out');
    const enc = publish(ffmpegUrl(c.broadcastUrl, c.streamName), { seconds: 7, speed: 4 });
    await enc.done;
    await waitFor(
      'stopped',
      async () =>
        ((await (await a.api('GET', `/api/v1/channels/${c.entryId}`)).json()) as { state: string }).state ===
        'stopped',
      30_000,
    );
    const archive = (await (await a.api('GET', `/api/v1/channels/${c.entryId}/archive`)).json()) as {
      tracks: Array<{ ranges: Array<{ start: string; end: string }> }>;
    };
    const range = archive.tracks[0]?.ranges[0] as { start: string; end: string };
    const from = range.start;
    const to = new Date(Date.parse(range.start) + 4_000).toISOString();

    // Download: a one-time link that needs no credentials, answering one MP4 as an attachment.
    const link = (await (
      await a.api('POST', `/api/v1/channels/${c.entryId}/archive/download-link`, { from, to })
    ).json()) as { url: string };
    expect(link.url).toContain('ticket=');
    const r = await fetch(link.url);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('video/mp4');
    expect(r.headers.get('content-disposition')).toMatch(/^attachment; filename="[\w-]+\.mp4"$/);
    const file = path.join(dir, 'download.mp4');
    fs.writeFileSync(file, Buffer.from(await r.arrayBuffer()));
    const probed = spawnSync(FFPROBE, [
      '-v',
      'error',
      '-show_entries',
      'format=duration',
      '-of',
      'csv=p=0',
      file,
    ]);
    expect(Number(String(probed.stdout))).toBeGreaterThan(2);
    expect((await fetch(link.url)).status, 'a link works once').toBe(401);
    // Bad ranges get clear errors.
    const backwards = await a.api('POST', `/api/v1/channels/${c.entryId}/archive/download-link`, {
      from: to,
      to: from,
    });
    expect(backwards.status).toBe(400);
    expect(await backwards.text()).toContain('from must be before to');
    const empty = await a.api(
      'GET',
      `/api/v1/channels/${c.entryId}/archive/download?from=2001-01-01T00:00:00Z&to=2001-01-01T00:01:00Z`,
    );
    expect(empty.status).toBe(404);
    expect(await empty.text()).toContain('ARCHIVE_RANGE_EMPTY');

    // Save to library: into the space named "Recordings" (made when there is none), then listed.
    type Listed = { spaces: Array<{ id: string; name: string; items: number }> };
    const recordings = async () =>
      ((await (await a.api('GET', '/api/v1/library/spaces')).json()) as Listed).spaces.filter(
        (x) => x.name === 'Recordings',
      );
    const before = (await recordings())[0]?.items ?? 0;
    const saved = await a.api('POST', `/api/v1/channels/${c.entryId}/archive/library`, {
      from,
      to,
      name: 'opening.mp4',
    });
    expect(saved.status).toBe(201);
    const item = (await saved.json()) as {
      spaceId: string;
      spaceName: string;
      kind: string;
      duration: number;
    };
    expect(item).toMatchObject({ spaceName: 'Recordings', kind: 'video' });
    expect(item.duration).toBeGreaterThan(2);
    expect(await recordings()).toEqual([{ id: item.spaceId, name: 'Recordings', items: before + 1 }]);
    expect((await space(a, item.spaceId)).items.map((i) => i.name)).toContain('opening.mp4');
  });

  test('limits the size of uploads', async () => {
    const b = await startAppliance({ extraArgs: ['--max-upload', '1'] });
    try {
      const sp = (await (await b.api('POST', '/api/v1/spaces', { name: 'small' })).json()) as Space;
      const big = Buffer.alloc(2 * 1024 * 1024, 1);
      const r = await fetch(`${b.admin}/api/v1/spaces/${sp.id}/items/big.mp4`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${b.token}` },
        body: big,
      });
      expect(r.status).toBe(413);
      expect(fs.readdirSync(path.join(b.dataDir, 'spaces', sp.id))).toEqual([]);
    } finally {
      await b.stop();
    }
  });
});
