/**
 * eCDN mode against the Kaltura double (test/helpers/kaltura-server.ts applies kaltura/server's own rules: the
 * Hybrid eCDN permission gate, server nodes and their 120 s freshness, header-only serve errors, the KS):
 * the binding check, the server node, authentication of every publish, the partner's conversion profile, the
 * entry's publishing point options, registration, health beacons, renewal, and an unreachable service.
 */
import { startAppliance, waitFor, type RunningAppliance, type StartOptions } from '../helpers/appliance.js';
import { publish } from '../helpers/encoder.js';
import { test as base, describe, expect } from '../helpers/fixtures.js';
import {
  ECDN_FEATURES,
  FakeKaltura,
  FEATURE_HYBRID_ECDN,
  FEATURE_SERVER_NODE,
  NODE_STATUS,
  SERVER_NODE_TTL_MS,
} from '../helpers/kaltura-server.js';

const SECRET = 'partner-admin-secret-4f1c2b';
const PARTNER = 102;
/** The appliance's media server node at Kaltura: created by its own serverNode.reportStatus. */
const NODE = 'ecdn-a.test.example';

const entry = (id: string, extra: Record<string, number> = {}) => ({
  id,
  partnerId: PARTNER,
  token: `tok-${id}`,
  name: `Event ${id}`,
  // 2 s fragments unless a test says otherwise (Kaltura's default segmentDuration is 6000 ms).
  segmentDuration: 2000,
  ...extra,
});

/** The Kaltura double, started for the file by the `serviceUrl` fixture. */
const kaltura = new FakeKaltura({
  partners: [
    { id: PARTNER, adminSecret: SECRET, name: 'Acme', features: ECDN_FEATURES },
    { id: -5, adminSecret: 'media-server-secret', features: ECDN_FEATURES },
    { id: 103, adminSecret: 'other-secret', features: ECDN_FEATURES },
    // Right secrets, but no Hybrid eCDN permission (104), or no server nodes (105).
    { id: 104, adminSecret: SECRET, name: 'No eCDN', features: [FEATURE_SERVER_NODE] },
    { id: 105, adminSecret: SECRET, name: 'No nodes', features: [FEATURE_HYBRID_ECDN] },
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
    { id: '0_ffffffff', partnerId: 104, token: 'tok-0_ffffffff', name: 'Feature off' },
    { id: '0_gggggggg', partnerId: 105, token: 'tok-0_gggggggg', name: 'No node', segmentDuration: 2000 },
  ],
});

function ecdnOptions(
  serviceUrl: string,
  extraArgs: string[] = [],
  secret = SECRET,
  partner = PARTNER,
): StartOptions {
  return {
    extraArgs: [
      '--mode',
      'ecdn',
      '--service-url',
      serviceUrl,
      '--partner-id',
      String(partner),
      '--service-timeout',
      '2',
      '--server-node-name',
      NODE,
      '--server-node-interval',
      '1',
      ...extraArgs,
    ],
    env: { ECDN_PARTNER_SECRET: secret },
  };
}

function startEcdn(
  serviceUrl: string,
  extraArgs: string[] = [],
  secret = SECRET,
  partner = PARTNER,
): Promise<RunningAppliance> {
  return startAppliance(ecdnOptions(serviceUrl, extraArgs, secret, partner));
}

/** `appliance` is the eCDN-mode appliance bound to partner 102 at the Kaltura double (`serviceUrl`). */
// eslint-disable-next-line no-empty-pattern
const test = base.extend('serviceUrl', { scope: 'file' }, async ({}, { onCleanup }) => {
  const url = await kaltura.start();
  onCleanup(() => kaltura.stop());
  return url;
});
test.override('applianceOptions', ({ serviceUrl }) => ecdnOptions(serviceUrl));

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

interface StatusBinding {
  state: string;
  code?: string;
  message: string;
  fix?: string;
  serverNode?: { name: string; state: string; message?: string; fix?: string; id?: number };
}

async function binding(ap: RunningAppliance): Promise<StatusBinding> {
  return ((await (await ap.api('GET', '/api/v1/status')).json()) as { binding: StatusBinding }).binding;
}

