/**
 * Event-day safety in the dashboard (issue #16, items 2, 5 and 8), in Debian's Chromium against the real headless
 * appliance while ffmpeg publishes: the first-run wizard checking each step on Next and ending on the three URLs;
 * saving settings that need a restart while a channel is live (asked, with the channels and viewers; saved for
 * later, or interrupted with each channel's events saying why); the admin token and webhook URLs applied without
 * a restart (the session goes on, the old token stops working, the token file follows); making a watched channel
 * secure, deleting a live channel, and restarting a live channel, each guarded.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Locator } from 'playwright-core';
import { createChannel, type ChannelJson } from '../helpers/appliance.js';
import { ensureDashboardBuilt, openDashboard, until, type DashboardPage } from '../helpers/dashboard.js';
import { ffmpegUrl, type PublishOptions } from '../helpers/encoder.js';
import { test, describe, expect } from '../helpers/fixtures.js';

const WEBHOOK_SECRET = 'event-day-webhook-secret-0123';
const NEW_TOKEN = 'a-new-admin-token-for-event-day';
/** Small and short to encode: the source only (renditions taller than it are dropped). */
const ENCODER: PublishOptions = { seconds: 120, size: '320x180', rate: 15 };

test.override('applianceOptions', async () => {
  await ensureDashboardBuilt();
  // No --admin-token: the token is generated into the data directory's admin-token file.
  return { token: null, env: { ECDN_WEBHOOK_SECRET: WEBHOOK_SECRET } };
});

let d: DashboardPage | undefined;
let channel: ChannelJson | undefined;
let token = '';
const dash = (): DashboardPage => d as DashboardPage;
const page = () => dash().page;
const ch = (): ChannelJson => channel as ChannelJson;

async function visible(l: Locator, what: string, timeoutMs = 15_000): Promise<void> {
  try {
    await l.first().waitFor({ state: 'visible', timeout: timeoutMs });
  } catch {
    throw new Error(`${what} did not appear\npage log:\n${dash().describe()}`);
  }
}

