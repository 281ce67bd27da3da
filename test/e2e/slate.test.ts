/**
 * The slate: hls.js and dash.js in Chromium play a live channel, the encoder is killed, the slate ("We'll be right back",
 * dark, silent) continues the presentation in every rendition within two fragment durations, and the encoder comes
 * back 14 s after it was killed: its media follows with a discontinuity and a new init segment, the player plays on
 * without a reload, and media sequence numbers never go backwards. DASH lists one Period per run. And the slate
 * image API.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { ROOT, waitFor, type RunningAppliance } from '../helpers/appliance.js';
import { FFMPEG, probe } from '../helpers/encoder.js';
import { describe, expect, test, type LiveChannel } from '../helpers/fixtures.js';

const FRAGMENT = 2;
test.override('liveChannelName', 'Slate');
test.override('applianceOptions', { extraArgs: ['--slate-duration', '60'] });

/** The average colour of a picture: the first frame of init + fragment, decoded by ffmpeg. */
function averageColour(init: Buffer, fragment: Buffer): [number, number, number] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecdn-slate-'));
  const file = path.join(dir, 'f.mp4');
  fs.writeFileSync(file, Buffer.concat([init, fragment]));
  const r = spawnSync(
    FFMPEG,
    [
      '-v',
      'error',
      '-i',
      file,
      '-frames:v',
      '1',
      '-vf',
      'scale=1:1:flags=area',
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      '-',
    ],
    { maxBuffer: 1024 },
  );
  fs.rmSync(dir, { recursive: true, force: true });
  if (r.status !== 0 || r.stdout.length !== 3)
    throw new Error(`ffmpeg could not decode: ${String(r.stderr)}`);
  return [r.stdout[0] as number, r.stdout[1] as number, r.stdout[2] as number];
}

/** The slate card is a dark blue-grey with white text; testsrc2 is bright and colourful. */
const looksLikeSlate = ([r, g, b]: readonly number[]): boolean =>
  (r as number) < 90 && (g as number) < 100 && (b as number) < 110 && (b as number) > (r as number);

interface Listed {
  sequence: number;
  maps: string[];
  uris: string[];
  text: string;
}

async function mediaPlaylist(c: LiveChannel, track: string): Promise<Listed> {
  const text = await (await fetch(`${base(c)}tracks/${track}.m3u8`)).text();
  return {
    text,
    sequence: Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)?.[1]),
    maps: [...text.matchAll(/#EXT-X-MAP:URI="([^"]+)"/g)].map((m) => m[1] as string),
    uris: text.split('\n').filter((l) => l.endsWith('.m4s')),
  };
}

const base = (c: LiveChannel): string => c.playback.hls.replace(/\.m3u8.*$/, '').replace(/[^/]*$/, '');

async function bytes(url: string): Promise<Buffer> {
  const r = await fetch(url);
  if (r.status !== 200) throw new Error(`${url}: ${r.status}`);
  return Buffer.from(await r.arrayBuffer());
}

/** The last fragment listed after the last EXT-X-MAP of a media playlist, with that init. */
async function newestOfLastRun(c: LiveChannel, p: Listed): Promise<[Buffer, Buffer]> {
  const tail = p.text.slice(p.text.lastIndexOf('#EXT-X-MAP'));
  const uri = tail
    .split('\n')
    .filter((l) => l.endsWith('.m4s'))
    .at(-1) as string;
  return [await bytes(`${base(c)}tracks/${p.maps.at(-1) as string}`), await bytes(`${base(c)}tracks/${uri}`)];
}

async function eventCodes(a: RunningAppliance, c: LiveChannel): Promise<string[]> {
  const r = await a.api('GET', `/api/v1/channels/${c.entryId}/events`);
  return ((await r.json()) as { events: Array<{ code: string }> }).events.map((e) => e.code);
}

// The package's exports name no UMD build: it lies in the package's node_modules directory.
const DASH_JS = path.join(ROOT, 'node_modules', 'dashjs', 'dist', 'modern', 'umd', 'dash.all.min.js');

