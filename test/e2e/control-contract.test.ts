/**
 * The control-API contract over HTTP + WebSocket, as the dashboard in a browser uses it: every operation at its
 * CONTROL_ROUTES address, typed errors, events on the WebSocket (one-time tickets), publishing point options,
 * the archive and purge, and settings (first run, fixed-by-flag, test connection, a restart that applies them).
 */
import fs from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import {
  CONTROL_ROUTES,
  type ArchiveView,
  type ControlEvent,
  type PublishingPointView,
  type SettingsView,
  type StatisticsSample,
} from '../../main/contract/contract.js';
import { createChannel, waitFor, type RunningAppliance } from '../helpers/appliance.js';
import { ffmpegUrl, publish } from '../helpers/encoder.js';
import { test as base, describe, expect } from '../helpers/fixtures.js';
import { ECDN_FEATURES, FakeKaltura } from '../helpers/kaltura-server.js';

/** A Kaltura double for "test connection", started for the file by the `kalturaUrl` fixture. */
const kaltura = new FakeKaltura({
  partners: [{ id: 321, adminSecret: 'right-secret-123', name: 'Acme', features: ECDN_FEATURES }],
  entries: [],
});
// eslint-disable-next-line no-empty-pattern
const test = base.extend('kalturaUrl', { scope: 'file' }, async ({}, { onCleanup }) => {
  const url = await kaltura.start();
  onCleanup(() => kaltura.stop());
  return url;
});

async function errorOf(r: Response): Promise<{ code: string; message: string }> {
  return ((await r.json()) as { error: { code: string; message: string } }).error;
}

/** An event stream, as a browser dashboard opens it. */
async function openEvents(a: RunningAppliance): Promise<{ events: ControlEvent[]; ws: WebSocket }> {
  const t = (await (await a.api('POST', '/api/v1/events/ticket')).json()) as { ticket: string };
  const ws = new WebSocket(`ws://127.0.0.1:${a.adminPort}/api/v1/events?ticket=${t.ticket}`);
  const events: ControlEvent[] = [];
  ws.on('message', (d) => events.push(JSON.parse(String(d)) as ControlEvent));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { events, ws };
}

async function wsRefused(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('open', () => reject(new Error('the WebSocket opened')));
    ws.once('error', () => undefined);
  });
}

describe('the event stream', () => {
  test('needs a ticket (once, unexpired) or the Bearer token', async ({ appliance: a }) => {
    const base = `ws://127.0.0.1:${a.adminPort}/api/v1/events`;
    expect(await wsRefused(base)).toBe(401);
    expect(await wsRefused(`${base}?ticket=made-up`)).toBe(401);
    const t = (await (await a.api('POST', '/api/v1/events/ticket')).json()) as {
      ticket: string;
      expiresIn: number;
    };
    expect(t.expiresIn).toBe(30);
    const first = new WebSocket(`${base}?ticket=${t.ticket}`);
    await new Promise((resolve, reject) => {
      first.once('open', resolve);
      first.once('error', reject);
    });
    first.close();
    expect(await wsRefused(`${base}?ticket=${t.ticket}`)).toBe(401);
    expect(
      (await fetch(`http://127.0.0.1:${a.adminPort}/api/v1/events/ticket`, { method: 'POST' })).status,
    ).toBe(401);
  });

  test('pushes channel changes and channel events as they happen', async ({ appliance: a }) => {
    const { events, ws } = await openEvents(a);
    try {
      const c = await createChannel(a, 'Pushed');
      await waitFor(
        'create events',
        async () =>
          events.some((e) => e.type === 'channels.changed' && e.entryId === c.entryId) &&
          events.some(
            (e) =>
              e.type === 'channel.event' && e.entryId === c.entryId && e.event.code === 'CHANNEL_CREATED',
          ),
      );
      await a.api('PATCH', `/api/v1/channels/${c.entryId}`, { access: 'secure' });
      await waitFor('access event', async () =>
        events.some((e) => e.type === 'channel.event' && e.event.code === 'ACCESS_CHANGED'),
      );
    } finally {
      ws.close();
    }
  });
});

