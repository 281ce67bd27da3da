/**
 * The viewer portal on the origin listener, in a real browser against the real appliance: the portal lists an
 * open live channel, a click opens its player page and hls.js plays it under the pages' strict CSP; a secure
 * channel is not listed, its page is a 403 without a signature and plays with the one from get-signed-url; a
 * space's playlist player plays its items one after another.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { ROOT, createChannel, waitFor } from '../helpers/appliance.js';
import { FFMPEG, ffmpegUrl } from '../helpers/encoder.js';
import { test as base, describe, expect } from '../helpers/fixtures.js';

const SCREENSHOT = path.join(ROOT, 'test-artifacts', 'portal.png');

/** `liveChannel` is the open "Portal lobby"; `boardroom` is a secure channel, live too. */
const test = base.extend('boardroom', { scope: 'file' }, async ({ appliance: a, publishForFile }) => {
  const boardroom = await createChannel(a, 'Portal boardroom');
  const r = await a.api('PATCH', `/api/v1/channels/${boardroom.entryId}`, { access: 'secure' });
  expect(r.status).toBe(200);
  publishForFile(ffmpegUrl(boardroom.broadcastUrl, boardroom.streamName), { seconds: 120, gop: 30 });
  return boardroom;
});
test.override('liveChannelName', 'Portal lobby');
// How long fragments are is not the point here, and players start sooner on 1 s fragments (1 s GOPs).
test.override('applianceOptions', { extraArgs: ['--fragment-duration', '1'] });
test.override('encoderOptions', { seconds: 120, gop: 30 });

const servers: http.Server[] = [];
let mediaDir: string | undefined;

interface Playback {
  currentTime: number;
  paused: boolean;
  readyState: number;
  videoHeight: number;
  status: string;
}

/** A page that records its console, errors and failed requests (CSP refusals show up as console errors). */
async function openPage(
  browser: Browser,
  width = 1280,
  height = 800,
): Promise<{ page: Page; log: string[]; describe: () => string }> {
  const page = await browser.newPage({ viewport: { width, height } });
  const log: string[] = [];
  page.on('console', (m) => log.push(`console.${m.type()}: ${m.text()}`));
  page.on('pageerror', (err) => log.push(`pageerror: ${err.message}`));
  page.on('requestfailed', (r) => log.push(`requestfailed: ${r.url()} ${r.failure()?.errorText}`));
  return { page, log, describe: () => log.join('\n') };
}

const playback = (page: Page) =>
  page.evaluate<Playback>(`(() => {
    const v = document.querySelector('video');
    const s = document.getElementById('player-status');
    return {
      currentTime: v ? v.currentTime : -1,
      paused: v ? v.paused : true,
      readyState: v ? v.readyState : 0,
      videoHeight: v ? v.videoHeight : 0,
      status: s ? s.textContent : '',
    };
  })()`);

/** Waits until the page's video has played `seconds` (from its first frame on). */
async function plays(page: Page, seconds: number, describe: () => string): Promise<Playback> {
  const first = await waitFor(
    `playback to start on ${page.url()}`,
    async () => {
      const s = await playback(page);
      return !s.paused && s.currentTime > 0 ? s : undefined;
    },
    40_000,
  ).catch(async (err: Error) => {
    throw new Error(`${err.message}\n${JSON.stringify(await playback(page))}\n${describe()}`);
  });
  return waitFor(
    `${seconds} s of playback`,
    async () => {
      const s = await playback(page);
      return s.currentTime - first.currentTime >= seconds ? s : undefined;
    },
    30_000,
  ).catch(async (err: Error) => {
    throw new Error(`${err.message}\n${JSON.stringify(await playback(page))}\n${describe()}`);
  });
}

const cspRefusals = (log: string[]) => log.filter((l) => /Content Security Policy|Refused to/i.test(l));

test.beforeAll(async ({ liveChannel: lobby, encoder: _encoder, boardroom: _boardroom }) => {
  await waitFor(
    'the open channel to be live',
    async () => {
      const m = await fetch(lobby.playback.hls);
      await m.arrayBuffer();
      return m.status === 200;
    },
    40_000,
  );
});

// What the tests leave besides the fixtures: the embed's host page server and the space's media files.
test.afterAll(async () => {
  for (const srv of servers) {
    srv.closeAllConnections();
    await new Promise<void>((resolve) => srv.close(() => resolve()));
  }
  if (mediaDir) fs.rmSync(mediaDir, { recursive: true, force: true });
});

