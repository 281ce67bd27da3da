/**
 * On-air confidence: each live channel's content monitor (one cheap ffmpeg beside the transcoders) keeps a live
 * thumbnail and raises BLACK, FROZEN and SILENCE as channel events, in the channel's view and in /metrics.
 * A normal publish raises nothing; a publish that is black and silent for its first 28 s raises BLACK and
 * SILENCE, and both end when the picture and the sound return. Staff see the thumbnails, the alert count and the
 * channel page's banner in the dashboard (headless Chromium), viewers the thumbnail on the portal's card.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createChannel, waitFor, type RunningAppliance } from '../helpers/appliance.js';
import { ensureDashboardBuilt, openDashboard, until } from '../helpers/dashboard.js';
import { FFMPEG, FFPROBE, ffmpegUrl } from '../helpers/encoder.js';
import { test, describe, expect } from '../helpers/fixtures.js';

// Transcoding is not the point: the source passes through, so the machine's cores go to the monitors. The admin
// listener serves renderer/dist as it finds it at start: built first.
test.override('applianceOptions', async () => {
  await ensureDashboardBuilt();
  return { extraArgs: ['--conversion-profile', 'resources/conversion-profiles/passthrough.xml'] };
});
test.override('encoderOptions', { seconds: 60 });

interface ChannelJson {
  entryId: string;
  state: string;
  playback: { hls: string };
  alerts: Array<{ condition: string; level: string; since: string; message: string }>;
  monitor?: { running: boolean; keyFrameInterval: number | null; thumbnailAt: string | null };
}

interface EventJson {
  at: string;
  level: string;
  code: string;
  message: string;
}

const thumbnailOf = (hls: string) => hls.replace(/\/\.m3u8(\?|$)/, '/thumbnail.jpg$1');

async function channel(a: RunningAppliance, entryId: string): Promise<ChannelJson> {
  return (await (await a.api('GET', `/api/v1/channels/${entryId}`)).json()) as ChannelJson;
}

async function events(a: RunningAppliance, entryId: string): Promise<EventJson[]> {
  const r = await a.api('GET', `/api/v1/channels/${entryId}/events`);
  return ((await r.json()) as { events: EventJson[] }).events;
}

async function metrics(a: RunningAppliance): Promise<string> {
  return (await a.api('GET', '/metrics')).text();
}

/** Width, height and codec of a picture, and its mean luma (0 to 255). */
function picture(jpeg: Buffer): { codec: string; width: number; height: number; luma: number } {
  const p = spawnSync(
    FFPROBE,
    ['-v', 'error', '-show_entries', 'stream=codec_name,width,height', '-of', 'json', '-i', 'pipe:0'],
    { input: jpeg, encoding: 'buffer' },
  );
  expect(p.status, p.stderr.toString()).toBe(0);
  const s = (
    JSON.parse(p.stdout.toString()) as {
      streams: Array<{ codec_name: string; width: number; height: number }>;
    }
  ).streams[0];
  const g = spawnSync(
    FFMPEG,
    ['-v', 'error', '-i', 'pipe:0', '-vf', 'format=gray', '-f', 'rawvideo', 'pipe:1'],
    { input: jpeg, encoding: 'buffer', maxBuffer: 16 * 1024 * 1024 },
  );
  expect(g.status, g.stderr.toString()).toBe(0);
  let sum = 0;
  for (const b of g.stdout) sum += b;
  return {
    codec: s?.codec_name ?? '',
    width: s?.width ?? 0,
    height: s?.height ?? 0,
    luma: sum / Math.max(1, g.stdout.length),
  };
}