describe('operations at their routes', () => {
  test('status says first run until settings are saved', async ({ appliance: a }) => {
    const s = (await (await a.api('GET', '/api/v1/status')).json()) as { firstRun: boolean; version: string };
    expect(s.firstRun).toBe(true);
    expect(s.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  test('every operation of the contract has a route on the admin listener', async ({ appliance: a }) => {
    for (const [op, route] of Object.entries(CONTROL_ROUTES)) {
      const url = route.path.replace(':entryId', '0_nochanne');
      const r = await a.api(
        route.method,
        url,
        route.method === 'GET' || route.method === 'DELETE' ? undefined : {},
      );
      // Not the listener's "no route" 404: the operation answered (possibly with its own error).
      const body = (await r.json()) as { error?: { code: string } };
      expect(body.error?.code, op).not.toBe('NOT_FOUND');
    }
  });

  test('bad requests get typed errors', async ({ appliance: a }) => {
    const c = await createChannel(a, 'Errors');
    let r = await a.api('POST', `/api/v1/channels/${c.entryId}/purge`, { keepSeconds: -1 });
    expect(r.status).toBe(400);
    expect((await errorOf(r)).code).toBe('BAD_REQUEST');
    r = await a.api('POST', `/api/v1/channels/${c.entryId}/purge`, [1, 2]);
    expect(r.status).toBe(400);
    expect((await errorOf(r)).message).toContain('JSON object');
    r = await a.api('GET', `/api/v1/channels/${c.entryId}/publishing-point`);
    expect(r.status).toBe(404);
    expect((await errorOf(r)).code).toBe('PUBLISHING_POINT_NOT_FOUND');
    r = await a.api('GET', `/api/v1/channels/0_missing1/archive`);
    expect((await errorOf(r)).code).toBe('CHANNEL_NOT_FOUND');
    r = await a.api('PUT', `/api/v1/channels/${c.entryId}/publishing-point`, { options: { a: 1 } });
    expect(r.status).toBe(400);
  });
});

describe('a live channel through the contract', () => {
  test('statistics, archive ranges, options that are locked while live, purge, and events for each', async ({
    appliance: a,
  }) => {
    const { events, ws } = await openEvents(a);
    try {
      const c = await createChannel(a, 'Contract live');
      // Long enough for the checks made while live (about 5 s in), with room to spare on a busy machine.
      const pub = publish(ffmpegUrl(c.broadcastUrl, c.streamName), { seconds: 8 });
      await waitFor('started', async () =>
        events.some((e) => e.type === 'channel.state' && e.entryId === c.entryId && e.state === 'started'),
      );
      const sample = await waitFor('a statistics sample with a bitrate', async () => {
        const ev = events.find(
          (e): e is Extract<ControlEvent, { type: 'statistics' }> =>
            e.type === 'statistics' &&
            e.samples.some((s) => s.entryId === c.entryId && s.renditions.some((r) => (r.bitrate ?? 0) > 0)),
        );
        return ev?.samples.find((s) => s.entryId === c.entryId);
      });
      expect(sample.renditions[0]?.fps).toBeGreaterThan(0);
      const history = (await (await a.api('GET', `/api/v1/channels/${c.entryId}/statistics`)).json()) as {
        samples: StatisticsSample[];
      };
      expect(history.samples.length).toBeGreaterThan(0);

      let r = await a.api('GET', `/api/v1/channels/${c.entryId}/publishing-point`);
      const live = (await r.json()) as PublishingPointView;
      expect(live.editable).toBe(false);
      expect(live.reason).toContain('active');
      r = await a.api('PUT', `/api/v1/channels/${c.entryId}/publishing-point`, {
        options: { ...live.options, dvr_window_length: '60' },
      });
      expect(r.status).toBe(409);
      expect((await errorOf(r)).code).toBe('PUBLISHING_POINT_BUSY');

      const archive = await waitFor('a range', async () => {
        const v = (await (await a.api('GET', `/api/v1/channels/${c.entryId}/archive`)).json()) as ArchiveView;
        return v.tracks.length > 0 && v.tracks.every((t) => t.ranges.length > 0) && v;
      });
      expect(archive.dvrWindow.seconds).toBe(30);
      expect(Date.parse(archive.dvrWindow.end ?? '')).toBeGreaterThan(
        Date.parse(archive.dvrWindow.start ?? ''),
      );

      await pub.done;
      r = await a.api('POST', `/api/v1/channels/${c.entryId}/stop`);
      expect(((await r.json()) as { state: string }).state).toBe('stopped');
      await waitFor('stopped event', async () =>
        events.some((e) => e.type === 'channel.state' && e.entryId === c.entryId && e.state === 'stopped'),
      );
      r = await a.api('POST', `/api/v1/channels/${c.entryId}/purge`, { keepSeconds: 0 });
      expect(((await r.json()) as { purged: number }).purged).toBeGreaterThan(0);
      await waitFor('purge events', async () =>
        events.some(
          (e) => e.type === 'channel.event' && e.entryId === c.entryId && e.event.code === 'PURGE_DONE',
        ),
      );
      const after = (await (
        await a.api('GET', `/api/v1/channels/${c.entryId}/archive`)
      ).json()) as ArchiveView;
      expect(after.tracks.every((t) => t.ranges.length === 0)).toBe(true);

      const idle = (await (
        await a.api('GET', `/api/v1/channels/${c.entryId}/publishing-point`)
      ).json()) as PublishingPointView;
      expect(idle.editable).toBe(true);
      r = await a.api('PUT', `/api/v1/channels/${c.entryId}/publishing-point`, {
        options: { ...idle.options, dvr_window_length: '60' },
      });
      expect(r.status).toBe(200);
      expect(((await r.json()) as PublishingPointView).resolved.dvrWindow).toBe(60);
    } finally {
      ws.close();
    }
  }, 60_000);
});

describe('settings', () => {
  test('shows what flags fix, refuses to change it, and never returns secrets', async ({ appliance: a }) => {
    const s = (await (await a.api('GET', '/api/v1/settings')).json()) as SettingsView &
      Record<string, unknown>;
    expect(s.fixed.httpPort).toBe('--http-port flag');
    expect(s.fixed.dataDir).toContain('--data-dir');
    expect(s.mode).toBe('standalone');
    expect(s).not.toHaveProperty('partnerSecret');
    const r = await a.api('PATCH', '/api/v1/settings', { httpPort: 9999 });
    expect(r.status).toBe(409);
    expect((await errorOf(r)).code).toBe('SETTING_FIXED');
    const bad = await a.api('PATCH', '/api/v1/settings', { mode: 'ecdn' });
    expect(bad.status).toBe(400);
    expect((await errorOf(bad)).message).toContain('service URL');
  });

  test('tests the connection to the partner: the reason when it fails, the partner when it works', async ({
    appliance: a,
    kalturaUrl,
  }) => {
    let r = await a.api('POST', '/api/v1/settings/test-connection', {
      serviceUrl: kalturaUrl,
      partnerId: 321,
      partnerSecret: 'wrong-secret-000',
    });
    expect(r.status).toBe(502);
    const err = await errorOf(r);
    expect(err.code).toBe('CONNECTION_FAILED');
    expect(err.message).toContain('INVALID_KS');
    expect(err.message).not.toContain('wrong-secret-000');
    r = await a.api('POST', '/api/v1/settings/test-connection', {
      serviceUrl: kalturaUrl,
      partnerId: 321,
      partnerSecret: 'right-secret-123',
    });
    expect(r.status).toBe(200);
    const ok = (await r.json()) as { partnerId: number; partnerName: string; message: string };
    expect(ok).toMatchObject({ partnerId: 321, partnerName: 'Acme' });
    r = await a.api('POST', '/api/v1/settings/test-connection', {
      serviceUrl: 'http://127.0.0.1:1',
      partnerId: 321,
      partnerSecret: 'right-secret-123',
    });
    expect((await errorOf(r)).message).toContain('could not reach');
  });

  test('saves settings privately and restarts the core to apply them, telling dashboards first', async ({
    appliance: a,
  }) => {
    const { events, ws } = await openEvents(a);
    try {
      const r = await a.api('PATCH', '/api/v1/settings', { partnerId: 77 });
      expect(r.status).toBe(200);
      const saved = (await r.json()) as {
        restartRequired: boolean;
        restarting: boolean;
        settings: SettingsView;
      };
      expect(saved).toMatchObject({ restartRequired: true, restarting: true });
      expect(saved.settings.partnerId).toBe(77);
      const file = path.join(a.dataDir, 'settings.json');
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ partnerId: '77' });
      await waitFor('restarting event', async () => events.some((e) => e.type === 'appliance.restarting'));
      const status = await waitFor('restarted', async () => {
        try {
          const s = (await (await a.api('GET', '/api/v1/status')).json()) as {
            partnerId: number;
            firstRun: boolean;
          };
          return s.partnerId === 77 && s;
        } catch {
          return false;
        }
      });
      expect(status.firstRun).toBe(false);
      const c = await createChannel(a, 'After restart');
      expect(c.partnerId).toBe(77);
    } finally {
      ws.close();
    }
  }, 40_000);
});
