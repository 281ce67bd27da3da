/**
 * eCDN mode against a Kaltura-compatible service (test/helpers/kaltura-server.ts checks the KS signature, its
 * expiry, the parameters and that no impersonation is used): authentication of every publish, the partner's
 * conversion profile, the entry's publishing point options, registration, renewal, and an unreachable service.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppliance, waitFor, type RunningAppliance } from '../helpers/appliance.js';
import { publish } from '../helpers/encoder.js';
import { FakeKaltura } from '../helpers/kaltura-server.js';

const SECRET = 'partner-admin-secret-4f1c2b';
const PARTNER = 102;
let kaltura: FakeKaltura;
let serviceUrl: string;
let a: RunningAppliance;

const entry = (id: string, extra: Record<string, number> = {}) => ({
  id,
  partnerId: PARTNER,
  token: `tok-${id}`,
  name: `Event ${id}`,
  // 2 s fragments unless a test says otherwise (Kaltura's default segmentDuration is 6000 ms).
  segmentDuration: 2000,
  ...extra,
});

beforeAll(async () => {
  kaltura = new FakeKaltura({
    partners: [
      { id: PARTNER, adminSecret: SECRET, name: 'Acme' },
      { id: -5, adminSecret: 'media-server-secret' },
      { id: 103, adminSecret: 'other-secret' },
    ],
    entries: [
      entry('0_aaaaaaaa', {
        dvrStatus: 1,
        dvrWindow: 1,
        recordStatus: 1,
        segmentDuration: 4000,
        conversionProfileId: 7,
      }),
      entry('0_bbbbbbbb'),
      entry('0_cccccccc'),
      entry('0_dddddddd'),
      { id: '0_eeeeeeee', partnerId: 103, token: 'x', name: 'Other partner' },
    ],
  });
  serviceUrl = await kaltura.start();
  a = await startEcdn();
});

afterAll(async () => {
  await a?.stop();
  await kaltura?.stop();
});

function startEcdn(extraArgs: string[] = [], secret = SECRET): Promise<RunningAppliance> {
  return startAppliance({
    extraArgs: [
      '--mode',
      'ecdn',
      '--service-url',
      serviceUrl,
      '--partner-id',
      String(PARTNER),
      '--service-timeout',
      '2',
      ...extraArgs,
    ],
    env: { ECDN_PARTNER_SECRET: secret },
  });
}

const url = (ap: RunningAppliance, e: string, token = `tok-${e}`, i = 0, p = PARTNER) =>
  `rtmp://127.0.0.1:${ap.rtmpPort}/kLive/?p=${p}&e=${e}&i=${i}&t=${token}/${e}_1`;

async function channel(
  ap: RunningAppliance,
  e: string,
): Promise<{ name: string; state: string } | undefined> {
  const r = await ap.api('GET', `/api/v1/channels/${e}`);
  return r.status === 200 ? ((await r.json()) as { name: string; state: string }) : undefined;
}

async function eventCodes(
  ap: RunningAppliance,
  e: string,
): Promise<Array<{ code: string; message: string }>> {
  const r = await ap.api('GET', `/api/v1/channels/${e}/events`);
  return r.status === 200
    ? ((await r.json()) as { events: Array<{ code: string; message: string }> }).events
    : [];
}

const callsOf = (action: string) =>
  kaltura.calls.filter((c) => `${c.service}.${c.action}`.toLowerCase() === action.toLowerCase());

describe('eCDN mode', () => {
  it('verifies the binding at start and shows it in the status', async () => {
    const s = await waitFor('bound', async () => {
      const st = (await (await a.api('GET', '/api/v1/status')).json()) as {
        mode: string;
        binding: { state: string; message: string };
      };
      return st.binding.state === 'bound' && st;
    });
    expect(s.mode).toBe('ecdn');
    expect(s.binding.message).toContain('102');
    expect(callsOf('partner.getInfo').some((c) => c.outcome === 'ok' && c.ksPartnerId === PARTNER)).toBe(
      true,
    );
  });

  it('has no local channels to create', async () => {
    const r = await a.api('POST', '/api/v1/channels', { name: 'x' });
    expect(r.status).toBe(409);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('MODE_ECDN');
  });

  it('authenticates a publish, transcodes as the partner profile says, sets up the entry publishing point, registers', async () => {
    const e = '0_aaaaaaaa';
    const enc = publish(url(a, e), { seconds: 14 });
    await waitFor('started', async () => (await channel(a, e))?.state === 'started', 30_000);
    const auth = callsOf('liveStream.authenticate').find((c) => c.params.entryId === e);
    expect(auth?.outcome).toBe('ok');
    expect(auth?.params).toMatchObject({
      entryId: e,
      token: `tok-${e}`,
      mediaServerIndex: 0,
      applicationName: 'kLive',
    });
    expect(typeof auth?.params.hostname).toBe('string');
    expect(Number(auth?.params.format)).toBe(1);
    expect(kaltura.calls.every((c) => c.params.partnerId === undefined)).toBe(true);
    // The channel carries the entry's name.
    expect((await channel(a, e))?.name).toBe(`Event ${e}`);
    // Conversion profile asked with the ingest's metadata; the 720p rendition is above the 360p source.
    const profile = kaltura.calls.find((c) => c.action.toLowerCase() === 'serve');
    expect(profile?.params.streamName).toBe(`${e}_1`);
    const raw = profile?.params.extraParams;
    const extra = (typeof raw === 'string' ? JSON.parse(raw) : raw) as Record<string, unknown>;
    expect(Number(extra.width)).toBe(640);
    expect(Number(extra.height)).toBe(360);
    expect(extra.videocodecidstring).toBe('avc1');
    const base = `${a.origin}/${e}/${e}.isml/`;
    const master = await waitFor(
      'master',
      async () => {
        const r = await fetch(`${base}.m3u8`);
        return r.status === 200 && r.text();
      },
      30_000,
    );
    expect(master).toContain('tracks/video_source.m3u8');
    expect(master).toContain('tracks/video_35.m3u8');
    expect(master).not.toContain('video_33');
    // Entry: DVR 1 min -> 60 s window, recording -> archiving, segmentDuration 4000 ms -> 4 s fragments.
    const smil = await (
      await fetch(`${a.admin}/${e}/${e}.isml`, { headers: { authorization: `Bearer ${a.token}` } })
    ).text();
    expect(smil).toContain('<meta name="dvr_window_length" content="60" />');
    expect(smil).toContain('<meta name="archiving" content="true" />');
    expect(smil).toContain('<meta name="fragment_duration" content="4" />');
    const playlist = await waitFor(
      'a 4 s fragment',
      async () => {
        const p = await (await fetch(`${base}tracks/video_source.m3u8`)).text();
        return (p.match(/#EXTINF/g) ?? []).length >= 2 && p;
      },
      30_000,
    );
    expect(Number(/#EXTINF:([\d.]+)/.exec(playlist)?.[1])).toBeGreaterThan(3.5);
    // Registration: BROADCASTING (2), then PLAYABLE (1) once fragments are out; unregistered at the end.
    await waitFor('PLAYABLE', async () =>
      callsOf('liveStream.registerMediaServer').some((c) => Number(c.params.liveEntryStatus) === 1),
    );
    const regs = callsOf('liveStream.registerMediaServer').filter((c) => c.params.entryId === e);
    expect(Number(regs[0]?.params.liveEntryStatus)).toBe(2);
    expect(regs[0]?.params).toMatchObject({ mediaServerIndex: 0, applicationName: 'kLive' });
    expect((await enc.done).code).toBe(0);
    await waitFor('unregistered', async () =>
      callsOf('liveStream.unregisterMediaServer').some((c) => c.params.entryId === e && c.outcome === 'ok'),
    );
  });

  it('rejects a wrong token with the exception code and message, on the channel and in the log', async () => {
    const e = '0_bbbbbbbb';
    const r = await publish(url(a, e, 'wrong-token'), { seconds: 4 }).done;
    expect(r.code).not.toBe(0);
    const ev = await waitFor('event', async () =>
      (await eventCodes(a, e)).find((x) => x.code === 'LIVE_STREAM_INVALID_TOKEN'),
    );
    expect(ev.message).toContain(`Invalid token supplied for live entry [${e}]`);
    expect(a.stdout()).toContain('LIVE_STREAM_INVALID_TOKEN');
    expect(a.stdout()).not.toContain('wrong-token');
  });

  it('rejects an unknown entry, and an entry of another partner, with the service answer', async () => {
    for (const e of ['0_zzzzzzzz', '0_eeeeeeee']) {
      const r = await publish(url(a, e, 'x'), { seconds: 4 }).done;
      expect(r.code).not.toBe(0);
      expect(callsOf('liveStream.authenticate').find((c) => c.params.entryId === e)?.outcome).toBe(
        'ENTRY_ID_NOT_FOUND',
      );
    }
  });

  it('rejects a broadcast URL of another partner without asking the service', async () => {
    const before = kaltura.calls.length;
    const r = await publish(url(a, '0_cccccccc', 'tok-0_cccccccc', 0, 103), { seconds: 4 }).done;
    expect(r.code).not.toBe(0);
    expect(kaltura.calls.length).toBe(before);
    expect(a.stdout()).toContain('PARTNER_NOT_SERVED');
  });

  it('renews a KS the service no longer accepts, transparently, and the publish goes through', async () => {
    kaltura.revokeSessionsBefore(Date.now());
    const e = '0_cccccccc';
    const enc = publish(url(a, e), { seconds: 6 });
    await waitFor('started', async () => (await channel(a, e))?.state === 'started', 30_000);
    const auths = callsOf('liveStream.authenticate').filter((c) => c.params.entryId === e);
    expect(auths.map((c) => c.outcome)).toEqual(['INVALID_KS', 'ok']);
    await enc.done;
  });

  it('falls back to passthrough with a warning when the conversion profile cannot be fetched', async () => {
    kaltura.failNext('serve', 'INTERNAL_SERVERL_ERROR', 4);
    const e = '0_dddddddd';
    const enc = publish(url(a, e), { seconds: 6 });
    const base = `${a.origin}/${e}/${e}.isml/`;
    const master = await waitFor(
      'master',
      async () => {
        const r = await fetch(`${base}.m3u8`);
        return r.status === 200 && r.text();
      },
      30_000,
    );
    expect((master.match(/#EXT-X-STREAM-INF/g) ?? []).length).toBe(1);
    const warn = (await eventCodes(a, e)).find((x) => x.code === 'CONVERSION_PROFILE_WARNING');
    expect(warn?.message).toMatch(/unavailable .*fallback profile/);
    await enc.done;
  });

  it('never logs the secret or a KS', () => {
    const out = a.stdout();
    expect(out).not.toContain(SECRET);
    const ks = Buffer.from(kaltura.calls[0]?.params.ks as string, 'base64')
      .toString()
      .split('|')[0] as string;
    expect(ks.length).toBe(40);
    expect(out).not.toContain(kaltura.calls[0]?.params.ks as string);
  });
});

describe('eCDN mode when things go wrong', () => {
  it('keeps running with a wrong secret and says why in the status', async () => {
    const b = await startEcdn([], 'not-the-secret');
    try {
      const st = await waitFor('failed', async () => {
        const s = (await (await b.api('GET', '/api/v1/status')).json()) as {
          binding: { state: string; message: string };
        };
        return s.binding.state === 'failed' && s;
      });
      expect(st.binding.message).toContain('INVALID_KS');
      expect((await fetch(`${b.admin}/api/v1/health`)).status).toBe(200);
      expect(b.stdout()).not.toContain('not-the-secret');
    } finally {
      await b.stop();
    }
  });

  it('refuses publishes when the service times out (fail closed), and accepts within the grace period when on', async () => {
    const b = await startEcdn(['--auth-grace', '600']);
    try {
      const e = '0_cccccccc';
      const ok = publish(url(b, e), { seconds: 4 });
      await waitFor('started', async () => (await channel(b, e))?.state === 'started', 30_000);
      await ok.done;
      await waitFor('stopped', async () => (await channel(b, e))?.state === 'stopped', 30_000);
      // Past the 10 s re-authentication skip, so the service is really asked.
      await new Promise((r) => setTimeout(r, 10_500));
      kaltura.delay(3000);
      // Graced: same entry and token within 10 min.
      // The profile call times out too (2 s) before the fallback profile starts: publish long enough.
      const graced = publish(url(b, e), { seconds: 10 });
      await waitFor('started again', async () => (await channel(b, e))?.state === 'started', 30_000);
      await graced.done;
      expect(b.stdout()).toContain('publish accepted within the grace period');
      // Not graced: an entry that never authenticated.
      const refused = await publish(url(b, '0_dddddddd'), { seconds: 4 }).done;
      expect(refused.code).not.toBe(0);
      expect(b.stdout()).toContain('SERVICE_UNREACHABLE');
    } finally {
      kaltura.delay(0);
      await b.stop();
    }
    // Without the grace option: fail closed.
    kaltura.delay(3000);
    try {
      const r = await publish(url(a, '0_cccccccc'), { seconds: 4 }).done;
      expect(r.code).not.toBe(0);
      await waitFor(
        'refusal',
        async () => (await eventCodes(a, '0_cccccccc')).some((x) => x.code === 'SERVICE_UNREACHABLE'),
        15_000,
      );
    } finally {
      kaltura.delay(0);
    }
  });
});

describe('on-prem partner -5 with impersonation (off by default)', () => {
  it('finds the entry partner with liveStream.get and impersonates it; another partner entry is refused', async () => {
    const b = await startAppliance({
      extraArgs: [
        '--mode',
        'ecdn',
        '--service-url',
        serviceUrl,
        '--partner-id=-5',
        '--impersonation',
        'on',
        '--service-timeout',
        '2',
      ],
      env: { ECDN_PARTNER_SECRET: 'media-server-secret' },
    });
    try {
      const e = '0_dddddddd';
      const enc = publish(url(b, e), { seconds: 6 });
      await waitFor('started', async () => (await channel(b, e))?.state === 'started', 30_000);
      await enc.done;
      const get = callsOf('liveStream.get').filter((c) => c.params.entryId === e);
      expect(get.length).toBeGreaterThan(0);
      expect(get[0]?.ksPartnerId).toBe(-5);
      const auth = callsOf('liveStream.authenticate').filter(
        (c) => c.params.entryId === e && c.ksPartnerId === -5,
      );
      expect(auth[auth.length - 1]?.params.partnerId).toBe(PARTNER);
      expect(auth[auth.length - 1]?.outcome).toBe('ok');
      // p says 102, but the entry belongs to 103.
      const r = await publish(url(b, '0_eeeeeeee', 'x'), { seconds: 4 }).done;
      expect(r.code).not.toBe(0);
      expect(b.stdout()).toContain('ENTRY_ID_NOT_FOUND');
    } finally {
      await b.stop();
    }
  });

  it('is refused at start without --impersonation on', async () => {
    await expect(
      startAppliance({
        extraArgs: ['--mode', 'ecdn', '--service-url', serviceUrl, '--partner-id=-5'],
        env: { ECDN_PARTNER_SECRET: 'x' },
      }),
    ).rejects.toThrow(/partner -5 .*needs --impersonation on/);
  });
});