/** The control API with the token in effect now. */
function api(admin: string, method: string, route: string, body?: unknown): Promise<Response> {
  return fetch(admin + route, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
}

async function live(admin: string): Promise<boolean> {
  const c = (await (await api(admin, 'GET', `/api/v1/channels/${ch().entryId}`)).json()) as {
    ingests: unknown[];
  };
  return c.ingests.length > 0;
}

async function openSettings(): Promise<void> {
  await page().getByRole('link', { name: 'Settings', exact: true }).click();
  await visible(page().getByRole('heading', { name: 'Settings', level: 1 }), 'the settings page');
}

describe('event day: settings, guarded actions, first run', () => {
  test('the wizard checks each step on Next, on the fields; a new mode clears them; it ends on the URLs', async ({
    appliance: a,
    browser,
  }) => {
    token = a.token;
    d = await openDashboard(browser, `${a.admin}/`);
    const p = page();
    await visible(p.getByTestId('token-hint'), 'the sign-in hint');
    await p.getByLabel('Admin token', { exact: true }).fill(token);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await visible(p.getByRole('heading', { name: 'First-run setup' }), 'the wizard');

    // eCDN without its service URL and secret: Next stays, and says what is missing on each field.
    await p.getByLabel('eCDN', { exact: false }).check();
    await p.getByRole('button', { name: 'Next' }).click();
    await visible(p.getByTestId('field-error'), 'the problems on the fields');
    expect(await p.getByTestId('wizard-step').innerText()).toContain('Mode');
    const problems = await p.getByTestId('field-error').allInnerTexts();
    expect(problems.join(' ')).toMatch(/service URL/);
    expect(problems.join(' ')).toMatch(/partner secret/);
    expect(await p.getByLabel('Service URL').getAttribute('aria-invalid')).toBe('true');
    // Another mode: the problems of the one before are gone.
    await p.getByLabel('Standalone', { exact: false }).check();
    expect(await p.getByTestId('field-error').count()).toBe(0);
    await p.getByRole('button', { name: 'Next' }).click();

    // The address encoders and viewers use, and the URLs it makes with the ports.
    await visible(p.getByTestId('wizard-step').filter({ hasText: 'Ports and address' }), 'the address step');
    const preview = await p.getByTestId('url-preview').innerText();
    expect(preview).toContain(`rtmp://127.0.0.1:${a.rtmpPort}/kLive`);
    expect(preview).toContain(`http://127.0.0.1:${a.httpPort}/`);
    expect(await p.getByLabel('Address for encoders and viewers').inputValue()).toBe('127.0.0.1');
    await p.getByRole('button', { name: 'Next' }).click();
    await p.getByRole('button', { name: 'Next' }).click();

    // A token too short, then two that differ: each said on its field.
    await visible(p.getByTestId('wizard-step').filter({ hasText: 'Admin credentials' }), 'the token step');
    await p.getByLabel('New admin token', { exact: true }).fill('short');
    await p.getByRole('button', { name: 'Next' }).click();
    await visible(p.getByTestId('field-error').filter({ hasText: '16 characters' }), 'the short token');
    await p.getByLabel('New admin token', { exact: true }).fill('');
    await p.getByRole('button', { name: 'Next' }).click();
    await visible(p.getByTestId('settings-summary'), 'the summary');
    await p.getByRole('button', { name: 'Save settings' }).click();

    await visible(p.getByTestId('first-run-done'), 'the last screen');
    expect(await p.getByTestId('done-rtmp-url').inputValue()).toBe(`rtmp://127.0.0.1:${a.rtmpPort}/kLive`);
    expect(await p.getByTestId('done-origin-url').inputValue()).toBe(`http://127.0.0.1:${a.httpPort}/`);
    expect(await p.getByTestId('done-admin-url').inputValue()).toBe(`http://127.0.0.1:${a.adminPort}/`);
    await p.getByRole('button', { name: 'Create your first channel' }).click();
    await visible(p.getByLabel('Channel name'), 'the new channel form');
  });

  test('a change that restarts while a channel is live asks first, naming channels and viewers; saved for later', async ({
    appliance: a,
    publishForFile,
  }) => {
    channel = await createChannel(a, 'Keynote');
    publishForFile(ffmpegUrl(ch().broadcastUrl, ch().streamName), ENCODER);
    await until(dash(), 'the channel to be live', () => live(a.admin), 30_000);
    const p = page();
    await openSettings();
    await p.getByLabel('Partner id').fill('9');
    expect(await p.getByTestId('restart-needed').innerText()).toContain('restarts the appliance');
    await p.getByRole('button', { name: 'Save settings' }).click();
    const dialog = p.getByRole('dialog');
    await visible(dialog, 'the question');
    expect(await dialog.getByTestId('live-refusal').innerText()).toMatch(
      /1 channel is live \(“Keynote”\) with \d+ viewers?/,
    );
    await dialog.getByRole('button', { name: 'Save, apply later' }).click();
    await visible(
      p.getByTestId('settings-note').filter({ hasText: 'next time the appliance restarts' }),
      'saved for later',
    );
    expect(await p.getByTestId('restarting-banner').count()).toBe(0);
    expect(await live(a.admin)).toBe(true);
  });

  test('the admin token and webhook URLs apply without a restart: this session goes on, the token file follows', async ({
    appliance: a,
  }) => {
    const received: Array<{ signature: string | undefined; body: string }> = [];
    const receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ signature: req.headers['x-ecdn-signature'] as string | undefined, body });
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/alerts`;
      const p = page();
      const old = token;
      await p.getByLabel('New admin token', { exact: true }).fill(NEW_TOKEN);
      await p.getByLabel('Repeat the new admin token').fill(NEW_TOKEN);
      await p.getByLabel('Webhook URLs').fill(hook);
      expect(await p.getByTestId('restart-needed').innerText()).toContain('without a restart');
      await p.getByRole('button', { name: 'Save settings' }).click();
      await visible(p.getByTestId('settings-note').filter({ hasText: 'applied at once' }), 'applied');
      expect(await p.getByTestId('restarting-banner').count()).toBe(0);
      token = NEW_TOKEN;
      expect((await api(a.admin, 'GET', '/api/v1/status')).status).toBe(200);
      expect(
        (await fetch(`${a.admin}/api/v1/status`, { headers: { authorization: `Bearer ${old}` } })).status,
      ).toBe(401);
      expect(fs.readFileSync(path.join(a.dataDir, 'admin-token'), 'utf8').trim()).toBe(NEW_TOKEN);
      // The settings page reads the token's source again after the save: waited for, not read at once.
      await visible(
        p.getByTestId('admin-token-source').filter({ hasText: 'the settings' }),
        'the token source',
      );
      // The webhook URL is in effect at once: the test notification reaches it, signed.
      await p.getByRole('button', { name: 'Send a test notification' }).click();
      await visible(p.getByText(/delivered \(200\)/), 'the delivery');
      expect(received[0]?.signature).toMatch(/^sha256=[0-9a-f]{64}$/);
      // Still signed in, and the channel still live.
      await p.getByRole('link', { name: 'Channels', exact: true }).first().click();
      await visible(p.getByText('Keynote'), 'the channel list');
      expect(await p.getByLabel('Admin token', { exact: true }).count()).toBe(0);
      expect(await live(a.admin)).toBe(true);
    } finally {
      receiver.close();
    }
  });

  test('deleting a live channel: in a menu, and the confirmation says it is live', async () => {
    const p = page();
    await p.getByRole('button', { name: 'More actions for Keynote' }).click();
    await p.getByRole('menuitem', { name: 'Delete channel Keynote' }).click();
    const dialog = p.getByRole('dialog');
    await visible(dialog.getByTestId('delete-live-warning'), 'the live warning');
    expect(await dialog.innerText()).toContain('It is live now');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
  });

  test('making a watched channel secure warns that viewers are cut, and offers a signed link first', async ({
    appliance: a,
  }) => {
    const p = page();
    await p.getByRole('link', { name: 'Keynote' }).first().click();
    // A viewer: the live playlist fetched the way a player does, until the dashboard counts it.
    const playlist = `${a.origin}/${ch().entryId}/${ch().entryId}.isml/.m3u8`;
    await until(
      dash(),
      'a viewer counted on the channel page',
      async () => {
        await fetch(playlist, { headers: { 'user-agent': 'event-day-viewer' } });
        return Number(await p.getByTestId('channel-viewers').innerText()) > 0;
      },
      20_000,
    );
    await p.getByLabel(/^Secure/).click();
    const dialog = p.getByRole('dialog');
    await visible(dialog, 'the warning');
    expect(await dialog.getByTestId('secure-warning').innerText()).toMatch(/\d+ viewers? (is|are) watching/);
    await dialog.getByRole('button', { name: 'Make a signed link first' }).click();
    await visible(p.getByTestId('link-first'), 'the way to a signed link');
    const c = (await (await api(a.admin, 'GET', `/api/v1/channels/${ch().entryId}`)).json()) as {
      access: string;
    };
    expect(c.access).toBe('open');
  });

  test('restarting a live channel: honest about reconnects, then "Waiting for the encoder… 0:0x" until it is back', async ({
    appliance: a,
    publishForFile,
  }) => {
    const p = page();
    await p.getByRole('button', { name: 'Restart', exact: true }).click();
    const dialog = p.getByRole('dialog');
    await visible(dialog, 'the restart question');
    const text = await dialog.innerText();
    expect(text).toContain('OBS');
    expect(text).toMatch(/ffmpeg.*must be started\s+again/s);
    await dialog.getByRole('button', { name: 'Restart now' }).click();
    await visible(p.getByTestId('restart-waiting'), 'the wait for the encoder', 20_000);
    expect(await p.getByTestId('restart-waiting').innerText()).toMatch(/Waiting for the encoder… 0:\d\d/);
    // ffmpeg does not come back by itself: publish again, and the line clears itself.
    publishForFile(ffmpegUrl(ch().broadcastUrl, ch().streamName), ENCODER);
    await until(
      dash(),
      'the restart line to clear',
      async () => (await p.getByTestId('restart-steps').count()) === 0,
      30_000,
    );
    const events = (await (await api(a.admin, 'GET', `/api/v1/channels/${ch().entryId}/events`)).json()) as {
      events: Array<{ code: string; message: string }>;
    };
    expect(
      events.events.some(
        (e) => e.code === 'PUBLISH_STOPPED' && /staff restarted the channel/.test(e.message),
      ),
    ).toBe(true);
  });

  test('interrupt and save: the appliance restarts, and the channel’s events say why it stopped', async ({
    appliance: a,
  }) => {
    await until(dash(), 'the channel to be live again', () => live(a.admin), 30_000);
    const p = page();
    await openSettings();
    await p.getByLabel('Partner id').fill('11');
    await p.getByRole('button', { name: 'Save settings' }).click();
    const dialog = p.getByRole('dialog');
    await visible(dialog.getByTestId('live-refusal'), 'the question');
    await dialog.getByRole('button', { name: 'Interrupt and save' }).click();
    await visible(p.getByTestId('restarting-banner'), 'the restart');
    await until(
      dash(),
      'the restart to be over',
      async () => (await p.getByTestId('restarting-banner').count()) === 0,
      30_000,
    );
    // Still signed in with the token changed live (the settings kept it).
    expect(await p.getByLabel('Admin token', { exact: true }).count()).toBe(0);
    const events = (await (await api(a.admin, 'GET', `/api/v1/channels/${ch().entryId}/events`)).json()) as {
      events: Array<{ code: string; message: string }>;
    };
    expect(events.events.map((e) => e.code)).toContain('APPLIANCE_STOPPING');
    expect(
      events.events.some(
        (e) =>
          e.code === 'PUBLISH_STOPPED' && /the appliance restarted to apply saved settings/.test(e.message),
      ),
    ).toBe(true);
  });
});
