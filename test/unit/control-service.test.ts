/** The transport-neutral control API: errors as values, tickets, statistics history, settings and their store. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { EventTickets, TICKET_TTL_MS } from '../../main/api/control-http.js';
import { ControlService, type ControlServiceOptions } from '../../main/api/control-service.js';
import {
  ChannelStatistics,
  HISTORY_SECONDS,
  SAMPLE_INTERVAL_MS,
} from '../../main/channels/channel-statistics.js';
import { createLogger } from '../../main/lib/logger.js';
import { fixedOptions, loadOptions, optionsSource } from '../../main/app/options.js';
import { FileSettingsStore } from '../../main/settings/file-settings-store.js';
import { SettingsService } from '../../main/settings/settings-service.js';
import type { SettingsStore, StoredSettings } from '../../main/settings/settings-store.js';

const log = createLogger('silent');

function service(over: Partial<ControlServiceOptions> = {}): ControlService {
  const channels = { get: () => undefined, list: () => [] };
  return new ControlService({
    mode: 'standalone',
    partnerId: 1,
    channels: channels as never,
    live: {} as never,
    index: {} as never,
    pps: {} as never,
    keys: {} as never,
    endpoints: { host: '127.0.0.1', rtmpPort: 1935, httpPort: 8080 },
    statistics: {} as never,
    settings: {} as never,
    status: () => ({}) as never,
    push: {} as never,
    onEvent: () => () => undefined,
    log,
    ...over,
  });
}

describe('ControlService.dispatch: errors cross as values', () => {
  it('an unknown operation is BAD_REQUEST, not a throw', async () => {
    const r = await service().dispatch('channels.nope' as never, {});
    expect(r).toEqual({
      ok: false,
      error: { code: 'BAD_REQUEST', status: 400, message: expect.stringContaining('unknown operation') },
    });
    const proto = await service().dispatch('__proto__' as never, {});
    expect(proto.ok).toBe(false);
  });

  it('a request that fails validation names the field', async () => {
    const r = await service().dispatch('channels.create', { name: '' });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('BAD_REQUEST');
      expect(r.error.message).toContain('name');
    }
    const extra = await service().dispatch('channels.create', { name: 'x', admin: true });
    expect(extra.ok).toBe(false);
    const noEntry = await service().dispatch('channels.get', {});
    expect(noEntry.ok === false && noEntry.error.message).toContain('entryId');
  });

  it('a missing channel is CHANNEL_NOT_FOUND with status 404', async () => {
    const r = await service().dispatch('channels.get', { entryId: '0_abcdefgh' });
    expect(r).toMatchObject({ ok: false, error: { code: 'CHANNEL_NOT_FOUND', status: 404 } });
  });

  it('eCDN mode refuses to create channels with MODE_ECDN', async () => {
    const r = await service({ mode: 'ecdn' }).dispatch('channels.create', { name: 'x' });
    expect(r).toMatchObject({ ok: false, error: { code: 'MODE_ECDN', status: 409 } });
  });

  it('an unexpected failure is INTERNAL without its internals', async () => {
    const r = await service({
      channels: {
        list: () => {
          throw new Error('SQLITE_CORRUPT at /secret/path');
        },
      } as never,
    }).dispatch('channels.list', undefined);
    expect(r).toEqual({
      ok: false,
      error: { code: 'INTERNAL', status: 500, message: 'internal error; see the appliance log' },
    });
  });

  it('a success is a value', async () => {
    const r = await service().dispatch('channels.list', undefined);
    expect(r).toEqual({ ok: true, value: { channels: [] } });
  });
});

describe('event tickets', () => {
  it('are single use and expire', () => {
    const t = new EventTickets();
    const a = t.issue(1000);
    expect(a.expiresIn).toBe(TICKET_TTL_MS / 1000);
    expect(t.redeem(a.ticket, 1001)).toBe(true);
    expect(t.redeem(a.ticket, 1002)).toBe(false);
    const b = t.issue(1000);
    expect(t.redeem(b.ticket, 1000 + TICKET_TTL_MS)).toBe(false);
    expect(t.redeem(undefined)).toBe(false);
    expect(t.redeem('made-up')).toBe(false);
  });
});

describe('statistics history', () => {
  it('samples active channels, keeps a bounded history, and skips idle ones after one zero sample', () => {
    let renditions = [{ streamName: 'e_1', fps: 30, speed: 1, bitrate: 1e6, dropFrames: 0, bytes: 10 }];
    let viewers = 2;
    const s = new ChannelStatistics({
      entryIds: () => ['e'],
      viewers: () => ({ viewers, bytesServed: 5 }),
      renditions: () => renditions,
    });
    const capacity = (HISTORY_SECONDS * 1000) / SAMPLE_INTERVAL_MS;
    for (let i = 0; i < capacity + 10; i++) s.sample(i * SAMPLE_INTERVAL_MS);
    expect(s.samples('e')).toHaveLength(capacity);
    expect(s.samples('e')[0]?.at).toBe(new Date(10 * SAMPLE_INTERVAL_MS).toISOString());
    renditions = [];
    viewers = 0;
    expect(s.sample()).toHaveLength(1);
    expect(s.sample()).toHaveLength(0);
    expect(s.samples('missing')).toEqual([]);
  });
});

class MemoryStore implements SettingsStore {
  constructor(public stored?: StoredSettings) {}
  load() {
    return this.stored && { ...this.stored };
  }
  save(s: StoredSettings) {
    this.stored = { ...s };
  }
  describe() {
    return 'memory';
  }
}

function settings(argv: string[], store = new MemoryStore(), verify = vi.fn()) {
  const restart = vi.fn();
  let current = loadOptions(argv, {}, { stored: store.load() });
  const svc = new SettingsService({
    store,
    options: optionsSource(argv, {}),
    current: () => current,
    restart: (next) => {
      restart(next);
      current = next;
    },
    dataDirEditable: false,
    checkBinding: verify,
  });
  return { svc, store, restart, verify };
}

describe('settings', () => {
  it('first run until saved; flags win over stored settings, stored over defaults', async () => {
    const { svc, store, restart } = settings(['--http-port', '9000']);
    expect(svc.firstRun()).toBe(true);
    expect(svc.view().fixed).toMatchObject({ httpPort: '--http-port flag' });
    await expect(svc.update({ httpPort: 9001 })).rejects.toMatchObject({
      code: 'SETTING_FIXED',
      status: 409,
    });
    const r = await svc.update({ rtmpPort: 2935 });
    expect(r).toMatchObject({ restartRequired: true, restarting: true });
    expect(restart).toHaveBeenCalledOnce();
    expect(store.stored).toEqual({ rtmpPort: '2935' });
    expect(svc.firstRun()).toBe(false);
    expect(
      loadOptions(['--http-port', '9000'], {}, { stored: { httpPort: '7000', rtmpPort: '2935' } }),
    ).toMatchObject({
      httpPort: 9000,
      rtmpPort: 2935,
    });
  });

  it('saving what is already in effect does not restart', async () => {
    const { svc, restart } = settings([]);
    const r = await svc.update({});
    expect(r.restartRequired).toBe(false);
    expect(restart).not.toHaveBeenCalled();
  });

  it('refuses invalid combinations with the options reason, saving nothing', async () => {
    const { svc, store } = settings([]);
    await expect(svc.update({ mode: 'ecdn' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(svc.update({ httpPort: 8081 })).rejects.toMatchObject({
      message: expect.stringContaining('differ'),
    });
    expect(store.stored).toBeUndefined();
  });

  it('never shows secrets: only whether one is set', async () => {
    const { svc } = settings([]);
    await svc.update({
      mode: 'ecdn',
      serviceUrl: 'https://kaltura.example',
      partnerId: 5,
      partnerSecret: 's3cret-value',
    });
    const view = svc.view();
    expect(JSON.stringify(view)).not.toContain('s3cret-value');
    expect(view.hasPartnerSecret).toBe(true);
  });

  it('test connection: the partner on success, the binding problem and its fix on failure', async () => {
    const verify = vi.fn();
    const { svc } = settings([], new MemoryStore(), verify);
    const body = { serviceUrl: 'https://k.example', partnerId: 5, partnerSecret: 'abc' };
    verify.mockResolvedValueOnce({
      ok: true,
      partnerId: 5,
      name: 'Acme',
      message: 'bound to partner 5 (Acme)',
    });
    expect(await svc.testConnection(body)).toMatchObject({ ok: true, partnerName: 'Acme' });
    expect(verify).toHaveBeenLastCalledWith({
      serviceUrl: 'https://k.example',
      partnerId: 5,
      adminSecret: 'abc',
    });
    verify.mockResolvedValueOnce({
      ok: false,
      code: 'PARTNER_FEATURE_MISSING',
      message: "the partner needs Kaltura's Hybrid eCDN feature (FEATURE_HYBRID_ECDN)",
      fix: 'Ask your Kaltura account manager',
    });
    await expect(svc.testConnection(body)).rejects.toMatchObject({
      code: 'CONNECTION_FAILED',
      message: expect.stringMatching(/FEATURE_HYBRID_ECDN.*Ask your Kaltura account manager/),
    });
    await expect(svc.testConnection({ serviceUrl: 'https://k.example', partnerId: 5 })).rejects.toMatchObject(
      {
        code: 'BAD_REQUEST',
      },
    );
    await expect(
      svc.testConnection({ serviceUrl: 'http://k.example', partnerId: 5, partnerSecret: 'abc' }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('https') });
  });

  it('the stored secret is used only with the stored service URL and partner', async () => {
    const verify = vi.fn().mockResolvedValue({ ok: true, partnerId: 5, message: 'bound to partner 5' });
    const { svc, store } = settings([], new MemoryStore(), verify);
    await svc.update({
      mode: 'ecdn',
      serviceUrl: 'https://k.example',
      partnerId: 5,
      partnerSecret: 'stored-s3cret',
    });
    // The stored pair: the stored secret signs the test.
    await svc.testConnection({ serviceUrl: 'https://k.example', partnerId: 5 });
    expect(verify).toHaveBeenLastCalledWith(expect.objectContaining({ adminSecret: 'stored-s3cret' }));
    verify.mockClear();
    // Anywhere else: the secret again, or nothing is sent.
    for (const other of [
      { serviceUrl: 'https://attacker.example', partnerId: 5 },
      { serviceUrl: 'https://k.example', partnerId: 6 },
    ]) {
      await expect(svc.testConnection(other)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    }
    expect(verify).not.toHaveBeenCalled();
    // Saving another service URL without the secret forgets the stored one (eCDN then needs it again).
    await expect(svc.update({ serviceUrl: 'https://attacker.example' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: expect.stringContaining('secret'),
    });
    expect(store.stored?.serviceUrl).toBe('https://k.example');
    await svc.update({ serviceUrl: 'https://k2.example', partnerSecret: 'new-s3cret' });
    expect(store.stored).toMatchObject({ serviceUrl: 'https://k2.example', partnerSecret: 'new-s3cret' });
  });

  it('fixedOptions names the flag or the environment variable', () => {
    expect(fixedOptions(['--rtmp-port=1936'], { ECDN_HTTP_PORT: '9' })).toMatchObject({
      rtmpPort: '--rtmp-port flag',
      httpPort: 'ECDN_HTTP_PORT environment variable',
    });
    expect(fixedOptions([], { ECDN_HTTP_PORT: '' })).toEqual({});
  });
});

describe('the headless settings file', () => {
  it('is written atomically, private, and read back; bad JSON is a clear error', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'settings-'));
    try {
      const store = new FileSettingsStore(dir);
      expect(store.load()).toBeUndefined();
      store.save({ mode: 'standalone', partnerId: '9' });
      expect(fs.statSync(store.file).mode & 0o777).toBe(0o600);
      expect(store.load()).toEqual({ mode: 'standalone', partnerId: '9' });
      expect(fs.readdirSync(dir)).toEqual(['settings.json']);
      fs.writeFileSync(store.file, '{"partnerId": 3, "unknown": "x", "rtmpPort": {"a":1}}');
      expect(store.load()).toEqual({ partnerId: '3' });
      fs.writeFileSync(store.file, '{oops');
      expect(() => store.load()).toThrow(/not valid JSON/);
      expect(store.describe()).toContain('0600');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('settings that apply live, and restarts that never silently cut a live event', () => {
  function liveSettings(env: NodeJS.ProcessEnv = {}) {
    const store = new MemoryStore();
    const restart = vi.fn();
    const applyLive = vi.fn();
    let current = loadOptions([], env, { stored: store.load() });
    const now = { channels: [] as Array<{ name: string; viewers: number }>, viewers: 0 };
    const svc = new SettingsService({
      store,
      options: optionsSource([], env),
      current: () => current,
      restart: (next) => {
        restart(next);
        current = next;
      },
      applyLive: (next, keys) => {
        applyLive(keys);
        current = { ...current, ...Object.fromEntries(keys.map((k) => [k, next[k]])) };
      },
      liveNow: () => now,
      dataDirEditable: false,
    });
    return { svc, store, restart, applyLive, now };
  }

  it('the admin token and webhook URLs apply to the running core, without a restart', async () => {
    const { svc, restart, applyLive } = liveSettings({ ECDN_WEBHOOK_SECRET: 'a-webhook-secret-0123456789' });
    const r = await svc.update({
      adminToken: 'a-new-admin-token-0123456789',
      webhookUrl: 'https://hooks.example/a, http://10.0.0.9/b',
    });
    expect(r).toMatchObject({ restartRequired: false, restarting: false });
    expect(r.applied.sort()).toEqual(['adminToken', 'webhookUrl']);
    expect(applyLive).toHaveBeenCalledOnce();
    expect(restart).not.toHaveBeenCalled();
    expect(r.settings.webhookUrl).toBe('https://hooks.example/a, http://10.0.0.9/b');
    expect(r.settings.hasWebhookSecret).toBe(true);
    expect(r.settings.adminTokenSource).toContain('the settings');
    expect(JSON.stringify(r.settings)).not.toContain('a-new-admin-token');
  });

  it('webhook URLs: a bad URL, or URLs without the environment-only signing secret, are refused clearly', async () => {
    const { svc, store } = liveSettings();
    await expect(svc.update({ webhookUrl: 'https://hooks.example/a' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: expect.stringContaining('ECDN_WEBHOOK_SECRET'),
    });
    const withSecret = liveSettings({ ECDN_WEBHOOK_SECRET: 'a-webhook-secret-0123456789' });
    await expect(withSecret.svc.update({ webhookUrl: 'ftp://hooks.example/a' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: expect.stringContaining('not http(s)'),
    });
    expect(store.stored).toBeUndefined();
  });

  it('a change that needs a restart while a channel is live: refused with the channels and viewers, unless asked', async () => {
    const { svc, store, restart, now } = liveSettings();
    now.channels.push({ name: 'Town hall', viewers: 37 });
    now.viewers = 37;
    await expect(svc.update({ partnerId: 8 })).rejects.toMatchObject({
      status: 409,
      code: 'CHANNELS_LIVE',
      message: expect.stringMatching(/1 channel is live \(“Town hall”\) with 37 viewers/),
    });
    expect(store.stored).toBeUndefined();
    expect(restart).not.toHaveBeenCalled();
    // Save later: stored, nothing restarts, the running core keeps its settings until the next restart.
    const later = await svc.update({ partnerId: 8 }, 'later');
    expect(later).toMatchObject({ restartRequired: true, restarting: false });
    expect(later.settings.partnerId).toBe(1);
    expect(store.stored).toMatchObject({ partnerId: '8' });
    expect(restart).not.toHaveBeenCalled();
    // Interrupt and save.
    const nowR = await svc.update({ partnerId: 9 }, 'now');
    expect(nowR).toMatchObject({ restartRequired: true, restarting: true });
    expect(restart).toHaveBeenCalledOnce();
    // A live-only change never asks.
    await expect(svc.update({ adminToken: 'another-admin-token-0123456789' })).resolves.toMatchObject({
      restarting: false,
    });
  });

  it('the public host: saved (a restart: it is in every URL), a detected default shown, bad values refused', async () => {
    const { svc, restart } = liveSettings();
    const view = svc.view();
    expect(view.detectedPublicHost).toMatch(/^[0-9.]+$/);
    expect(view.publicHost).toBe(view.detectedPublicHost);
    await expect(svc.update({ publicHost: 'http://x.example:80' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    const r = await svc.update({ publicHost: 'ecdn.corp.example' });
    expect(r).toMatchObject({ restarting: true });
    expect(restart).toHaveBeenCalledOnce();
    expect(r.settings.publicHost).toBe('ecdn.corp.example');
  });
});

describe('changes saved for later', () => {
  it('wait for the next restart: a later save of live settings neither restarts nor asks, and says they wait', async () => {
    const store = new MemoryStore();
    const restart = vi.fn();
    let current = loadOptions([], {}, { stored: store.load() });
    const svc = new SettingsService({
      store,
      options: optionsSource([], {}),
      current: () => current,
      restart,
      applyLive: (next, keys) => {
        current = { ...current, ...Object.fromEntries(keys.map((k) => [k, next[k]])) };
      },
      liveNow: () => ({ channels: [{ name: 'Town hall', viewers: 3 }], viewers: 3 }),
      dataDirEditable: false,
    });
    await svc.update({ partnerId: 8 }, 'later');
    const r = await svc.update({ adminToken: 'a-new-admin-token-0123456789' });
    expect(r).toMatchObject({ restartRequired: true, restarting: false, applied: ['adminToken'] });
    expect(restart).not.toHaveBeenCalled();
    // Asked for now: the pending change restarts the core.
    await expect(svc.update({}, 'now')).resolves.toMatchObject({ restarting: true });
    expect(restart).toHaveBeenCalledOnce();
  });
});
