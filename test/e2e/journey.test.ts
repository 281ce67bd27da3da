/**
 * The event day end to end as one story (issue #16 item 11), on one fresh appliance, in Debian's Chromium with real
 * ffmpeg: sign in and walk the first-run wizard (standalone) to its last screen; create the first channel, which
 * opens on its encoder set-up, and switch "Record this event" on while it is idle; a publish with a wrong token,
 * seen in the channel's header with the fix, and "Allow now"; the right publish, read off the encoder panel, going
 * live without a reload; the share card's watch page opened by a viewer in a second page, where it plays; the
 * encoder killed (the viewer page says "Paused", no slate: the appliance runs with ECDN_SLATE_DURATION=0, the
 * slate has its own test in slate.test.ts) and published again (the viewer page plays again by itself, with no
 * navigation); a range of the archive downloaded as MP4 (ffprobe); a setting that needs a restart saved while
 * live, asked first, applied later, the channel still live. Each step leaves a screenshot in
 * test-artifacts/journey/.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { ROOT, waitFor, type ChannelJson, type RunningAppliance } from '../helpers/appliance.js';
import {
  ensureDashboardBuilt,
  openDashboard,
  until,
  visibleOrShot,
  type DashboardPage,
} from '../helpers/dashboard.js';
import { FFPROBE, ffmpegUrl, publish as publishOnce, type Publisher } from '../helpers/encoder.js';
import { test, describe, expect } from '../helpers/fixtures.js';

const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'journey');
const CHANNEL = 'Quarterly all-hands';
/**
 * Small and cheap to encode on a shared 2-core machine: 320x180 is the source only (taller renditions are
 * dropped); 1 s key frames for 1 s fragments, so players start and resume sooner. Long enough for the whole
 * story; the file's cleanup stops it.
 */
const ENCODER = { seconds: 300, size: '320x180', rate: 15, gop: 15 } as const;

test.override('applianceOptions', async () => {
  // The admin listener serves renderer/dist as it finds it at start: build first.
  await ensureDashboardBuilt();
  // This run's artifacts only.
  fs.rmSync(ARTIFACTS, { recursive: true, force: true });
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  return { extraArgs: ['--fragment-duration', '1'] };
});

/** What the steps share: the dashboard page, the viewer's page, the channel and its encoder. */
let d: DashboardPage | undefined;
let viewer: Page | undefined;
const viewerLog: string[] = [];
let viewerNavigations: string[] = [];
let entryId = '';
let publishUrl = '';
let encoder: Publisher | undefined;

const dash = (): DashboardPage => d as DashboardPage;
const page = (): Page => dash().page;
const watcher = (): Page => viewer as Page;

/** Saves the dashboard (and the viewer's page: `withViewer`) as `<name>.png`, named after its step. */
async function screenshot(name: string, withViewer = false): Promise<void> {
  await page().screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
  if (withViewer && viewer)
    await viewer.screenshot({ path: path.join(ARTIFACTS, `${name}-viewer.png`), fullPage: true });
}

const visible = (l: Locator, what: string, timeoutMs?: number): Promise<void> =>
  visibleOrShot(dash(), l, what, ARTIFACTS, timeoutMs);

const headerBadge = () => page().getByTestId('channel-header').getByTestId('state-badge');

/** The viewer page's player as a viewer sees it: the video and the status line over it. */
interface Playback {
  currentTime: number;
  paused: boolean;
  videoHeight: number;
  status: string;
  badge: string;
}
const playback = (): Promise<Playback> =>
  watcher().evaluate<Playback>(`(() => {
    const v = document.querySelector('video');
    const s = document.getElementById('player-status');
    const b = document.querySelector('[data-live-badge]');
    return {
      currentTime: v ? v.currentTime : -1,
      paused: v ? v.paused : true,
      videoHeight: v ? v.videoHeight : 0,
      status: s ? s.textContent : '',
      badge: b ? b.textContent : '',
    };
  })()`);

