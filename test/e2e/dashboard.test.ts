/**
 * The dashboard end to end, as event staff use it from a browser on the LAN: the real headless appliance
 * serving the built renderer on its admin listener, headless Chromium (playwright-core), a real ffmpeg
 * encoder over RTMP and hls.js playing the preview. Signs in with the admin token, walks the first-run wizard
 * (testing an eCDN binding against the Kaltura-compatible server, then saving standalone), creates a channel,
 * watches it go live without a reload, plays its preview, sees its statistics move and its archive on the
 * timeline, stops it, purges a selected range and then everything, and restarts it step by step.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Locator } from 'playwright-core';
import { ROOT, createChannel } from '../helpers/appliance.js';
import { ffmpegUrl } from '../helpers/encoder.js';
import {
  ensureDashboardBuilt,
  openDashboard,
  until,
  visibleOrShot,
  type DashboardPage,
} from '../helpers/dashboard.js';
import { FFPROBE } from '../helpers/encoder.js';
import { test as base, describe, expect } from '../helpers/fixtures.js';
import { ECDN_FEATURES, FakeKaltura } from '../helpers/kaltura-server.js';

const SCREENSHOTS = path.join(ROOT, 'test-results', 'screenshots');
const PARTNER = 4242;
const SECRET = 'partner-admin-secret-dashboard';
const CHANNEL = 'Town hall';

/** The Kaltura double the wizard tests against, started for the file by the `serviceUrl` fixture. */
const kaltura = new FakeKaltura({
  partners: [
    { id: PARTNER, adminSecret: SECRET, name: 'Acme Events', features: ECDN_FEATURES },
    // A partner whose Hybrid eCDN feature is off: its secret is right, yet it cannot be bound.
    { id: PARTNER + 1, adminSecret: SECRET, name: 'No eCDN' },
  ],
  entries: [],
});
// eslint-disable-next-line no-empty-pattern
const test = base.extend('serviceUrl', { scope: 'file' }, async ({}, { onCleanup }) => {
  const url = await kaltura.start();
  onCleanup(() => kaltura.stop());
  return url;
});
// The admin listener serves renderer/dist as it finds it at start: build first.
test.override('applianceOptions', async () => {
  await ensureDashboardBuilt();
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  return {};
});

/** The page all steps share, and the channel they create. */
let d: DashboardPage | undefined;
let entryId = '';

const dash = (): DashboardPage => d as DashboardPage;
const page = () => dash().page;
/** The preview's master playlist requests (signed ones once the channel is secure), from when watchPreview ran. */
const previewSeen: string[] = [];
const previewRequests = () => previewSeen;
function watchPreview(p: ReturnType<typeof page>): void {
  p.on('request', (r) => {
    if (r.url().includes(`/${entryId}/${entryId}.isml/.m3u8`)) previewSeen.push(r.url());
  });
}

const visible = (l: Locator, what: string, timeoutMs?: number): Promise<void> =>
  visibleOrShot(dash(), l, what, SCREENSHOTS, timeoutMs);

async function screenshot(name: string): Promise<void> {
  for (const viewport of [
    { width: 1280, height: 800 },
    { width: 1920, height: 1080 },
  ]) {
    await page().setViewportSize(viewport);
    await page().waitForTimeout(300);
    await page().screenshot({
      path: path.join(SCREENSHOTS, `${name}-${viewport.width}x${viewport.height}.png`),
    });
  }
  await page().setViewportSize({ width: 1280, height: 800 });
}

/** The channel row's state badge text on the channels page. */
const rowBadge = () =>
  page().locator(`[data-testid="channel-row"][data-entry-id="${entryId}"] [data-testid="state-badge"]`);
const pageBadge = () => page().getByTestId('channel-header').getByTestId('state-badge');
const ranges = () => page().locator('[data-testid="archive-range"]');