describe('eCDN mode', () => {
  test('verifies the binding at start: the secret, the Hybrid eCDN permission, its own server node', async ({
    appliance: a,
  }) => {
    const s = await waitFor('bound', async () => {
      const st = (await (await a.api('GET', '/api/v1/status')).json()) as {
        mode: string;
        binding: StatusBinding;
      };
      return st.binding.state === 'bound' && st;
    });
    expect(s.mode).toBe('ecdn');
    expect(s.binding.message).toContain('102');
    expect(callsOf('partner.getInfo').some((c) => c.outcome === 'ok' && c.ksPartnerId === PARTNER)).toBe(
      true,
    );
    // The permission probe: an entry that cannot exist, and no host name.
    const probe = callsOf('liveStream.authenticate').find((c) => c.params.entryId === 'ecdn-binding-probe');
    expect(probe?.outcome).toBe('ENTRY_ID_NOT_FOUND');
    expect(probe?.params.hostname).toBeUndefined();
    // The node did not exist: reportStatus created it as a Wowza media server node of that host name.
    const report = callsOf('serverNode.reportStatus')[0];
    expect(report?.params).toMatchObject({
      hostName: NODE,
      serverNode: { objectType: 'KalturaWowzaMediaServerNode', hostName: NODE, name: NODE },
      serverNodeStatus: 1,
    });
    expect(kaltura.node(NODE)).toMatchObject({
      partnerId: PARTNER,
      type: 'wowza',
      status: NODE_STATUS.ACTIVE,
    });
    expect(s.binding.serverNode).toMatchObject({ name: NODE, state: 'active', id: kaltura.node(NODE)?.id });
  });

  test('keeps its node fresh within the 120 s Kaltura allows (heartbeat every --server-node-interval)', async ({
    appliance: _heartbeating,
  }) => {
    // The double's clock jumps 100 s at a time: only a new heartbeat keeps the node registered for routing.
    const start = Date.now();
    for (let i = 1; i <= 3; i++) {
      const jump = i * (SERVER_NODE_TTL_MS - 20_000);
      kaltura.now = () => Date.now() + jump;
      const reports = callsOf('serverNode.reportStatus').length;
      await waitFor('a heartbeat', async () => callsOf('serverNode.reportStatus').length > reports, 5_000);
      expect(kaltura.isRegistered(NODE)).toBe(true);
    }
    kaltura.now = Date.now;
    expect(Date.now() - start).toBeLessThan(15_000);
    expect(kaltura.serverNodes.filter((n) => n.hostName === NODE)).toHaveLength(1);
  });

  test('has no local channels to create', async ({ appliance: a }) => {
    const r = await a.api('POST', '/api/v1/channels', { name: 'x' });
    expect(r.status).toBe(409);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('MODE_ECDN');
  });

  test('authenticates a publish, transcodes as the partner profile says, sets up the entry publishing point, registers', async ({
    appliance: a,
  }) => {
    const e = '0_aaaaaaaa';
    // Two 4 s fragments and the end of the stream: 10 s is enough (the last, shorter fragment is flushed).
    const enc = publish(url(a, e), { seconds: 10 });
    await waitFor('started', async () => (await channel(a, e))?.state === 'started', 30_000);
    const auth = callsOf('liveStream.authenticate').find((c) => c.params.entryId === e);
    expect(auth?.outcome).toBe('ok');
    expect(auth?.params).toMatchObject({
      entryId: e,
      token: `tok-${e}`,
      hostname: NODE,
      mediaServerIndex: '0',
      applicationName: 'kLive',
    });
    expect(auth?.contentType).toBe('application/json');
    expect(Number(auth?.params.format)).toBe(1);
    expect(kaltura.calls.every((c) => c.params.partnerId === undefined)).toBe(true);
    // The channel carries the entry's name.
    expect((await channel(a, e))?.name).toBe(`Event ${e}`);
    // The entry's broadcast URL at Kaltura is offered as a push target (the cloud copy): the entry's URL alone,
    // completed with its stream name, kept as a secret.
    const view = (await (await a.api('GET', `/api/v1/channels/${e}`)).json()) as {
      kalturaBroadcastUrl?: string;
    };
    expect(view.kalturaBroadcastUrl).toBe(`rtmp://ecdn.example/kLive/?p=${PARTNER}&e=${e}&i=0&t=tok-${e}`);
    const target = await a.api('POST', `/api/v1/channels/${e}/targets`, {
      url: view.kalturaBroadcastUrl,
      name: 'Kaltura cloud',
    });
    expect(target.status).toBe(201);
    const t = (await target.json()) as { id: string; url: string };
    expect(t.url).toBe('rtmp://ecdn.example/kLive/••••');
    expect((await a.api('DELETE', `/api/v1/channels/${e}/targets/${t.id}`)).status).toBe(200);
    // Conversion profile asked with the ingest's metadata; the 720p rendition is above the 360p source.
    const profile = kaltura.calls.find((c) => c.action.toLowerCase() === 'serve');
    expect(profile?.params.streamName).toBe(`${e}_1`);
    const raw = profile?.params.extraParams;
    const extra = (typeof raw === 'string' ? JSON.parse(raw) : raw) as Record<string, unknown>;
    expect(Number(extra.width)).toBe(640);
    expect(Number(extra.height)).toBe(360);
    // Wowza's codec names: with AAC the service passes the source audio through in every rendition.
    expect(extra.videocodecidstring).toBe('H264');
    expect(extra.audiocodecidstring).toBe('AAC');
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
    // One audio track, copied from the source: no rendition re-encoded it.
    expect(master).toContain('audio_source');
    expect(master).not.toMatch(/audio_35/);
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
    expect(regs[0]?.params).toMatchObject({
      hostname: NODE,
      mediaServerIndex: '0',
      applicationName: 'kLive',
      shouldCreateRecordedEntry: false,
    });
    // The entry records (recordStatus 1), but the appliance keeps the recording: no Kaltura recorded entry.
    expect(kaltura.recordedEntries).toEqual([]);
    expect((await enc.done).code).toBe(0);
    await waitFor('unregistered', async () =>
      callsOf('liveStream.unregisterMediaServer').some((c) => c.params.entryId === e && c.outcome === 'ok'),
    );
  });

  test('rejects a wrong token with the exception code and message, on the channel and in the log', async ({
    appliance: a,
  }) => {
    const e = '0_bbbbbbbb';
    const r = await publish(url(a, e, 'wrong-token'), { seconds: 4 }).done;
    expect(r.code).not.toBe(0);
    const ev = await waitFor('event', async () =>
      (await eventCodes(a, e)).find((x) => x.code === 'LIVE_STREAM_INVALID_TOKEN'),
    );
    expect(ev.message).toContain(`Invalid token supplied for live entry [${e}]`);
    expect(a.stdout()).toContain('LIVE_STREAM_INVALID_TOKEN');
    expect(a.stdout()).not.toContain('wrong-token');
    // As Wowza does, the refusal reaches Kaltura's own UI as a health beacon on the entry (without the token).
    const beacon = await waitFor('beacon', async () => kaltura.beacons.find((b) => b.objectId === e));
    expect(beacon).toMatchObject({ partnerId: PARTNER, relatedObjectType: '4', eventType: '0_healthData' });
    const data = JSON.parse(beacon.privateData) as {
      alerts: Array<{ Arguments: Record<string, string>; Code: number }>;
    };
    expect(data.alerts[0]).toMatchObject({
      Arguments: { entryId: e, alertType: 'LIVE_STREAM_INVALID_TOKEN' },
      Code: 111,
    });
    expect(beacon.privateData).not.toContain('wrong-token');
    // A second refusal within the minute is not beaconed again.
    await publish(url(a, e, 'wrong-token'), { seconds: 2 }).done;
    expect(kaltura.beacons.filter((b) => b.objectId === e)).toHaveLength(1);
  });

  test('rejects an unknown entry, and an entry of another partner, with the service answer', async ({
    appliance: a,
  }) => {
    for (const e of ['0_zzzzzzzz', '0_eeeeeeee']) {
      const r = await publish(url(a, e, 'x'), { seconds: 4 }).done;
      expect(r.code).not.toBe(0);
      expect(callsOf('liveStream.authenticate').find((c) => c.params.entryId === e)?.outcome).toBe(
        'ENTRY_ID_NOT_FOUND',
      );
    }
  });

  test('rejects a broadcast URL of another partner without asking the service', async ({ appliance: a }) => {
    // Nothing about this entry reaches the service (heartbeats and other entries' keep-alives go on meanwhile).
    const asked = () => kaltura.calls.filter((c) => c.params.entryId === '0_cccccccc').length;
    const before = asked();
    const r = await publish(url(a, '0_cccccccc', 'tok-0_cccccccc', 0, 103), { seconds: 4 }).done;
    expect(r.code).not.toBe(0);
    expect(asked()).toBe(before);
    expect(a.stdout()).toContain('PARTNER_NOT_SERVED');
  });

  test('renews a KS the service no longer accepts, transparently; an `e` with a backend-id prefix is accepted', async ({
    appliance: a,
  }) => {
    const revokedAt = Date.now();
    kaltura.revokeSessionsBefore(revokedAt);
    const e = '0_cccccccc';
    // A deployment with a live backend_id issues e=<backendId>-<entryId>.
    const prefixed = `rtmp://127.0.0.1:${a.rtmpPort}/kLive/?p=${PARTNER}&e=kbe3-${e}&i=0&t=tok-${e}/${e}_1`;
    const enc = publish(prefixed, { seconds: 6 });
    await waitFor('started', async () => (await channel(a, e))?.state === 'started', 30_000);
    const auths = callsOf('liveStream.authenticate').filter((c) => c.params.entryId === e);
    // The first call after the revocation was refused (INVALID_KS): the publish's own authenticate, or the server
    // node's heartbeat when it came first (every second here); either way the next KS was taken transparently.
    const refused = kaltura.calls.filter((c) => c.at >= revokedAt && c.outcome === 'INVALID_KS');
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(auths.map((c) => c.outcome).filter((o) => o !== 'INVALID_KS')).toEqual(['ok']);
    // What is checked is the authentication: the rest of the publish proves nothing more.
    await enc.stop();
  });

  test('falls back to passthrough, naming the code of a header-only serve error', async ({
    appliance: a,
  }) => {
    kaltura.failNext('serve', 'INGEST_NOT_FOUND_IN_CONVERSION_PROFILE', 4);
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
    expect(warn?.message).toContain('INGEST_NOT_FOUND_IN_CONVERSION_PROFILE');
    expect(warn?.message).not.toContain('not transcoder XML');
    // Serve answered an empty 200 with X-Kaltura headers, as the real service does.
    expect(callsOf('wowza_liveConversionProfile.serve').at(-1)?.outcome).toBe(
      'INGEST_NOT_FOUND_IN_CONVERSION_PROFILE',
    );
    await enc.stop();
  });

  test('never logs the secret or a KS', ({ appliance: a }) => {
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
  test('keeps running with a wrong secret and says why in the status', async ({ serviceUrl }) => {
    const b = await startEcdn(serviceUrl, [], 'not-the-secret');
    try {
      const st = await waitFor('failed', async () => {
        const s = (await (await b.api('GET', '/api/v1/status')).json()) as {
          binding: { state: string; message: string };
        };
        return s.binding.state === 'failed' && s;
      });
      expect(st.binding.message).toContain('INVALID_KS');
      expect(st.binding).toMatchObject({ code: 'WRONG_SECRET' });
      expect((await fetch(`${b.admin}/api/v1/health`)).status).toBe(200);
      expect(b.stdout()).not.toContain('not-the-secret');
    } finally {
      await b.stop();
    }
  });

  test('refuses publishes when the service times out (fail closed), and accepts within the grace period when on', async ({
    appliance: a,
    serviceUrl,
  }) => {
    // No 10 s re-authentication skip here, so the service is really asked on the second publish.
    const b = await startEcdn(serviceUrl, ['--auth-grace', '600', '--auth-skip', '0']);
    try {
      const e = '0_cccccccc';
      const ok = publish(url(b, e), { seconds: 4 });
      await waitFor('started', async () => (await channel(b, e))?.state === 'started', 30_000);
      // Accepted is what counts: the encoder can go at once.
      await ok.stop();
      await waitFor('stopped', async () => (await channel(b, e))?.state === 'stopped', 30_000);
      kaltura.delay(3000);
      // Graced: same entry and token within 10 min.
      // The profile call times out too (2 s) before the fallback profile starts: publish long enough.
      const graced = publish(url(b, e), { seconds: 10 });
      await waitFor('started again', async () => (await channel(b, e))?.state === 'started', 30_000);
      await graced.stop();
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
  test('finds the entry partner with liveStream.get and impersonates it; another partner entry is refused', async ({
    serviceUrl,
  }) => {
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
        '--server-node-name',
        'onprem-node.test.example',
      ],
      env: { ECDN_PARTNER_SECRET: 'media-server-secret' },
    });
    try {
      const e = '0_dddddddd';
      const enc = publish(url(b, e), { seconds: 6 });
      await waitFor('started', async () => (await channel(b, e))?.state === 'started', 30_000);
      // Accepted is what counts (the calls below are made before the start): the encoder can go at once.
      await enc.stop();
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
      expect(kaltura.isRegistered('onprem-node.test.example')).toBe(true);
    } finally {
      await b.stop();
    }
    // A clean stop reports the node not operational: Kaltura stops routing to it at once.
    expect(kaltura.node('onprem-node.test.example')?.status).toBe(NODE_STATUS.NOT_OPERATIONAL);
    expect(kaltura.isRegistered('onprem-node.test.example')).toBe(false);
  });

  test('is refused at start without --impersonation on', async ({ serviceUrl }) => {
    await expect(
      startAppliance({
        extraArgs: ['--mode', 'ecdn', '--service-url', serviceUrl, '--partner-id=-5'],
        env: { ECDN_PARTNER_SECRET: 'x' },
      }),
    ).rejects.toThrow(/partner -5 .*needs --impersonation on/);
  });
});

describe('partners not yet set up for eCDN', () => {
  test('without the Hybrid eCDN feature: failed, named, with what to ask Kaltura for', async ({
    serviceUrl,
  }) => {
    const b = await startEcdn(serviceUrl, ['--server-node-name', 'node-104.test.example'], SECRET, 104);
    try {
      const st = await waitFor('failed', async () => {
        const s = await binding(b);
        return s.state === 'failed' && s;
      });
      expect(st.code).toBe('PARTNER_FEATURE_MISSING');
      expect(st.message).toContain("the partner needs Kaltura's Hybrid eCDN feature (FEATURE_HYBRID_ECDN)");
      expect(st.fix).toMatch(/Hybrid eCDN Architecture.*104/);
      // Its node is there (the partner has server nodes), yet every publish is refused by the service.
      expect(st.serverNode).toMatchObject({ name: 'node-104.test.example', state: 'active' });
      const e = '0_ffffffff';
      const r = await publish(url(b, e, `tok-${e}`, 0, 104), { seconds: 3 }).done;
      expect(r.code).not.toBe(0);
      expect(callsOf('liveStream.authenticate').find((c) => c.params.entryId === e)?.outcome).toBe(
        'SERVICE_FORBIDDEN',
      );
      // Refused before the service said anything about the entry: no channel record.
      expect((await b.api('GET', `/api/v1/channels/${e}`)).status).toBe(404);
    } finally {
      await b.stop();
    }
  });

  test('without server nodes: the status says to create the node in the admin console; a missing node is named', async ({
    serviceUrl,
  }) => {
    const name = 'node-105.test.example';
    const b = await startEcdn(serviceUrl, ['--server-node-name', name], SECRET, 105);
    try {
      const st = await waitFor('bound', async () => {
        const s = await binding(b);
        return s.state === 'bound' && s.serverNode?.state === 'unmanaged' && s;
      });
      expect(st.serverNode?.message).toContain('FEATURE_SERVER_NODE');
      expect(st.serverNode?.fix).toContain(
        `Wowza media server node with host name \`${name}\` in the admin console`,
      );
      expect(kaltura.node(name)).toBeUndefined();
      const e = '0_gggggggg';
      const r = await publish(url(b, e, `tok-${e}`, 0, 105), { seconds: 3 }).done;
      expect(r.code).not.toBe(0);
      const failed = await waitFor('failed', async () => {
        const s = await binding(b);
        return s.state === 'failed' && s;
      });
      expect(failed).toMatchObject({ code: 'SERVER_NODE_MISSING' });
      expect(failed.message).toContain(`no media server node named "${name}"`);
      expect(failed.fix).toContain('Server nodes → Add');
      const ev = await waitFor('event', async () =>
        (await eventCodes(b, e)).find((x) => x.code === 'MEDIA_SERVER_NOT_FOUND'),
      );
      expect(ev.message).toContain(`Media server [${name}] not found`);
      // Reported to Kaltura's UI too.
      await waitFor('beacon', async () =>
        kaltura.beacons.some((x) => x.objectId === e && x.privateData.includes('MEDIA_SERVER_NOT_FOUND')),
      );
    } finally {
      await b.stop();
    }
  });
});