describe('on-air confidence', () => {
  test('a normal publish: a fresh 320 px JPEG thumbnail on the origin, no alert', async ({
    appliance: a,
    liveChannel: c,
    encoder: _encoder,
  }) => {
    const url = thumbnailOf(c.playback.hls);
    expect(url).toBe(`${a.origin}/${c.entryId}/${c.entryId}.isml/thumbnail.jpg`);
    const r = await waitFor(
      'the thumbnail',
      async () => {
        const res = await fetch(url);
        return res.status === 200 ? res : (await res.arrayBuffer(), undefined);
      },
      30_000,
    );
    expect(r.headers.get('content-type')).toBe('image/jpeg');
    expect(r.headers.get('cache-control')).toBe('public, max-age=5');
    const jpeg = Buffer.from(await r.arrayBuffer());
    const pic = picture(jpeg);
    expect(pic).toMatchObject({ codec: 'mjpeg', width: 320, height: 180 });
    expect(pic.luma).toBeGreaterThan(40);
    // At most 10 s old, and renewed while live.
    const modified = Date.parse(r.headers.get('last-modified') ?? '');
    expect(Date.now() - modified).toBeLessThan(10_000);
    await waitFor(
      'a newer thumbnail',
      async () => {
        const res = await fetch(url);
        await res.arrayBuffer();
        return Date.parse(res.headers.get('last-modified') ?? '') > modified;
      },
      12_000,
    );
    const view = await channel(a, c.entryId);
    expect(view.alerts).toEqual([]);
    expect(view.monitor?.running).toBe(true);
    // Ingest health: the key frame interval as measured in the decoded stream (the encoder's: 60 frames at 30 fps).
    expect(view.monitor?.keyFrameInterval).toBeCloseTo(2, 0);
    expect(Date.now() - Date.parse(view.monitor?.thumbnailAt ?? '')).toBeLessThan(10_000);
    // Thumbnails are not viewers.
    const m = await metrics(a);
    expect(m).not.toMatch(new RegExp(`ecdn_channel_viewers\\{channel="${c.entryId}"\\} [1-9]`));
    // They reached the router through the origin listener's fast lane, which says so.
    expect(m).toMatch(/^ecdn_origin_fast_lane_passed [1-9]\d*$/m);
    // The portal's card of the live channel shows it.
    const portal = await (await fetch(`${a.origin}/`)).text();
    expect(portal).toContain(`<img class="card-thumb" src="/${c.entryId}/${c.entryId}.isml/thumbnail.jpg"`);
  });

  test('black and silent: BLACK and SILENCE within 10 s, a dark thumbnail behind a signature, both end when the picture returns; a still picture is FROZEN', async ({
    appliance: a,
    liveChannel: normal,
    publish,
    browser,
  }) => {
    const c = await createChannel(a, 'black');
    expect((await a.api('PATCH', `/api/v1/channels/${c.entryId}`, { access: 'secure' })).status).toBe(200);
    const still = await createChannel(a, 'still');
    publish(ffmpegUrl(c.broadcastUrl, c.streamName), { source: 'black', blackUntil: 28, seconds: 45 });
    publish(ffmpegUrl(still.broadcastUrl, still.streamName), { source: 'still', seconds: 25 });
    await waitFor('started', async () => (await channel(a, c.entryId)).state === 'started', 20_000, 100);
    const startedAt = Date.now();
    await waitFor(
      'still started',
      async () => (await channel(a, still.entryId)).state === 'started',
      20_000,
      100,
    );
    const stillStartedAt = Date.now();

    const raised = await waitFor(
      'BLACK and SILENCE',
      async () => {
        const ev = await events(a, c.entryId);
        const black = ev.find((e) => e.code === 'BLACK_STARTED');
        const silence = ev.find((e) => e.code === 'SILENCE_STARTED');
        return black && silence ? { black, silence } : undefined;
      },
      15_000,
    );
    expect(Date.parse(raised.black.at) - startedAt).toBeLessThan(10_000);
    expect(Date.parse(raised.silence.at) - startedAt).toBeLessThan(10_000);
    expect(raised.black.level).toBe('error');
    expect(raised.silence.level).toBe('warn');
    const view = await channel(a, c.entryId);
    expect(view.alerts.map((x) => x.condition).sort()).toEqual(['BLACK', 'SILENCE']);
    // A black picture is not also reported frozen; a still one is, and it is not silent.
    expect((await events(a, c.entryId)).some((e) => e.code === 'FROZEN_STARTED')).toBe(false);
    const frozen = await waitFor(
      'FROZEN',
      async () => (await events(a, still.entryId)).find((e) => e.code === 'FROZEN_STARTED'),
      15_000,
    );
    expect(Date.parse(frozen.at) - stillStartedAt).toBeLessThan(10_000);
    expect((await channel(a, still.entryId)).alerts.map((x) => x.condition)).toEqual(['FROZEN']);
    const m = await metrics(a);
    expect(m).toContain(`ecdn_channel_alert{entry="${c.entryId}",condition="BLACK"} 1`);
    expect(m).toContain(`ecdn_channel_alert{entry="${c.entryId}",condition="SILENCE"} 1`);
    expect(m).toContain(`ecdn_channel_alert{entry="${c.entryId}",condition="FROZEN"} 0`);
    expect(m).toContain(`ecdn_channel_alert{entry="${normal.entryId}",condition="BLACK"} 0`);

    // Secure channel: the thumbnail needs a signed URL like everything else.
    const bare = await fetch(thumbnailOf(c.playback.hls));
    await bare.arrayBuffer();
    expect(bare.status).toBe(403);
    expect(bare.headers.get('x-ecdn-denied')).toBe('missing');
    const signed = (await (await a.api('POST', `/api/v1/channels/${c.entryId}/signed-url`, {})).json()) as {
      url: string;
    };
    const r = await fetch(thumbnailOf(signed.url));
    expect(r.status).toBe(200);
    const dark = picture(Buffer.from(await r.arrayBuffer()));
    expect(dark.width).toBe(320);
    expect(dark.luma).toBeLessThan(25);

    // The dashboard: both channels' pictures and the black one's alert count in the list, then its banner.
    fs.writeFileSync(path.join(a.dataDir, 'settings.json'), '{}\n');
    const d = await openDashboard(browser, `${a.admin}/`);
    const p = d.page;
    await p.getByLabel('Admin token', { exact: true }).fill(a.token);
    await p.getByRole('button', { name: 'Sign in' }).click();
    const row = (entryId: string) => p.locator(`[data-testid="channel-row"][data-entry-id="${entryId}"]`);
    const count = () => row(c.entryId).getByTestId('channel-alert-count').getAttribute('data-count');
    await until(d, 'the alert count in the list', async () => (await count().catch(() => null)) === '2');
    await until(d, 'both thumbnails', async () => {
      const loaded = (entryId: string) =>
        row(entryId).locator('[data-testid="channel-thumbnail"][data-loaded="true"] img').count();
      return (await loaded(normal.entryId)) === 1 && (await loaded(c.entryId)) === 1;
    });
    expect(await row(normal.entryId).getByTestId('channel-alert-count').count()).toBe(0);
    fs.mkdirSync(path.join('test-results', 'screenshots'), { recursive: true });
    await p.screenshot({ path: path.join('test-results', 'screenshots', 'on-air-channels.png') });
    await p.goto(`${a.admin}/#/channels/${c.entryId}`);
    const banner = p.getByTestId('channel-alerts');
    await banner.waitFor({ state: 'visible', timeout: 10_000 });
    const shown = await banner
      .locator('[data-condition]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-condition')));
    expect(shown.sort()).toEqual(['BLACK', 'SILENCE']);
    await p.screenshot({ path: path.join('test-results', 'screenshots', 'on-air-black.png') });

    // The picture and the sound come back 28 s into the publish: both end, with an end event.
    const ended = await waitFor(
      'BLACK_ENDED and SILENCE_ENDED',
      async () => {
        const ev = await events(a, c.entryId);
        const black = ev.find((e) => e.code === 'BLACK_ENDED');
        const silence = ev.find((e) => e.code === 'SILENCE_ENDED');
        return black && silence ? { black, silence } : undefined;
      },
      25_000,
    );
    // Ended by the picture returning (the channel still live), not by the channel stopping.
    expect(ended.black.message).toMatch(/^Black picture ended after \d+ s$/);
    expect(ended.silence.message).toMatch(/^Silence ended after \d+ s$/);
    expect((await channel(a, c.entryId)).state).toBe('started');
    expect((await channel(a, c.entryId)).alerts).toEqual([]);
    expect(await metrics(a)).toContain(`ecdn_channel_alert{entry="${c.entryId}",condition="BLACK"} 0`);
    // The banner goes without a reload (the end events are pushed to the dashboard).
    await until(d, 'the banner gone', async () => (await banner.count()) === 0, 10_000);
    await p.close();
    // The normal channel meanwhile raised nothing.
    const conditions = /^(BLACK|FROZEN|SILENCE)_/;
    expect((await events(a, normal.entryId)).filter((e) => conditions.test(e.code))).toEqual([]);
  });
});