/** `waitFor` on the viewer's page, with its state and log on timeout. */
async function untilViewer<T>(
  what: string,
  fn: (s: Playback) => T | undefined | null | false,
  timeoutMs = 40_000,
): Promise<T> {
  try {
    return await waitFor(what, async () => fn(await playback()), timeoutMs);
  } catch (err) {
    const s = await playback().catch(() => undefined);
    throw new Error(`${(err as Error).message}\n${JSON.stringify(s)}\nviewer log:\n${viewerLog.join('\n')}`);
  }
}

/** The channel as the control API has it now. */
async function channelView(
  a: RunningAppliance,
): Promise<ChannelJson & { ingests: unknown[]; blocks: unknown[] }> {
  return (await (await a.api('GET', `/api/v1/channels/${entryId}`)).json()) as ChannelJson & {
    ingests: unknown[];
    blocks: unknown[];
  };
}

describe('the event day, end to end', () => {
  test('1. first run: sign in, the wizard (standalone), its last screen with the URLs', async ({
    appliance: a,
    browser,
  }) => {
    d = await openDashboard(browser, `${a.admin}/`);
    const p = page();
    const token = p.getByLabel('Admin token', { exact: true });
    await visible(token, 'the sign-in screen');
    await token.fill(a.token);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await visible(p.getByRole('heading', { name: 'First-run setup' }), 'the first-run wizard');
    await screenshot('1a-wizard');

    await p.getByLabel('Standalone', { exact: false }).check();
    await p.getByRole('button', { name: 'Next' }).click();
    await visible(p.getByTestId('wizard-step').filter({ hasText: 'Ports and address' }), 'the address step');
    expect(await p.getByTestId('url-preview').innerText()).toContain(`rtmp://127.0.0.1:${a.rtmpPort}/kLive`);
    await p.getByRole('button', { name: 'Next' }).click();
    await visible(p.getByTestId('wizard-step').filter({ hasText: 'Data directory' }), 'the data step');
    await p.getByRole('button', { name: 'Next' }).click();
    await visible(p.getByTestId('wizard-step').filter({ hasText: 'Admin credentials' }), 'the token step');
    await p.getByRole('button', { name: 'Next' }).click();
    await visible(p.getByTestId('settings-summary'), 'the summary');
    expect(await p.getByTestId('settings-summary').innerText()).toContain('Mode: standalone');
    await p.getByRole('button', { name: 'Save settings' }).click();

    await visible(p.getByTestId('first-run-done'), 'the last screen of the wizard', 30_000);
    expect(await p.getByTestId('done-rtmp-url').inputValue()).toBe(`rtmp://127.0.0.1:${a.rtmpPort}/kLive`);
    expect(await p.getByTestId('done-origin-url').inputValue()).toBe(`http://127.0.0.1:${a.httpPort}/`);
    expect(await p.getByTestId('done-admin-url').inputValue()).toBe(`http://127.0.0.1:${a.adminPort}/`);
    await screenshot('1b-wizard-done');
    const status = (await (await a.api('GET', '/api/v1/status')).json()) as { firstRun: boolean };
    expect(status.firstRun).toBe(false);
  });

  test('2. the first channel opens at once on its encoder set-up; "Record this event" switched on while idle', async ({
    appliance: a,
  }) => {
    const p = page();
    await p.getByRole('button', { name: 'Create your first channel' }).click();
    await visible(p.getByLabel('Channel name'), 'the new channel form', 30_000);
    await p.getByLabel('Channel name').fill(CHANNEL);
    await p.getByRole('button', { name: 'Create channel' }).click();
    await visible(p.getByRole('heading', { name: CHANNEL, level: 1 }), 'the new channel, opened');
    entryId = decodeURIComponent(new URL(p.url()).hash.replace('#/channels/', ''));
    expect(entryId).toMatch(/^\d_[a-z0-9]+$/);
    expect(await headerBadge().innerText()).toBe('idle');

    // Idle and never live: the encoder set-up comes first, the panels that would be empty are hidden.
    const headings = await p
      .locator('main section.card > h2')
      .evaluateAll((hs) =>
        hs
          .filter((h) => (h as unknown as { offsetParent: unknown }).offsetParent !== null)
          .map((h) => h.textContent),
      );
    expect(headings[0]).toBe('Encoder');
    expect(headings).not.toContain('Preview');
    expect(await p.getByTestId('live-panels').isVisible()).toBe(false);
    expect(await p.getByTestId('stream-key').inputValue()).toBe(`${entryId}_1`);
    expect(await p.getByTestId('rtmp-server').inputValue()).toContain('t=••••••');

    // Recording on while idle: one click, no purge asked.
    const sw = p.getByTestId('recording-switch').getByRole('switch', { name: 'Record this event' });
    await until(dash(), 'the switch to be usable', async () => sw.isEnabled());
    expect(await sw.getAttribute('aria-checked')).toBe('false');
    await sw.click();
    await until(dash(), 'the switch on', async () => (await sw.getAttribute('aria-checked')) === 'true');
    expect(await p.getByRole('dialog').count()).toBe(0);
    expect(await p.getByTestId('recording-summary').innerText()).toMatch(/^DVR .* min · kept /);
    const pp = (await (await a.api('GET', `/api/v1/channels/${entryId}/publishing-point`)).json()) as {
      options: Record<string, string>;
    };
    expect(pp.options.archiving).toBe('true');
    await screenshot('2-channel-setup-recording');
  });

  test('3. a publish with a wrong token: refused in the header with the fix; "Allow now" clears the block', async ({
    appliance: a,
  }) => {
    const p = page();
    const c = await channelView(a);
    const wrong = ffmpegUrl(c.broadcastUrl.replace(/t=[^&]+/, 't=not-the-token-0'), c.streamName);
    const refused = publishOnce(wrong, { ...ENCODER, seconds: 4 });
    const timer = setTimeout(() => refused.proc.kill('SIGKILL'), 15_000);
    const r = await refused.done;
    clearTimeout(timer);
    expect(r.code, r.stderr).not.toBe(0);

    const last = p.getByTestId('last-publish');
    await until(
      dash(),
      'the refused publish under the header',
      async () => (await last.getAttribute('data-accepted')) === 'false',
      15_000,
    );
    expect(await last.innerText()).toMatch(/Last publish refused \(RTMP from 127\.0\.0\.1, .*\): /);
    expect(await p.getByTestId('last-publish-fix').innerText()).toMatch(
      /^Wrong token: compare .* Server field/,
    );
    const blocks = p.getByTestId('publish-blocks');
    await visible(blocks, 'the block with "Allow now"');
    expect(await blocks.innerText()).toMatch(/Publishes from 127\.0\.0\.1 are refused for \d+ s more/);
    expect(await headerBadge().innerText()).toBe('idle');
    await screenshot('3-publish-refused');

    await blocks.getByRole('button', { name: 'Allow now' }).click();
    await until(dash(), 'the block to go', async () => (await blocks.count()) === 0, 10_000);
    expect((await channelView(a)).blocks).toEqual([]);
  });

  test('4. the right publish, with the URL from the encoder panel: live without a reload', async ({
    publishForFile,
  }) => {
    const p = page();
    const navigations: string[] = [];
    const onNavigated = (f: { url(): string }) => {
      if (f === p.mainFrame()) navigations.push(f.url());
    };
    p.on('framenavigated', onNavigated);
    // "Other encoders": one URL, its token masked until "Show".
    await p.getByRole('tab', { name: 'Other encoders' }).click();
    const urlField = p.getByTestId('ffmpeg-url');
    expect(await urlField.inputValue()).toContain('t=••••••');
    await p.getByRole('tabpanel').getByRole('button', { name: 'Show' }).first().click();
    publishUrl = await urlField.inputValue();
    expect(publishUrl).not.toContain('••••••');
    expect(publishUrl).toMatch(new RegExp(`^rtmp://127\\.0\\.0\\.1:\\d+/kLive/\\?.*/${entryId}_1$`));

    encoder = publishForFile(publishUrl, ENCODER);
    await until(
      dash(),
      'the state badge "started" in the header',
      async () => (await headerBadge().innerText()) === 'started',
      30_000,
    );
    await until(
      dash(),
      'the accepted publish under the header',
      async () => (await p.getByTestId('last-publish').getAttribute('data-accepted')) === 'true',
    );
    p.off('framenavigated', onNavigated);
    // Only hash routes inside the page: no reload.
    expect(navigations.filter((u) => !u.includes('#'))).toEqual([]);
    await visible(p.getByTestId('live-panels'), 'the preview and statistics');
    await screenshot('4-live');
  });

  test('5. "Share with viewers": the watch page, opened by a viewer in a second page, plays', async ({
    appliance: a,
    browser,
  }) => {
    const share = page().getByTestId('share-card');
    await visible(share, 'the share card');
    const watch = await share.getByLabel('Viewer page', { exact: true }).inputValue();
    expect(watch).toBe(`${a.origin}/watch/${entryId}`);

    viewer = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    viewer.on('console', (m) => viewerLog.push(`console.${m.type()}: ${m.text()}`));
    viewer.on('pageerror', (err) => viewerLog.push(`pageerror: ${err.message}`));
    viewer.on('requestfailed', (r) => viewerLog.push(`requestfailed: ${r.url()} ${r.failure()?.errorText}`));
    const res = await watcher().goto(watch);
    expect(res?.status()).toBe(200);
    expect(await watcher().locator('h1').textContent()).toContain(CHANNEL);
    viewerNavigations = [];
    watcher().on('framenavigated', (f) => {
      if (f === watcher().mainFrame()) viewerNavigations.push(f.url());
    });
    const first = await untilViewer('the watch page to play', (s) =>
      !s.paused && s.currentTime > 0 ? s : null,
    );
    await untilViewer('2 s of playback', (s) => s.currentTime - first.currentTime >= 2);
    const s = await playback();
    expect(s.videoHeight).toBe(180);
    expect(s.badge).toBe('Live');
    await screenshot('5-viewer-playing', true);
  });

  test('6. the encoder killed: the viewer page says "Paused"; published again, it plays again by itself', async ({
    publishForFile,
  }) => {
    // A mark a reload would wipe: the page must recover without one.
    await watcher().evaluate('window.__sameDocument = true');
    const killed = encoder as Publisher;
    killed.proc.kill('SIGKILL');
    await killed.done;
    // No slate here (ECDN_SLATE_DURATION=0): the presentation ends, and the page says what happens next.
    await untilViewer('the paused notice', (s) =>
      s.status.startsWith('Paused — it will continue here automatically'),
    );
    const pausedAt = await playback();
    expect(pausedAt.badge).toBe('Paused');
    expect(pausedAt.videoHeight).toBeGreaterThan(0);
    await screenshot('6a-encoder-gone', true);

    encoder = publishForFile(publishUrl, ENCODER);
    await untilViewer(
      'playback to resume by itself',
      (s) => !s.paused && s.currentTime > pausedAt.currentTime + 1 && s.status === '',
    );
    expect((await playback()).badge).toBe('Live');
    // Nobody reloaded the viewer's page: it went on where it was.
    expect(viewerNavigations).toEqual([]);
    expect(await watcher().evaluate('window.__sameDocument === true')).toBe(true);
    await until(
      dash(),
      'the dashboard to show the channel started again',
      async () => (await headerBadge().innerText()) === 'started',
      30_000,
    );
    await screenshot('6b-encoder-back', true);
  });

  test('7. the archive: a selected range downloads as an MP4 that ffprobe reads (> 2 s)', async () => {
    const p = page();
    const panel = p.getByTestId('archive-panel');
    const ranges = p.getByTestId('archive-range');
    await until(dash(), 'a range on the archive', async () => (await ranges.count()) > 0, 20_000);
    // Recording since step 2: the panel is the archive, not only the DVR window's timeline.
    expect(await panel.getByRole('heading', { level: 2 }).innerText()).toBe('Archive');
    // The first run of the encoder (before it was killed): a closed range of several seconds.
    const longest = await until(
      dash(),
      'a range of 6 s or more',
      async () => {
        const spans = await ranges.evaluateAll((rs) =>
          rs.map(
            (r) =>
              Date.parse(r.getAttribute('data-end') ?? '') - Date.parse(r.getAttribute('data-start') ?? ''),
          ),
        );
        const i = spans.findIndex((s) => s >= 6_000);
        return i >= 0 ? { i } : null;
      },
      20_000,
    );
    await p.getByTestId('archive-timeline').scrollIntoViewIfNeeded();
    const box = await ranges.nth(longest.i).boundingBox();
    if (!box) throw new Error('the range has no box');
    const y = box.y + box.height / 2;
    await p.mouse.move(box.x + box.width * 0.1, y);
    await p.mouse.down();
    await p.mouse.move(box.x + box.width * 0.5, y, { steps: 4 });
    await p.mouse.move(box.x + box.width * 0.9, y, { steps: 4 });
    await p.mouse.up();
    await visible(p.getByTestId('archive-selection'), 'the selection');
    expect(await p.getByTestId('selection-length').innerText()).toMatch(/selected$/);

    const keep = p.getByTestId('range-export');
    const [download] = await Promise.all([
      p.waitForEvent('download', { timeout: 30_000 }),
      keep.getByRole('button', { name: 'Download MP4' }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(new RegExp(`^${entryId}_[\\dT-]+_[\\dT-]+\\.mp4$`));
    const file = await download.path();
    const kept = path.join(ARTIFACTS, download.suggestedFilename());
    fs.copyFileSync(file, kept);
    const probed = spawnSync(
      FFPROBE,
      ['-v', 'error', '-show_entries', 'format=duration:stream=codec_type', '-of', 'json', kept],
      { encoding: 'utf8' },
    );
    expect(probed.status, probed.stderr).toBe(0);
    const info = JSON.parse(probed.stdout) as {
      format: { duration?: string };
      streams: Array<{ codec_type: string }>;
    };
    expect(Number(info.format.duration)).toBeGreaterThan(2);
    expect(info.streams.map((s) => s.codec_type).sort()).toEqual(['audio', 'video']);
    await screenshot('7-range-downloaded');
    await p.getByRole('button', { name: 'Clear selection' }).click();
  });

  test('8. a setting that needs a restart, saved while live: asked first (channels, viewers); applied later, still live', async ({
    appliance: a,
  }) => {
    const p = page();
    await p.getByRole('link', { name: 'Settings', exact: true }).click();
    await visible(p.getByRole('heading', { name: 'Settings', level: 1 }), 'the settings page');
    // The ports are fixed by the appliance's flags here (shown disabled): the partner id of local channels
    // also needs a restart.
    expect(await p.getByLabel('RTMP port').isDisabled()).toBe(true);
    await p.getByLabel('Partner id').fill('9');
    expect(await p.getByTestId('restart-needed').innerText()).toContain('restarts the appliance');
    await p.getByRole('button', { name: 'Save settings' }).click();
    const dialog = p.getByRole('dialog');
    await visible(dialog.getByTestId('live-refusal'), 'the question');
    expect(await dialog.getByTestId('live-refusal').innerText()).toMatch(
      // The viewer of step 5 (the dashboard's preview is no viewer).
      new RegExp(`1 channel is live \\(“${CHANNEL}”\\) with 1 viewer\\b`),
    );
    expect(await dialog.getByRole('button', { name: 'Interrupt and save' }).isVisible()).toBe(true);
    await screenshot('8a-settings-live-warning');
    await dialog.getByRole('button', { name: 'Save, apply later' }).click();
    await visible(
      p.getByTestId('settings-note').filter({ hasText: 'next time the appliance restarts' }),
      'saved for later',
    );
    expect(await p.getByTestId('restarting-banner').count()).toBe(0);

    // The channel stayed live: the encoder still feeds it, and the viewer still plays.
    const c = await channelView(a);
    expect(c.state).toBe('started');
    expect(c.ingests.length).toBeGreaterThan(0);
    const before = (await playback()).currentTime;
    await untilViewer('the viewer to go on playing', (s) => !s.paused && s.currentTime > before + 1, 15_000);
    await p.getByRole('link', { name: 'Channels', exact: true }).first().click();
    const row = p.locator(`[data-testid="channel-row"][data-entry-id="${entryId}"]`);
    await visible(row, 'the channel list');
    expect(await row.getByTestId('state-badge').innerText()).toBe('started');
    await screenshot('8b-still-live', true);
  });
});