describe('the dashboard in a browser', () => {
  test('asks for the admin token and refuses a wrong one', async ({ appliance: app, browser }) => {
    d = await openDashboard(browser, `${app.admin}/`);
    const token = page().getByLabel('Admin token', { exact: true });
    await visible(token, 'the login screen');
    await token.fill('not-the-admin-token-at-all');
    await token.press('Enter');
    await visible(page().getByRole('alert').filter({ hasText: 'not accepted' }), 'the refusal');
    await token.fill(app.token);
    await page().getByRole('button', { name: 'Sign in' }).click();
    await visible(page().getByRole('heading', { name: 'First-run setup' }), 'the first-run wizard');
    // Kept for the tab's session only.
    expect(await page().evaluate<string | null>("sessionStorage.getItem('ecdn.adminToken')")).toBe(app.token);
  });

  test('wizard, eCDN mode: "Test connection" reports the partner, or why it failed', async ({
    serviceUrl,
  }) => {
    const p = page();
    await p.getByLabel('eCDN', { exact: false }).check();
    await p.getByLabel('Service URL').fill(serviceUrl);
    await p.getByLabel('Partner id').fill(String(PARTNER));
    await p.getByLabel('Partner secret').fill('a-wrong-secret');
    await p.getByRole('button', { name: 'Test connection' }).click();
    const result = p.getByTestId('test-connection-result');
    await visible(result.getByRole('alert'), 'the connection failure');
    const failure = await result.getByRole('alert').innerText();
    expect(failure).toContain('CONNECTION_FAILED');
    expect(failure).toMatch(/refused the admin secret/);

    // The right secret of a partner without the Hybrid eCDN feature: named, with what to ask Kaltura for.
    await p.getByLabel('Partner id').fill(String(PARTNER + 1));
    await p.getByLabel('Partner secret').fill(SECRET);
    await p.getByRole('button', { name: 'Test connection' }).click();
    await visible(
      result.getByRole('alert').filter({ hasText: 'FEATURE_HYBRID_ECDN' }),
      'the missing feature',
    );
    expect(await result.getByRole('alert').innerText()).toContain('Hybrid eCDN Architecture');

    await p.getByLabel('Partner id').fill(String(PARTNER));
    await p.getByRole('button', { name: 'Test connection' }).click();
    await visible(result.getByRole('status'), 'the connection success');
    const ok = await result.getByRole('status').innerText();
    expect(ok).toContain(`partner ${PARTNER}`);
    expect(ok).toContain('Acme Events');
    // The server node this appliance will be at Kaltura: shown, editable, defaulting to the machine's name.
    expect(await p.getByLabel('Server node name').inputValue()).toMatch(/^[A-Za-z0-9][A-Za-z0-9._-]*$/);
    expect(await result.getByRole('alert').count()).toBe(0);
  });

  test('wizard, standalone: ports and data directory fixed by flags are shown disabled, then saved', async ({
    appliance: a,
  }) => {
    const p = page();
    await p.getByLabel('Standalone', { exact: false }).check();
    // The partner id of local channels (the p of broadcast URLs): changing it restarts the core.
    await p.getByLabel('Partner id').fill('7');
    await p.getByRole('button', { name: 'Next' }).click();
    await visible(p.getByTestId('wizard-step').filter({ hasText: 'Ports' }), 'the ports step');
    expect(await p.getByLabel('RTMP port').isDisabled()).toBe(true);
    expect(await p.getByLabel('RTMP port').inputValue()).toBe(String(a.rtmpPort));
    expect(await p.getByTestId('fixed-reason').first().innerText()).toMatch(/Fixed by/);
    await p.getByRole('button', { name: 'Next' }).click();
    await visible(
      p.getByTestId('wizard-step').filter({ hasText: 'Data directory' }),
      'the data directory step',
    );
    expect(await p.getByLabel('Data directory').isDisabled()).toBe(true);
    await p.getByRole('button', { name: 'Next' }).click();
    await visible(
      p.getByTestId('wizard-step').filter({ hasText: 'Admin credentials' }),
      'the credentials step',
    );
    await p.getByRole('button', { name: 'Next' }).click();
    await visible(p.getByTestId('settings-summary'), 'the summary');
    const summary = await p.getByTestId('settings-summary').innerText();
    expect(summary).toContain('Mode: standalone');
    expect(summary).toContain('Partner id: 1 → 7');
    await p.getByRole('button', { name: 'Save settings' }).click();
    await visible(p.getByTestId('restarting-banner'), 'the restart progress');
    // The wizard ends on the appliance's three URLs, as it now runs, and the next thing to do.
    await visible(p.getByTestId('first-run-done'), 'the last screen of the wizard', 30_000);
    expect(await p.getByTestId('done-rtmp-url').inputValue()).toBe(`rtmp://127.0.0.1:${a.rtmpPort}/kLive`);
    expect(await p.getByTestId('done-origin-url').inputValue()).toBe(`http://127.0.0.1:${a.httpPort}/`);
    expect(await p.getByTestId('done-admin-url').inputValue()).toBe(`http://127.0.0.1:${a.adminPort}/`);
    await p.getByRole('button', { name: 'Create your first channel' }).click();
    await visible(
      p.getByRole('heading', { name: 'Channels', exact: true }),
      'the channels page after the restart',
      30_000,
    );
    await until(
      dash(),
      'the restart banner to go',
      async () => (await p.getByTestId('restarting-banner').count()) === 0,
    );
    const status = (await (await a.api('GET', '/api/v1/status')).json()) as {
      firstRun: boolean;
    };
    expect(status.firstRun).toBe(false);
  });

  test('creates a channel, which goes live on the list without a reload', async ({ publishForFile }) => {
    const p = page();
    await p.getByLabel('Channel name').fill(CHANNEL);
    await p.getByRole('button', { name: 'Create channel' }).click();
    // A new channel opens right after it is created: the encoder settings, as staff would read them off it.
    await visible(p.getByRole('heading', { name: CHANNEL, level: 1 }), 'the channel page');
    entryId = decodeURIComponent(new URL(p.url()).hash.replace('#/channels/', ''));
    expect(entryId).toMatch(/^\d_[a-z0-9]+$/);
    expect(await p.getByTestId('stream-key').inputValue()).toBe(`${entryId}_1`);
    // The token is masked until "Show"; the ffmpeg tab has one complete command.
    expect(await p.getByTestId('rtmp-server').inputValue()).toContain('t=••••••');
    await p.getByRole('tab', { name: 'Other encoders' }).click();
    const urlField = p.getByTestId('ffmpeg-url');
    expect(await urlField.inputValue()).toContain(`p=7&e=${entryId}`);
    await p.getByRole('tabpanel').getByRole('button', { name: 'Show' }).first().click();
    const ffmpegUrl = await urlField.inputValue();
    expect(ffmpegUrl).not.toContain('••••••');
    await p.getByRole('tab', { name: 'ffmpeg' }).click();
    expect(await p.getByTestId('ffmpeg-command').inputValue()).toMatch(/^ffmpeg -re -i .* -f flv "rtmp:\/\//);
    await p.getByRole('link', { name: 'Channels', exact: true }).first().click();
    await visible(rowBadge(), 'the channel list again');
    expect(await rowBadge().innerText()).toBe('idle');

    const reloads: string[] = [];
    p.on('framenavigated', (f) => {
      if (f === p.mainFrame()) reloads.push(f.url());
    });
    publishForFile(ffmpegUrl, { seconds: 40, size: '640x360' });
    await until(
      dash(),
      'the state badge "started" on the list',
      async () => (await rowBadge().innerText()) === 'started',
      30_000,
    );
    const row2 = p.locator(`[data-testid="channel-row"][data-entry-id="${entryId}"]`);
    await until(
      dash(),
      'a bitrate on the list',
      async () => /bit\/s/.test(await row2.getByTestId('bitrate').innerText()),
      20_000,
    );
    expect(await row2.locator('[data-role="primary"]').getAttribute('data-health')).toBe('feeding');
    expect(reloads.filter((u) => !u.includes('#'))).toEqual([]);
    await screenshot('channels');
  });

  test('plays the preview, moves the statistics and shows the archive on the timeline', async () => {
    const p = page();
    await p
      .getByTestId('channel-row')
      .filter({ hasText: CHANNEL })
      .getByRole('link', { name: CHANNEL })
      .click();
    await visible(p.getByRole('heading', { name: CHANNEL, level: 1 }), 'the channel page');
    expect(await pageBadge().innerText()).toBe('started');

    const video = p.getByTestId('preview-video');
    const time = () =>
      video.evaluate((v) => {
        const el = v as unknown as { currentTime: number; paused: boolean };
        return { t: el.currentTime, paused: el.paused };
      });
    const first = await until(
      dash(),
      'the preview to play',
      async () => {
        const s = await time();
        return !s.paused && s.t > 0 ? s : null;
      },
      40_000,
    );
    await until(dash(), 'the preview to advance by 2 s', async () => (await time()).t - first.t >= 2, 20_000);

    const chart = p.getByTestId('bitrate-chart');
    const samples = async () => Number(await chart.getAttribute('data-samples'));
    const bytes = async () =>
      Number(await p.getByTestId('rendition-bytes').first().getAttribute('data-bytes'));
    const s0 = await samples();
    const b0 = await until(dash(), 'a rendition row', async () => (await bytes()) || null, 15_000);
    await until(dash(), 'two more statistics samples', async () => (await samples()) >= s0 + 2, 15_000);
    await until(dash(), 'the bytes written to grow', async () => (await bytes()) > b0, 15_000);
    expect(await p.getByTestId('rendition-bitrate').first().innerText()).toMatch(/bit\/s/);
    expect(await chart.locator('canvas').count()).toBeGreaterThan(0);

    await until(dash(), 'a range on the archive timeline', async () => (await ranges().count()) > 0, 20_000);
    expect(await p.getByTestId('now-line').count()).toBe(1);
    expect(await p.getByTestId('dvr-window').count()).toBe(1);
    await screenshot('channel');
  });

  test('statistics read right: the input, one row per rendition, peak and unique viewers, the sample age; the preview is no viewer', async ({
    appliance: a,
  }) => {
    const p = page();
    const seen: string[] = [];
    const onRequest = (r: { url(): string }) => {
      if (r.url().includes(`/${entryId}/${entryId}.isml/`) && !r.url().includes('thumbnail.jpg'))
        seen.push(r.url());
    };
    p.on('request', onRequest);
    const input = p.getByTestId('stats-input');
    await visible(input, 'the input line');
    expect(await p.getByTestId('input-size').innerText()).toBe('640×360');
    expect(await p.getByTestId('input-fps').innerText()).toMatch(/^\d+(\.\d)? fps$/);
    expect(await p.getByTestId('input-uptime').innerText()).toMatch(/^\d+ (s|min \d+ s)$/);
    // One row per output rendition (a 640x360 ingest: the source and 360p; audio), each with its bitrate.
    const rows = p.getByTestId('output-row');
    await until(
      dash(),
      'a bitrate on every output row',
      async () => {
        const bitrates = await p.getByTestId('output-bitrate').allInnerTexts();
        return bitrates.length >= 3 && bitrates.every((b) => /bit\/s/.test(b));
      },
      15_000,
    );
    const renditions = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-rendition')));
    expect(renditions.slice(0, 2)).toEqual(['source', '360']);
    expect(await rows.nth(1).locator('th').innerText()).toBe('360p');
    // The chart's legend names them with their latest bitrate; the newest sample is seconds old.
    expect(await p.getByTestId('chart-legend').innerText()).toMatch(/source: [\d.]+ [kM]bit\/s/);
    expect(Number(await p.getByTestId('chart-age').getAttribute('data-age'))).toBeLessThanOrEqual(5);
    expect(await p.getByTestId('last-sample').innerText()).toMatch(/^\d+ s ago$/);
    // A transcoder faster than real time is catching up, not a fault.
    const speed = p.getByTestId('rendition-speed').first();
    const state = await speed.getAttribute('data-speed-state');
    if (state === 'catching-up') expect(await speed.innerText()).toContain('catching up');
    // The preview plays, and every request it makes says it is the preview: nobody watches.
    await p.waitForTimeout(2500);
    p.off('request', onRequest);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.filter((u) => !u.includes('ecdn_preview=1'))).toEqual([]);
    expect(await p.getByTestId('channel-viewers').innerText()).toBe('0');
    const v = (await (await a.api('GET', `/api/v1/channels/${entryId}/viewers`)).json()) as {
      viewers: number;
    };
    expect(v.viewers).toBe(0);
    expect(await p.getByTestId('peak-viewers').innerText()).toMatch(/^0/);
  });

  test('the channel list is an operations view: uptime, viewers, a health dot, Watch and Copy link; also on a phone', async ({
    appliance: a,
  }) => {
    const p = page();
    await p.getByRole('link', { name: 'Channels', exact: true }).first().click();
    const row = p.locator(`[data-testid="channel-row"][data-entry-id="${entryId}"]`);
    await visible(row, 'the channel row');
    expect(await row.getByTestId('uptime').innerText()).toMatch(/^\d+ (s|min \d+ s)$/);
    expect(['ok', 'warn']).toContain(await row.getByTestId('health-dot').getAttribute('data-health'));
    expect(await row.getByTestId('viewers').innerText()).toMatch(/^0/);
    expect(await row.getAttribute('data-blocked')).toBe('false');
    const watch = row.getByTestId('watch-channel');
    expect(await watch.getAttribute('href')).toBe(`${a.origin.replace(/\/$/, '')}/watch/${entryId}`);
    expect(await watch.getAttribute('target')).toBe('_blank');
    await row.getByTestId('copy-channel-link').click();
    await until(dash(), 'the copy note', async () => (await row.getByTestId('copy-note').innerText()) !== '');
    // At phone width each channel is a card: nothing wider than the screen, the actions still there.
    try {
      await phoneWidth(row);
    } finally {
      await p.setViewportSize({ width: 1280, height: 800 });
      await row.getByRole('link', { name: CHANNEL, exact: true }).click();
      await visible(p.getByRole('heading', { name: CHANNEL, level: 1 }), 'the channel page again');
    }
  });

  async function phoneWidth(row: Locator): Promise<void> {
    const p = page();
    const watch = row.getByTestId('watch-channel');
    await p.setViewportSize({ width: 390, height: 844 });
    await p.waitForTimeout(300);
    const overflow = await p.evaluate<number>(
      'document.documentElement.scrollWidth - document.documentElement.clientWidth',
    );
    const wide = await p.evaluate<string[]>(
      `[...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 8).map((e) => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))`,
    );
    expect(overflow, wide.join('\n')).toBeLessThanOrEqual(0);
    expect(await watch.isVisible()).toBe(true);
    expect(await row.getByTestId('health-dot').isVisible()).toBe(true);
    await p.screenshot({ path: path.join(SCREENSHOTS, 'channels-390x844.png'), fullPage: true });
  }

  test('shares the channel: the watch page with a QR code, and it plays for a viewer', async ({
    appliance: a,
  }) => {
    const p = page();
    const share = p.getByTestId('share-card');
    await visible(share.getByTestId('watch-qr'), 'the QR code');
    const watch = await share.getByLabel('Viewer page', { exact: true }).inputValue();
    expect(watch).toBe(`${a.origin.replace(/\/$/, '')}/watch/${entryId}`);
    expect(await share.getByLabel('Embed', { exact: true }).inputValue()).toContain(`/embed/${entryId}`);
    const r = await fetch(watch);
    expect(r.status).toBe(200);
    expect(await r.text()).toContain(CHANNEL);
  });

  test('adds a push target, shows its state live, refuses a bad URL, removes it after asking', async () => {
    const p = page();
    const panel = p.getByTestId('push-targets');
    await panel.getByLabel('Target URL (holds its stream key)').fill('http://not-a-push-target');
    await panel.getByRole('button', { name: 'Add target' }).click();
    await visible(panel.getByText(/not a push protocol/), 'the refusal');
    // Nobody listens there: the target retries on its own, with the reason, and the channel goes on.
    await panel.getByLabel('Target URL (holds its stream key)').fill('rtmp://127.0.0.1:9/live/dashboard-key');
    await panel.getByLabel('Name (optional)').fill('Nowhere');
    await panel.getByRole('button', { name: 'Add target' }).click();
    const row = panel.getByTestId('push-target');
    await visible(row, 'the target row');
    expect(await row.innerText()).toContain('rtmp://127.0.0.1:9/live/••••');
    expect(await row.innerText()).not.toContain('dashboard-key');
    await until(
      dash(),
      'the target to retry',
      async () => (await row.getAttribute('data-state')) === 'retrying',
      20_000,
    );
    expect(await pageBadge().innerText()).toBe('started');
    await panel.getByRole('button', { name: 'Remove target Nowhere' }).click();
    const dialog = p.getByRole('dialog');
    await visible(dialog, 'the remove confirmation');
    await dialog.getByRole('button', { name: 'Remove target' }).click();
    await until(dash(), 'the row to go', async () => (await row.count()) === 0, 10_000);
  });

  test('ends the event after asking (naming the viewers): the state becomes "stopped", Start comes back', async () => {
    const p = page();
    expect(await p.getByRole('button', { name: 'Start', exact: true }).count()).toBe(0);
    await p.getByRole('button', { name: 'End event…', exact: true }).click();
    const dialog = p.getByRole('dialog');
    await visible(dialog, 'the end confirmation');
    expect(await dialog.innerText()).toMatch(/\d+ viewers? (is|are) watching/);
    await dialog.getByRole('button', { name: 'End the event' }).click();
    await until(
      dash(),
      'the state badge "stopped"',
      async () => (await pageBadge().innerText()) === 'stopped',
      20_000,
    );
    await until(dash(), 'the refusal notice', async () =>
      (await p.getByTestId('accepting').innerText()).includes('refused until you press Start'),
    );
    await visible(p.getByRole('button', { name: 'Start', exact: true }), 'the Start button');
  });

  test('"Record this event" on the stopped channel needs no purge; a selected range downloads as MP4 and saves to the library', async () => {
    const p = page();
    const panel = p.getByTestId('archive-panel');
    const title = () => panel.getByRole('heading', { level: 2 }).innerText();
    await until(dash(), 'the archive after the stop', async () => (await ranges().count()) > 0, 10_000);
    // Nothing is recorded: only the DVR window is kept, so the panel is the timeline.
    expect(await title()).toBe('Timeline');
    const before = await p
      .getByTestId('archive-range')
      .evaluateAll((r) => r.map((e) => `${e.getAttribute('data-start')}-${e.getAttribute('data-end')}`));
    const sw = p.getByTestId('recording-switch').getByRole('switch', { name: 'Record this event' });
    expect(await sw.getAttribute('aria-checked')).toBe('false');
    await sw.click();
    await until(
      dash(),
      'the switch on',
      async () => (await sw.getAttribute('aria-checked')) === 'true',
      10_000,
    );
    // The other panels agree without a refresh; the archive was not purged.
    await until(dash(), 'the panel called "Archive"', async () => (await title()) === 'Archive', 10_000);
    await until(dash(), 'the options panel recording', async () =>
      p.getByTestId('recording-form').getByLabel('Record this event').isChecked(),
    );
    expect(
      await p
        .getByTestId('archive-range')
        .evaluateAll((r) => r.map((e) => `${e.getAttribute('data-start')}-${e.getAttribute('data-end')}`)),
    ).toEqual(before);

    // Select the middle of the first range, then download it and save it to the library.
    await p.getByTestId('archive-timeline').scrollIntoViewIfNeeded();
    const box = await ranges().first().boundingBox();
    if (!box) throw new Error('the range has no box');
    const y = box.y + box.height / 2;
    await p.mouse.move(box.x + box.width * 0.2, y);
    await p.mouse.down();
    await p.mouse.move(box.x + box.width * 0.5, y, { steps: 4 });
    await p.mouse.move(box.x + box.width * 0.8, y, { steps: 4 });
    await p.mouse.up();
    await visible(p.getByTestId('archive-selection'), 'the selection');
    const keep = p.getByTestId('range-export');
    const [download] = await Promise.all([
      p.waitForEvent('download', { timeout: 30_000 }),
      keep.getByRole('button', { name: 'Download MP4' }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(new RegExp(`^${entryId}_[\\dT-]+_[\\dT-]+\\.mp4$`));
    const file = await download.path();
    const probed = spawnSync(FFPROBE, [
      '-v',
      'error',
      '-show_entries',
      'format=duration',
      '-of',
      'csv=p=0',
      file,
    ]);
    expect(Number(String(probed.stdout))).toBeGreaterThan(1);
    await keep.getByRole('button', { name: 'Save to library' }).click();
    const saved = p.getByTestId('saved-to-library');
    await visible(saved, 'the range saved to the library', 30_000);
    await screenshot('channel-recording');
    expect(await saved.innerText()).toMatch(new RegExp(`Saved to Recordings as ${entryId}_[\\d_-]+\\.mp4`));
    await keep.getByRole('button', { name: 'Save to library' }).isEnabled();
    await p.getByRole('button', { name: 'Clear selection' }).click();
  });

  test('purges a range selected by dragging on the timeline, then keeps the last 0 minutes', async () => {
    const p = page();
    await until(dash(), 'the archive after the stop', async () => (await ranges().count()) > 0, 10_000);
    const before = await ranges().count();
    // Drag across the middle of the first track's range.
    await p.getByTestId('archive-timeline').scrollIntoViewIfNeeded();
    const box = await ranges().first().boundingBox();
    if (!box) throw new Error('the range has no box');
    const y = box.y + box.height / 2;
    await p.mouse.move(box.x + box.width * 0.35, y);
    await p.mouse.down();
    await p.mouse.move(box.x + box.width * 0.5, y, { steps: 4 });
    await p.mouse.move(box.x + box.width * 0.65, y, { steps: 4 });
    await p.mouse.up();
    await visible(p.getByTestId('archive-selection'), 'the selection');
    expect(await p.getByLabel('Selection start').inputValue()).not.toBe('');
    expect(await p.getByLabel('Selection end').inputValue()).not.toBe('');
    await p.getByRole('button', { name: 'Purge selection' }).click();
    const dialog = p.getByRole('dialog');
    await visible(dialog, 'the purge confirmation');
    await dialog.getByRole('button', { name: 'Purge now' }).click();
    await visible(
      p.getByTestId('purge-outcome').filter({ hasText: /Purged \d+ fragment/ }),
      'the purge outcome',
    );
    await until(
      dash(),
      'a gap in the archive',
      async () => (await p.getByTestId('archive-gap').count()) > 0,
      10_000,
    );
    expect(await ranges().count()).toBeGreaterThan(before);

    await p.getByLabel('Minutes to keep').fill('0');
    await p.getByRole('button', { name: 'Keep last' }).click();
    await visible(dialog, 'the keep-last confirmation');
    expect(await dialog.innerText()).toContain('whole archive');
    await dialog.getByRole('button', { name: 'Purge now' }).click();
    await until(dash(), 'the archive to be empty', async () => (await ranges().count()) === 0, 15_000);

    // The timeline by keyboard: + zooms (leaving "show all"), 0 shows everything again.
    const showAll = p.getByRole('button', { name: 'Show all' });
    await p.getByTestId('archive-timeline').focus();
    await p.keyboard.press('+');
    expect(await showAll.getAttribute('aria-pressed')).toBe('false');
    await p.keyboard.press('0');
    expect(await showAll.getAttribute('aria-pressed')).toBe('true');
  });

  test('restarts after asking, showing each step as it happens', async () => {
    const p = page();
    await p.getByRole('button', { name: 'Restart', exact: true }).click();
    const dialog = p.getByRole('dialog');
    await visible(dialog, 'the restart confirmation');
    expect(await dialog.innerText()).toContain('purge the archive completely');
    await dialog.getByRole('button', { name: 'Restart now' }).click();
    await visible(
      p.getByTestId('restart-result').filter({ hasText: 'restart complete' }),
      'the end of the restart',
    );
    // The steps so far, under the compact line's closed "Steps".
    const steps = await p.getByTestId('restart-step').allTextContents();
    expect(steps.map((s) => s.slice(0, 3))).toEqual(['1/5', '2/5', '3/5', '4/5', '5/5']);
    expect(steps[1]).toContain('purging the archive completely');
    expect(await p.getByRole('alert').count()).toBe(0);
    const codes = await p
      .getByTestId('channel-event')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-code')));
    expect(codes).toContain('RESTART_DONE');
    expect(codes).toContain('CHANNEL_STOPPED');
    // No encoder was live: the compact progress line clears itself a moment after success.
    await until(
      dash(),
      'the restart line to clear',
      async () => (await p.getByTestId('restart-steps').count()) === 0,
      10_000,
    );
  });
  test('makes the channel secure and a signed link bound to an address', async () => {
    const p = page();
    watchPreview(p);
    await p.getByLabel(/^Secure/).click();
    // Viewers counted in the last 30 s are cut by the switch: the page asks first; switch anyway.
    const cut = p.getByRole('dialog').getByRole('button', { name: 'Switch to secure now' });
    if (await cut.isVisible()) await cut.click();
    await until(
      dash(),
      'the channel to be secure',
      async () => (await p.getByTestId('channel-header').innerText()).includes('· secure ·'),
      10_000,
    );
    await p.getByLabel('Expires in (hours)').fill('2');
    await p.getByLabel('IP address or range (optional)').fill('127.0.0.1');
    await p.getByRole('button', { name: 'Make signed link' }).click();
    const link = p.getByTestId('signed-link');
    await visible(link, 'the signed link');
    const url = await link.getByLabel('Signed HLS link', { exact: true }).inputValue();
    expect(url).toContain(`/${entryId}/${entryId}.isml/.m3u8?`);
    expect(await link.innerText()).toContain('only from 127.0.0.1');
    const codes = await p
      .getByTestId('channel-event')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-code')));
    expect(codes).toContain('ACCESS_CHANGED');
    // The preview asks for a signed URL of its own once the channel is secure.
    await until(dash(), 'a signed preview request', async () =>
      previewRequests().some((u) => u.includes('.m3u8?')),
    );
  });

  test('revokes every signed link after asking: the old link is refused, the preview signs again', async () => {
    const p = page();
    const url = await p
      .getByTestId('signed-link')
      .getByLabel('Signed HLS link', { exact: true })
      .inputValue();
    // The channel is not live now (its master may be a 404), but the link is accepted.
    const before = await fetch(url);
    expect(before.status).not.toBe(403);
    expect(before.headers.get('x-ecdn-denied')).toBeNull();
    const signings = previewRequests().length;
    await p.getByRole('button', { name: 'Revoke all signed links' }).click();
    const dialog = p.getByRole('dialog');
    await visible(dialog, 'the revoke confirmation');
    expect(await dialog.innerText()).toContain('lose the stream at their next request');
    await dialog.getByRole('button', { name: 'Revoke all links' }).click();
    await visible(p.getByText('Every earlier signed link was revoked.'), 'the revocation said');
    const r = await fetch(url);
    expect(r.status).toBe(403);
    expect(r.headers.get('x-ecdn-denied')).toBe('revoked');
    await until(dash(), 'the preview to sign again', async () => previewRequests().length > signings);
  });

  test('a new channel recorded from the start opens at once: encoder set-up first, empty panels hidden, token regenerated', async ({
    appliance: a,
  }) => {
    const p = page();
    await p.getByRole('link', { name: 'Channels', exact: true }).first().click();
    await p.getByLabel('Channel name').fill('Rehearsal');
    await p.getByLabel('Record this event').check();
    await p.getByLabel('DVR window (minutes)').fill('3');
    await p.getByLabel('Keep recordings (days)').fill('7');
    await p.getByRole('button', { name: 'Create channel' }).click();
    await visible(p.getByRole('heading', { name: 'Rehearsal', level: 1 }), 'the new channel, opened');
    const id = decodeURIComponent(new URL(p.url()).hash.replace('#/channels/', ''));

    // Idle: the encoder set-up comes first; preview, statistics and the (empty) timeline are hidden.
    const headings = await p
      .locator('main section.card > h2')
      .evaluateAll((hs) =>
        hs
          .filter((h) => (h as unknown as { offsetParent: unknown }).offsetParent !== null)
          .map((h) => h.textContent),
      );
    expect(headings[0]).toBe('Encoder');
    expect(headings).not.toContain('Preview');
    expect(headings).not.toContain('Statistics');
    expect(headings).not.toContain('Timeline');
    expect(await p.getByTestId('live-panels').isVisible()).toBe(false);
    await screenshot('channel-setup');
    // Recording is on, in the header and in the options (the raw options under "Advanced").
    const sw = p.getByTestId('recording-switch').getByRole('switch', { name: 'Record this event' });
    await until(dash(), 'the switch on', async () => (await sw.getAttribute('aria-checked')) === 'true');
    expect(await p.getByTestId('recording-summary').innerText()).toBe('DVR 3 min · kept 7 days');
    expect(await p.getByTestId('pp-advanced').getAttribute('open')).toBeNull();
    const pp = (await (await a.api('GET', `/api/v1/channels/${id}/publishing-point`)).json()) as {
      options: Record<string, string>;
    };
    expect(pp.options).toMatchObject({
      archiving: 'true',
      dvr_window_length: '180',
      archive_length: '604800',
    });

    // OBS: Server and Stream key; the long server URL shows the part that tells it from the backup, token masked.
    const server = p.getByTestId('rtmp-server');
    const old = await a
      .api('GET', `/api/v1/channels/${id}`)
      .then(async (r) => ((await r.json()) as { token: string }).token);
    expect(await server.inputValue()).not.toContain(old);
    expect(await p.getByTestId('rtmp-server-part').locator('.url-tail').innerText()).toBe('&i=0&t=••••••');
    await p.getByTestId('rtmp-server').locator('..').getByRole('button', { name: 'Show' }).click();
    expect(await server.inputValue()).toContain(`t=${old}`);
    // The other tab: one URL.
    await p.getByRole('tab', { name: 'Other encoders' }).click();
    expect(await p.getByRole('tabpanel').locator('input:visible').count()).toBe(1);
    await p.getByRole('tab', { name: 'OBS' }).click();

    // "Regenerate token", after asking: every field has the new one, without a reload.
    await p.getByRole('button', { name: 'Regenerate token' }).click();
    await p.getByRole('dialog').getByRole('button', { name: 'Make a new token' }).click();
    await visible(p.getByTestId('token-regenerated'), 'the new token said');
    const fresh = await a
      .api('GET', `/api/v1/channels/${id}`)
      .then(async (r) => ((await r.json()) as { token: string }).token);
    expect(fresh).not.toBe(old);
    await until(dash(), 'the new token in the server field', async () =>
      (await server.inputValue()).includes(`t=${fresh}`),
    );
    await p.getByRole('link', { name: 'Channels', exact: true }).first().click();
    const row = p.getByTestId('channel-row').filter({ hasText: 'Rehearsal' });
    await visible(row, 'the channel list');
    // The rehearsal is over: the list is as the next steps expect it.
    expect((await a.api('DELETE', `/api/v1/channels/${id}`)).status).toBe(200);
    await until(dash(), 'the rehearsal row to go', async () => (await row.count()) === 0, 10_000);
  });

  test('deletes the channel from the list after asking', async ({ appliance: a }) => {
    const p = page();
    await p.getByRole('link', { name: 'Channels', exact: true }).first().click();
    await visible(rowBadge(), 'the channel list');
    // Delete lives in the row's "More actions" menu.
    expect(await p.getByRole('menuitem', { name: `Delete channel ${CHANNEL}` }).count()).toBe(0);
    await p.getByRole('button', { name: `More actions for ${CHANNEL}` }).click();
    await p.getByRole('menuitem', { name: `Delete channel ${CHANNEL}` }).click();
    const dialog = p.getByRole('dialog');
    await visible(dialog, 'the delete confirmation');
    await dialog.getByRole('button', { name: 'Delete now' }).click();
    await until(
      dash(),
      'the row to go',
      async () => (await p.getByTestId('channel-row').count()) === 0,
      15_000,
    );
    await visible(p.getByText('No channels yet.'), 'the empty list');
    expect((await a.api('GET', `/api/v1/channels/${entryId}`)).status).toBe(404);
  });
  test('shows the saved settings, with those fixed by flags disabled and why', async () => {
    const p = page();
    await p.getByRole('link', { name: 'Settings', exact: true }).click();
    await visible(p.getByRole('heading', { name: 'Settings', level: 1 }), 'the settings page');
    expect(await p.getByLabel(/^Standalone/).isChecked()).toBe(true);
    expect(await p.getByLabel('Partner id').inputValue()).toBe('7');
    expect(await p.getByLabel('Admin port').isDisabled()).toBe(true);
    expect(await p.getByLabel('New admin token', { exact: true }).isDisabled()).toBe(true);
    expect(await p.getByTestId('fixed-reason').count()).toBeGreaterThanOrEqual(5);
    expect(await p.getByTestId('settings-summary').innerText()).toContain('Mode: standalone (unchanged)');
  });

  test('lists a publish that matched no channel under "Refused publishes", live, with what to do', async ({
    appliance: a,
    publish,
  }) => {
    const p = page();
    await p.getByRole('link', { name: 'Channels', exact: true }).first().click();
    const broadcast = `rtmp://127.0.0.1:${a.rtmpPort}/kLive/?p=7&e=0_nowhere0&i=0&t=whatever`;
    // The broadcast URL alone, without "/<entry>_1": the most common mistake.
    await publish(broadcast, { seconds: 2 }).done;
    const row = p.getByTestId('refused-publish').filter({ hasText: 'MISSING_STREAM_NAME' });
    await visible(row, 'the refused publish');
    expect(await row.innerText()).toContain('Stream Key');
  });

  test("follows the system's dark mode", async () => {
    const p = page();
    const background = () => p.evaluate<string>('getComputedStyle(document.documentElement).backgroundColor');
    expect(await background()).toBe('rgb(244, 246, 249)');
    await p.emulateMedia({ colorScheme: 'dark' });
    expect(await background()).toBe('rgb(17, 19, 24)');
    await p.screenshot({ path: path.join(SCREENSHOTS, 'dark-1280x800.png') });
    await p.emulateMedia({ colorScheme: 'light' });
  });

  test('the preview pauses over its last frame when the encoder stops, and plays again by itself; a refused publish marks the row', async ({
    appliance: a,
    publish,
  }) => {
    const p = page();
    const c = await createChannel(a, 'Preview comeback');
    publish(ffmpegUrl(c.broadcastUrl, c.streamName), { seconds: 8, gop: 30 });
    await p.evaluate(`window.location.hash = '#/channels/${c.entryId}'`);
    await visible(p.getByRole('heading', { name: 'Preview comeback', level: 1 }), 'the second channel page');
    const video = p.getByTestId('preview-video');
    const state = () =>
      video.evaluate((v) => {
        const el = v as unknown as { currentTime: number; paused: boolean };
        return { t: el.currentTime, paused: el.paused };
      });
    await until(dash(), 'the preview to play', async () => (await state()).t > 1, 40_000);
    const paused = p.getByTestId('preview-paused');
    await visible(paused, 'the paused notice', 40_000);
    expect(await paused.innerText()).toBe('Paused — it will continue here automatically');
    // The last frame stays: the video keeps its picture.
    expect(await video.evaluate((v) => (v as unknown as { videoWidth: number }).videoWidth)).toBeGreaterThan(
      0,
    );
    const at = (await state()).t;
    publish(ffmpegUrl(c.broadcastUrl, c.streamName), { seconds: 20, gop: 30 });
    await until(dash(), 'the notice to go', async () => (await paused.count()) === 0, 40_000);
    await until(
      dash(),
      'the preview to play again by itself',
      async () => {
        const s = await state();
        return !s.paused && s.t > 0 && s.t !== at ? s : null;
      },
      40_000,
    );
    // A publish with a wrong token is refused and the entry blocked: the channel list marks the row.
    await publish(ffmpegUrl(c.broadcastUrl.replace(/t=[^&]+/, 't=wrongtoken0'), c.streamName), {
      seconds: 2,
    }).done.catch(() => undefined);
    // The channel page says so under its header, with the fix in plain words.
    const last = p.getByTestId('last-publish');
    await until(
      dash(),
      'the refused publish under the header',
      async () => (await last.getAttribute('data-accepted')) === 'false',
      15_000,
    );
    expect(await last.innerText()).toMatch(
      /Last publish refused \(RTMP from 127\.0\.0\.1, .*\): Invalid token/,
    );
    expect(await p.getByTestId('last-publish-fix').innerText()).toMatch(
      /^Wrong token: compare .* Server field/,
    );
    await p.getByRole('link', { name: 'Channels', exact: true }).first().click();
    const row = p.locator(`[data-testid="channel-row"][data-entry-id="${c.entryId}"]`);
    await until(
      dash(),
      'the refused mark on the row',
      async () => (await row.getAttribute('data-blocked')) === 'true',
      15_000,
    );
    expect(await row.getByTestId('row-refused').innerText()).toMatch(
      /Publish refused: .+ blocked \d+ s more/,
    );
    expect((await a.api('DELETE', `/api/v1/channels/${c.entryId}`)).status).toBeLessThan(300);
  });

  test('shows where viewers go, and signs out: the token is forgotten, the login screen is back', async ({
    appliance: a,
  }) => {
    const p = page();
    expect(await p.getByTestId('portal-address').getAttribute('href')).toBe(
      `${a.origin.replace(/\/$/, '')}/`,
    );
    await p.getByRole('button', { name: 'Sign out' }).click();
    await visible(p.getByLabel('Admin token', { exact: true }), 'the login screen');
    expect(await p.getByText('Signed out.').count()).toBe(1);
    expect(await p.evaluate<string | null>("sessionStorage.getItem('ecdn.adminToken')")).toBeNull();
  });
});