describe('the viewer portal', () => {
  test('lists the open live channel, and a click plays it in hls.js under the strict CSP', async ({
    appliance: app,
    liveChannel: lobby,
    browser,
  }) => {
    const { page, log, describe: describeLog } = await openPage(browser);
    const res = await page.goto(`${app.origin}/`);
    expect(res?.status()).toBe(200);
    expect(res?.headers()['content-security-policy']).toMatch(/default-src 'self'/);
    const link = page.getByRole('link', { name: /Portal lobby/ });
    await link.waitFor({ state: 'visible', timeout: 10_000 });
    expect(await link.textContent()).toMatch(/Live/);
    expect(await page.content()).not.toContain('Portal boardroom');

    await link.click();
    await page.waitForURL(`${app.origin}/watch/${lobby.entryId}`);
    expect(await page.locator('h1').textContent()).toContain('Portal lobby');
    const later = await plays(page, 2, describeLog);
    expect(later.videoHeight, describeLog()).toBeGreaterThan(0);
    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    // The player's own controls: the LIVE pill (at the live edge), a quality menu with the renditions.
    const pill = page.locator('[data-live-pill]');
    await waitFor('the LIVE pill', async () => (await pill.getAttribute('data-at-live')) === 'true', 10_000);
    expect(await pill.isVisible()).toBe(true);
    expect(await page.locator('[data-bigplay]').isVisible()).toBe(false);
    const qualities = await page.locator('[data-quality] option').allTextContents();
    expect(qualities[0]).toBe('Auto');
    expect(qualities.length, qualities.join(', ')).toBeGreaterThanOrEqual(3); // Auto, source, 360p
    expect(qualities[1]).toMatch(/^\d+p · \d+ kbit\/s$/);
    // Behind the live edge, the pill offers to jump back; a click does.
    const seekable = `(() => { const r = document.querySelector('video').seekable; return r.length ? r.end(r.length - 1) - r.start(0) : 0; })()`;
    await waitFor('12 s to seek in', async () => (await page.evaluate<number>(seekable)) >= 12, 20_000);
    await page.evaluate(
      '(() => { const v = document.querySelector("video"); v.currentTime = v.seekable.start(0); })()',
    );
    await waitFor(
      'the pill to say "behind"',
      async () => (await pill.getAttribute('data-at-live')) === 'false',
      10_000,
    ).catch(async (err: Error) => {
      const debug = await page.evaluate<string>(
        '(() => { const v = document.querySelector("video"); const r = v.seekable; return JSON.stringify({ t: v.currentTime, paused: v.paused, seekable: r.length ? [r.start(0), r.end(r.length - 1)] : [] }); })()',
      );
      throw new Error(`${err.message}\n${debug}\n${describeLog()}`);
    });
    await pill.click();
    await waitFor(
      'back at the live edge',
      async () => (await pill.getAttribute('data-at-live')) === 'true',
      10_000,
    );
    // Another rendition from the quality menu: playback goes on.
    await page.locator('[data-quality]').selectOption({ index: 2 });
    const switched = (await playback(page)).currentTime;
    await waitFor(
      'playback after the switch',
      async () => (await playback(page)).currentTime > switched + 1,
      15_000,
    );
    // "Share and embed" is collapsed behind its button.
    const share = page.getByRole('button', { name: 'Share and embed' });
    expect(await share.getAttribute('aria-expanded')).toBe('false');
    expect(await page.locator('#snippet-iframe').isVisible()).toBe(false);
    await share.click();
    expect(await share.getAttribute('aria-expanded')).toBe('true');
    expect(await page.locator('#snippet-iframe').isVisible()).toBe(true);
    // The embed snippets point at the appliance.
    expect(await page.locator('#snippet-iframe').inputValue()).toContain(
      `src="${app.origin}/embed/${lobby.entryId}"`,
    );
    expect(cspRefusals(log), describeLog()).toEqual([]);
    expect(
      log.filter((l) => l.startsWith('pageerror')),
      describeLog(),
    ).toEqual([]);

    // Readable on a phone: nothing wider than the screen.
    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = await page.evaluate<number>(
      'document.documentElement.scrollWidth - document.documentElement.clientWidth',
    );
    expect(overflow).toBeLessThanOrEqual(0);
  });

  test('click-to-play: the embed without autoplay shows the poster and a big play button, a click plays', async ({
    appliance: app,
    liveChannel: lobby,
    browser,
  }) => {
    const { page, describe: describeLog } = await openPage(browser, 800, 450);
    await page.goto(`${app.origin}/embed/${lobby.entryId}`);
    const video = page.locator('video[data-player]');
    expect(await video.getAttribute('poster')).toBe(`/${lobby.entryId}/${lobby.entryId}.isml/thumbnail.jpg`);
    const big = page.locator('[data-bigplay]');
    await big.waitFor({ state: 'visible', timeout: 10_000 });
    await page.waitForTimeout(1000);
    expect((await playback(page)).paused).toBe(true);
    await big.click();
    await plays(page, 1, describeLog);
    expect(await big.isVisible()).toBe(false);
    await page.close();
  });

  test('the embed plays inside an iframe on another origin', async ({
    appliance: app,
    liveChannel: lobby,
    browser,
  }) => {
    // Another site (another origin): a page with nothing but the iframe snippet.
    const host = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(
        `<!doctype html><title>host</title><iframe src="${app.origin}/embed/${lobby.entryId}?autoplay=1" width="640" height="360" allow="autoplay"></iframe>`,
      );
    });
    servers.push(host);
    await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
    const { page, log, describe: describeLog } = await openPage(browser, 800, 450);
    await page.goto(`http://127.0.0.1:${(host.address() as net.AddressInfo).port}/`);
    const frame = await waitFor('the embed frame', async () =>
      page.frames().find((f) => f.url().includes('/embed/')),
    );
    const s = await waitFor(
      'the embed to play',
      async () => {
        const st = await frame.evaluate<Playback>(`(() => {
          const v = document.querySelector('video');
          return { currentTime: v.currentTime, paused: v.paused, readyState: v.readyState, videoHeight: v.videoHeight, status: '' };
        })()`);
        return st.currentTime > 1 ? st : undefined;
      },
      40_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${describeLog()}`);
    });
    expect(s.currentTime).toBeGreaterThan(1);
    expect(cspRefusals(log), describeLog()).toEqual([]);
  });

  test('a secure channel is not listed, is 403 without a signature, and plays with a signed URL', async ({
    appliance: app,
    boardroom,
    browser,
  }) => {
    const portal = await (await fetch(`${app.origin}/`)).text();
    expect(portal).toContain('Portal lobby');
    expect(portal).not.toContain('Portal boardroom');
    expect(portal).not.toContain(boardroom.entryId);

    for (const route of ['watch', 'embed']) {
      const r = await fetch(`${app.origin}/${route}/${boardroom.entryId}`);
      const body = await r.text();
      expect(r.status, route).toBe(403);
      expect(body).toContain('the URL is not signed');
      expect(body).not.toContain('Portal boardroom');
      expect(body).not.toMatch(/at .*\.ts:\d+/);
    }

    const signed = await app.api('POST', `/api/v1/channels/${boardroom.entryId}/signed-url`, {});
    expect(signed.status).toBe(200);
    const { url } = (await signed.json()) as { url: string };
    const search = new URL(url).search;
    expect(search).toContain('sig=');

    const { page, log, describe: describeLog } = await openPage(browser);
    const res = await page.goto(`${app.origin}/watch/${boardroom.entryId}${search}`);
    expect(res?.status()).toBe(200);
    expect(await page.locator('h1').textContent()).toContain('Portal boardroom');
    await plays(page, 2, describeLog);
    expect(cspRefusals(log), describeLog()).toEqual([]);
  });

  test('a viewer is never stranded: the page says "Paused" when the encoder stops, and plays again by itself', async ({
    appliance: app,
    browser,
    publish,
  }) => {
    const c = await createChannel(app, 'Portal comeback');
    publish(ffmpegUrl(c.broadcastUrl, c.streamName), { seconds: 8, gop: 30 });
    const { page, describe: describeLog } = await openPage(browser);
    await page.goto(`${app.origin}/watch/${c.entryId}`);
    await plays(page, 1, describeLog);
    // The encoder stops: the player plays out what it has, then says what happens, over the last frame.
    await waitFor(
      'the paused notice',
      async () => (await playback(page)).status.startsWith('Paused — it will continue here automatically'),
      40_000,
    ).catch(async (err: Error) => {
      throw new Error(`${err.message}\n${JSON.stringify(await playback(page))}\n${describeLog()}`);
    });
    expect(await page.locator('[data-live-badge]').textContent()).toBe('Paused');
    const pausedAt = (await playback(page)).currentTime;
    // The encoder comes back (the same presentation continues): the page plays again, no viewer action.
    publish(ffmpegUrl(c.broadcastUrl, c.streamName), { seconds: 20, gop: 30 });
    await waitFor(
      'playback to resume by itself',
      async () => {
        const s = await playback(page);
        return !s.paused && s.currentTime > pausedAt + 1 && s.status === '';
      },
      40_000,
    ).catch(async (err: Error) => {
      throw new Error(`${err.message}\n${JSON.stringify(await playback(page))}\n${describeLog()}`);
    });
    expect(await page.locator('[data-live-badge]').textContent()).toBe('Live');
    await page.close();
  });

  test("a space's playlist player: listed when open, plays an item, then the next one when it ends", async ({
    appliance: app,
    browser,
  }) => {
    mediaDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecdn-portal-media-'));
    const make = (out: string, args: string[]): Buffer => {
      const r = spawnSync(FFMPEG, [
        '-hide_banner',
        '-loglevel',
        'error',
        ...args,
        path.join(mediaDir as string, out),
      ]);
      if (r.status !== 0) throw new Error(String(r.stderr));
      return fs.readFileSync(path.join(mediaDir as string, out));
    };
    const clip = make('clip.mp4', [
      // 2 s: long enough to be seen playing (past 1 s), short enough not to keep the next item waiting.
      ...['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30', '-f', 'lavfi', '-i', 'sine', '-t', '2'],
      ...['-c:v', 'libx264', '-g', '30', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-movflags', '+faststart'],
    ]);
    const tone = make('tone.mp3', [
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=300',
      '-t',
      '3',
      '-c:a',
      'libmp3lame',
    ]);
    const createSpace = async (name: string): Promise<string> => {
      const r = await app.api('POST', '/api/v1/spaces', { name });
      expect(r.status).toBe(201);
      const id = ((await r.json()) as { id: string }).id;
      for (const [item, body] of [
        ['1-clip.mp4', clip],
        ['2-tone.mp3', tone],
      ] as const) {
        const up = await fetch(`${app.admin}/api/v1/spaces/${id}/items/${item}`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${app.token}`, 'content-type': 'application/octet-stream' },
          body,
        });
        expect(up.status, await up.text()).toBeLessThan(300);
      }
      return id;
    };
    const open = await createSpace('Portal recordings');
    const vault = await createSpace('Portal vault');
    expect((await app.api('PATCH', `/api/v1/spaces/${vault}`, { access: 'secure' })).status).toBe(200);

    const portal = await (await fetch(`${app.origin}/`)).text();
    expect(portal).toContain(`href="/spaces/${open}"`);
    expect(portal).not.toContain('Portal vault');
    const denied = await fetch(`${app.origin}/spaces/${vault}`);
    expect(denied.status).toBe(403);
    expect(await denied.text()).not.toContain('Portal vault');
    const signed = await app.api('POST', `/api/v1/spaces/${vault}/items/1-clip.mp4/signed-url`, {});
    expect(signed.status).toBe(200);
    const search = new URL(((await signed.json()) as { url: string }).url).search;
    const opened = await fetch(`${app.origin}/spaces/${vault}${search}`);
    expect(opened.status).toBe(200);
    expect(await opened.text()).toContain('Portal vault');

    const { page, log, describe: describeLog } = await openPage(browser);
    await page.goto(`${app.origin}/`);
    await page.getByRole('link', { name: /Portal recordings/ }).click();
    await page.waitForURL(`${app.origin}/spaces/${open}`);
    // With the keyboard: focus the first item and press Enter.
    await page.getByRole('link', { name: /1-clip\.mp4/ }).focus();
    await page.keyboard.press('Enter');
    const media = (selector: string) =>
      page.evaluate<{ currentTime: number; paused: boolean; hidden: boolean }>(
        `(() => { const m = document.querySelector(${JSON.stringify(selector)}); return { currentTime: m.currentTime, paused: m.paused, hidden: m.hidden }; })()`,
      );
    const fail = (err: Error) => {
      throw new Error(`${err.message}\n${describeLog()}`);
    };
    await waitFor(
      'the video item to play',
      async () => {
        const v = await media('#space-video');
        return !v.paused && v.currentTime > 1;
      },
      30_000,
    ).catch(fail);
    // When it ends, the audio item plays in the <audio> element.
    await waitFor(
      'the audio item to play next',
      async () => {
        const au = await media('#space-audio');
        return !au.hidden && !au.paused && au.currentTime > 0.5;
      },
      30_000,
    ).catch(fail);
    expect(await page.locator('a[aria-current="true"]').textContent()).toContain('2-tone.mp3');
    expect(cspRefusals(log), describeLog()).toEqual([]);
  });
});