/** A page with dash.js (from node_modules) playing `?src=`, served from loopback; its errors are collected. */
const DASH_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><script src="/dash.js"></script></head>
<body style="margin:0;background:#000">
<video id="video" muted autoplay playsinline width="640" height="360"></video>
<script>
  window.__errors = [];
  window.__manifests = 0;
  const player = dashjs.MediaPlayer().create();
  player.on(dashjs.MediaPlayer.events.ERROR, (e) => window.__errors.push(JSON.stringify(e.error || e)));
  player.on(dashjs.MediaPlayer.events.MANIFEST_LOADED, () => window.__manifests++);
  player.initialize(document.getElementById('video'), new URLSearchParams(location.search).get('src'), true);
  window.__state = () => {
    const v = document.getElementById('video');
    return { currentTime: v.currentTime, paused: v.paused, errors: window.__errors };
  };
</script></body></html>`;

interface DashPage {
  page: Page;
  state(): Promise<{ currentTime: number; paused: boolean; errors: string[] }>;
  close(): Promise<void>;
}

async function openDash(browser: Browser, src: string): Promise<DashPage> {
  const js = fs.readFileSync(DASH_JS);
  const server = http.createServer((req, res) => {
    if (req.url?.startsWith('/dash.js')) res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
    else res.writeHead(200, { 'content-type': 'text/html' }).end(DASH_HTML);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const page = await browser.newPage({ viewport: { width: 640, height: 360 } });
  await page.goto(`http://127.0.0.1:${port}/?src=${encodeURIComponent(src)}`);
  return {
    page,
    state: () => page.evaluate('window.__state()'),
    async close() {
      await page.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** The average colour of what the page's video shows now (a 16x9 canvas). */
const PAGE_COLOUR = `(() => {
  const v = document.getElementById('video');
  const c = document.createElement('canvas');
  c.width = 16; c.height = 9;
  const g = c.getContext('2d');
  g.drawImage(v, 0, 0, 16, 9);
  const d = g.getImageData(0, 0, 16, 9).data;
  const sum = [0, 0, 0];
  for (let i = 0; i < d.length; i += 4) { sum[0] += d[i]; sum[1] += d[i + 1]; sum[2] += d[i + 2]; }
  return sum.map((s) => Math.round(s / (d.length / 4)));
})()`;

describe('the slate while the encoder is away', () => {
  test('hls.js and dash.js play through a 14 s encoder drop: slate, then the encoder again, without a reload', async ({
    appliance: a,
    liveChannel: c,
    publish,
    players,
    browser,
  }) => {
    const first = publish(c.publishUrl, { seconds: 120 });
    await waitFor('master playlist', async () => (await fetch(c.playback.hls)).status === 200, 30_000);
    const player = await players.open(browser, c.playback.hls);
    const dash = await openDash(browser, c.playback.dash);
    await player.until('playback', (s) => !s.paused && s.currentTime > 2, 30_000);
    await waitFor('dash.js playback', async () => (await dash.state()).currentTime > 2, 30_000);
    const before = await mediaPlaylist(c, 'video_source');
    expect(before.maps).toHaveLength(1);

    // Sequence numbers seen, per URI: never a different number for the same segment, never backwards.
    const numbers = new Map<string, number>();
    let lastSequence = 0;
    const follow = async (): Promise<Listed> => {
      const p = await mediaPlaylist(c, 'video_source');
      expect(p.sequence).toBeGreaterThanOrEqual(lastSequence);
      lastSequence = p.sequence;
      p.uris.forEach((u, i) => {
        expect(numbers.get(u) ?? p.sequence + i, u).toBe(p.sequence + i);
        numbers.set(u, p.sequence + i);
      });
      return p;
    };

    // The encoder dies.
    first.proc.kill('SIGKILL');
    const killedAt = Date.now();
    const slate = await waitFor(
      'the slate listed',
      async () => {
        const p = await follow();
        return (
          p.maps.length === 2 &&
          p.text.lastIndexOf('#EXT-X-DISCONTINUITY') > p.text.indexOf(p.maps[0] as string) &&
          p
        );
      },
      15_000,
      100,
    );
    const slateAfter = (Date.now() - killedAt) / 1000;
    // The slate continues where the encoder's media ended (about when it died), and its first fragment is listed
    // within two fragment durations (half a second more for this test's polling and a loaded machine).
    expect(slateAfter, 'seconds from the kill to the slate listed').toBeLessThanOrEqual(2 * FRAGMENT + 0.5);
    expect(await eventCodes(a, c)).toContain('SLATE_ON_AIR');

    // Every rendition plays the slate at its own size, with silent audio.
    for (const track of ['video_source', 'video_360']) {
      const p = await mediaPlaylist(c, track);
      const [init, fragment] = await newestOfLastRun(c, p);
      const video = probe(init, fragment).streams.find((s) => s.codec_type === 'video');
      expect(video?.height, track).toBe(360);
      expect(looksLikeSlate(averageColour(init, fragment)), track).toBe(true);
    }
    const audio = await mediaPlaylist(c, 'audio_source');
    expect(audio.maps).toHaveLength(2);
    expect(slate.text).toContain('#EXT-X-DISCONTINUITY');

    // The player shows it, and keeps playing.
    await waitFor(
      'the slate in the player',
      async () => looksLikeSlate(await player.page.evaluate<number[]>(PAGE_COLOUR)),
      15_000,
    );
    const onSlate = await player.state();
    expect(onSlate.paused, player.describe(onSlate)).toBe(false);
    await waitFor(
      'the slate in dash.js',
      async () => looksLikeSlate(await dash.page.evaluate<number[]>(PAGE_COLOUR)),
      15_000,
    );
    const dashOnSlate = await dash.state();

    // The encoder returns, 14 s after it was killed.
    await new Promise((r) => setTimeout(r, Math.max(0, 14_000 - (Date.now() - killedAt))));
    publish(c.publishUrl, { seconds: 60 });
    await waitFor(
      'the encoder listed again',
      async () => {
        const p = await follow();
        return p.maps.length >= 2 && p.maps.at(-1) !== slate.maps.at(-1);
      },
      20_000,
      200,
    );
    expect(await eventCodes(a, c)).toContain('SLATE_OFF_AIR');
    const back = await waitFor(
      'testsrc in the player',
      async () => {
        const colour = await player.page.evaluate<number[]>(PAGE_COLOUR);
        return !looksLikeSlate(colour) && (colour[1] as number) > 60 && colour;
      },
      25_000,
    );
    expect(back).toBeTruthy();
    // dash.js too: the encoder's picture again, later in time, without an error or a reload of the page.
    await waitFor(
      'testsrc in dash.js',
      async () => {
        const colour = await dash.page.evaluate<number[]>(PAGE_COLOUR);
        return !looksLikeSlate(colour) && (colour[1] as number) > 60;
      },
      25_000,
    );
    const dashAfter = await dash.state();
    expect(dashAfter.currentTime).toBeGreaterThan(dashOnSlate.currentTime);
    expect(dashAfter.errors).toEqual([]);
    await dash.close();
    const after = await player.state();
    expect(after.currentTime, player.describe(after)).toBeGreaterThan(onSlate.currentTime);
    expect(
      after.errors.filter((e) => e.fatal),
      player.describe(after),
    ).toEqual([]);
    // No reload: one manifest, loaded once.
    expect(
      after.events.filter((e) => e.includes('manifest parsed')),
      player.describe(after),
    ).toHaveLength(1);

    // DASH: a Period per run, each naming its own init segment, which exists.
    const mpd = await (await fetch(c.playback.dash)).text();
    const periods = [...mpd.matchAll(/<Period id="(p\d+)" start="PT([\d.]+)S">/g)].map((m) => Number(m[2]));
    expect(periods.length, mpd).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < periods.length; i++) expect(periods[i]).toBeGreaterThan(periods[i - 1] as number);
    const inits = [
      ...mpd.matchAll(
        /<Representation id="([^"]+)"[^>]*>\s*(?:<AudioChannelConfiguration[^>]*>\s*)?<SegmentTemplate[^>]*initialization="tracks\/\$RepresentationID\$\/([^"]+)"/g,
      ),
    ].map((m) => `${m[1]}/${m[2]}`);
    expect(new Set(inits.filter((i) => i.startsWith('video_source/'))).size, mpd).toBeGreaterThanOrEqual(3);
    for (const init of inits) expect((await fetch(`${base(c)}tracks/${init}`)).status, init).toBe(200);

    // /archive marks the slate's range as the slate's.
    const archive = (await (await a.api('GET', `/api/v1/channels/${c.entryId}/archive`)).json()) as {
      tracks: Array<{ trackName: string; ranges: Array<{ ingest: string }> }>;
    };
    const ingests = archive.tracks.find((t) => t.trackName === 'video_source')?.ranges.map((r) => r.ingest);
    expect(ingests).toEqual(expect.arrayContaining(['primary', 'slate']));
    expect(ingests?.indexOf('slate')).toBeGreaterThan(0);

    // An MP4 of a range across encoder, slate and encoder again: each run's fragments with its own init segment.
    const ranges = (
      (await (await a.api('GET', `/api/v1/channels/${c.entryId}/archive`)).json()) as {
        tracks: Array<{ trackName: string; ranges: Array<{ start: string; end: string }> }>;
      }
    ).tracks.find((t) => t.trackName === 'video_source')?.ranges as Array<{ start: string; end: string }>;
    const link = (await (
      await a.api('POST', `/api/v1/channels/${c.entryId}/archive/download-link`, {
        from: ranges[0]?.start,
        to: ranges.at(-1)?.end,
      })
    ).json()) as { url: string };
    const r = await fetch(link.url);
    expect(r.status).toBe(200);
    const mp4 = path.join(os.tmpdir(), `ecdn-slate-export-${process.pid}.mp4`);
    fs.writeFileSync(mp4, Buffer.from(await r.arrayBuffer()));
    try {
      const decode = spawnSync(FFMPEG, ['-v', 'error', '-i', mp4, '-f', 'null', '-'], { encoding: 'utf8' });
      expect(decode.status, decode.stderr).toBe(0);
      const duration = spawnSync(
        'ffprobe',
        ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', mp4],
        {
          encoding: 'utf8',
        },
      );
      // Encoder, 14 s of slate, encoder again.
      expect(Number(duration.stdout.trim())).toBeGreaterThan(14);
    } finally {
      fs.rmSync(mp4, { force: true });
    }
  });

  test('the slate image: the default card, replaced by an image, checked, and back', async ({
    appliance: a,
  }) => {
    type View = { custom: boolean; type: string; dataUrl: string; durationSeconds: number };
    let view = (await (await a.api('GET', '/api/v1/slate')).json()) as View;
    expect(view).toMatchObject({ custom: false, type: 'image/png', durationSeconds: 60 });
    expect(view.dataUrl.startsWith('data:image/png;base64,iVBOR')).toBe(true);

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecdn-slate-'));
    const jpeg = path.join(dir, 'card.jpg');
    const made = spawnSync(FFMPEG, [
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      'color=orange:s=320x180',
      '-frames:v',
      '1',
      jpeg,
    ]);
    expect(made.status).toBe(0);
    const image = fs.readFileSync(jpeg).toString('base64');
    fs.rmSync(dir, { recursive: true, force: true });
    let r = await a.api('PUT', '/api/v1/slate', { image });
    expect(r.status).toBe(200);
    view = (await r.json()) as View;
    expect(view).toMatchObject({ custom: true, type: 'image/jpeg' });
    expect(((await (await a.api('GET', '/api/v1/slate')).json()) as View).custom).toBe(true);
    expect(fs.existsSync(path.join(a.dataDir, 'slate', 'slate.jpg'))).toBe(true);

    // Not an image, or an image ffmpeg cannot decode: a 400 that says why; the image set stays.
    r = await a.api('PUT', '/api/v1/slate', { image: Buffer.from('GIF89a not really').toString('base64') });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: { message: string } }).error.message).toContain('PNG or JPEG');
    r = await a.api('PUT', '/api/v1/slate', {
      image: Buffer.from([0xff, 0xd8, 0xff, 0, 1, 2, 3]).toString('base64'),
    });
    expect(((await r.json()) as { error: { message: string } }).error.message).toContain('cannot be decoded');
    expect(((await (await a.api('GET', '/api/v1/slate')).json()) as View).type).toBe('image/jpeg');

    view = (await (await a.api('DELETE', '/api/v1/slate')).json()) as View;
    expect(view).toMatchObject({ custom: false, type: 'image/png' });
  });
});
