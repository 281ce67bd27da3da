import crypto from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  KalturaApiError,
  KalturaClient,
  KalturaTransportError,
  type KalturaClientConfig,
} from '../../main/partner/kaltura/client.js';
import { decodeKs, generateKs, urlSafeKs } from '../../main/partner/kaltura/ks.js';
import { parseConversionProfile } from '../../main/transcode/conversion-profile.js';
import { FakeKaltura, defaultProfileXml, type FakeEntry } from '../helpers/kaltura-server.js';

const SECRET_102 = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const SECRET_103 = 'ffeeddccbbaa00998877665544332211';
const SECRET_MS = 'mediaserver-5-secret-0123456789ab';
const TOKEN_A = 'tokAAAA1';
const TOKEN_B = 'tokBBBB2';

const ENTRIES: FakeEntry[] = [
  {
    id: '0_aaaaaaaa',
    partnerId: 102,
    token: TOKEN_A,
    name: 'Town hall',
    conversionProfileId: 7,
    recordStatus: 1,
    dvrStatus: 1,
    dvrWindow: 120,
    segmentDuration: 4000,
  },
  { id: '0_bbbbbbbb', partnerId: 103, token: TOKEN_B, name: 'Other partner' },
];
const PARTNERS = [
  { id: 102, adminSecret: SECRET_102, name: 'Acme' },
  { id: 103, adminSecret: SECRET_103, name: 'Other' },
  { id: -5, adminSecret: SECRET_MS, name: 'Media Server' },
];

/** Every error a client produced, checked for secrets at the end. */
const errors: Error[] = [];

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    errors.push(err as Error);
    return err as Error;
  }
  throw new Error('expected the call to fail');
}

let fake: FakeKaltura;
let serviceUrl: string;
/** Every KS any fake saw, for the secrecy check. */
const ksSeen = new Set<string>();

function config(over: Partial<KalturaClientConfig> = {}): KalturaClientConfig {
  return {
    serviceUrl,
    partnerId: 102,
    adminSecret: SECRET_102,
    timeoutMs: 3000,
    hostname: 'ecdn-1.example',
    ...over,
  };
}

function remember(f: FakeKaltura): void {
  for (const c of f.calls) if (typeof c.params.ks === 'string') ksSeen.add(c.params.ks);
}

beforeAll(async () => {
  fake = new FakeKaltura({ partners: PARTNERS, entries: ENTRIES });
  serviceUrl = await fake.start();
});

afterEach(() => {
  remember(fake);
  fake.delay(0);
  fake.now = Date.now;
});

afterAll(async () => {
  await fake.stop();
});

describe('KS v1', () => {
  it('is base64(hex(sha1(secret + info)) | info) with the media server fields', () => {
    const now = Date.UTC(2024, 0, 2, 3, 4, 5, 678);
    const { ks, expiresAt } = generateKs({ partnerId: 102, adminSecret: SECRET_102, now });
    const decoded = Buffer.from(ks, 'base64').toString('utf8');
    const [signature, info] = decoded.split('|') as [string, string];
    const parts = info.split(';');
    const expiry = Math.floor(now / 1000) + 86400;
    expect(parts).toHaveLength(7);
    expect(parts[0]).toBe('102');
    expect(parts[1]).toBe('102');
    expect(parts[2]).toBe(String(expiry));
    expect(parts[3]).toBe('2');
    expect(Number(parts[4])).toBeGreaterThanOrEqual(0);
    expect(Number(parts[4])).toBeLessThanOrEqual(32000);
    expect(Number.isInteger(Number(parts[4]))).toBe(true);
    expect(parts[5]).toBe('MediaServer');
    expect(parts[6]).toBe('disableentitlement,sessionkey:kalturaWowzaPermanentSessionKey');
    expect(signature).toBe(
      crypto
        .createHash('sha1')
        .update(SECRET_102 + info)
        .digest('hex'),
    );
    expect(expiresAt).toBe(expiry * 1000);

    const d = decodeKs(ks);
    expect(d).toEqual({
      signature,
      partnerId: 102,
      expiry,
      type: 2,
      random: Number(parts[4]),
      userId: 'MediaServer',
      privileges: 'disableentitlement,sessionkey:kalturaWowzaPermanentSessionKey',
      info,
    });
    expect(decodeKs(urlSafeKs(ks))).toEqual(d);
  });

  it('honours the options and decodes the documented real example', () => {
    const { ks } = generateKs({
      partnerId: -5,
      adminSecret: 's3cr3t',
      userId: 'u',
      type: 0,
      expirySeconds: 60,
      privileges: 'disableentitlement',
      now: 1_000_000,
    });
    expect(decodeKs(ks)).toMatchObject({ partnerId: -5, expiry: 1060, type: 0, userId: 'u' });
    const real = Buffer.from(
      'e99e0000000000000000000000000000000b6560|-5;-5;1416627949;2;14591;MediaServer;disableentitlement',
    ).toString('base64');
    expect(decodeKs(real)).toMatchObject({
      partnerId: -5,
      expiry: 1416627949,
      type: 2,
      random: 14591,
      userId: 'MediaServer',
      privileges: 'disableentitlement',
    });
  });

  it('refuses what is not a v1 KS', () => {
    expect(() => decodeKs('')).toThrow();
    expect(() => decodeKs('not base64 !')).toThrow();
    expect(() => decodeKs(Buffer.from('no separator').toString('base64'))).toThrow();
    expect(() => decodeKs(Buffer.from('abc|1;1;2;2').toString('base64'))).toThrow();
    expect(() => decodeKs(Buffer.from(`${'a'.repeat(40)}|x;x;1;2`).toString('base64'))).toThrow();
  });

  it('the client KS is an admin session of the bound partner, valid 24 h', () => {
    const now = 1_700_000_000_000;
    const client = new KalturaClient(config(), { now: () => now });
    const d = decodeKs(client.ks());
    expect(d).toMatchObject({ partnerId: 102, type: 2, userId: 'MediaServer', expiry: now / 1000 + 86400 });
    expect(d.signature).toBe(
      crypto
        .createHash('sha1')
        .update(SECRET_102 + d.info)
        .digest('hex'),
    );
  });
});

describe('KS renewal', () => {
  it('regenerates the KS when it is 23 h old, and the service accepts the new one', async () => {
    let clock = 1_700_000_000_000;
    fake.now = () => clock;
    const client = new KalturaClient(config(), { now: () => clock });
    const ks1 = client.ks();
    await client.authenticate('0_aaaaaaaa', TOKEN_A, 0);
    clock += 23 * 3600_000 - 1;
    expect(client.ks()).toBe(ks1);
    clock += 1;
    const ks2 = client.ks();
    expect(ks2).not.toBe(ks1);
    expect(decodeKs(ks2).expiry).toBe(clock / 1000 + 86400);
    // 23 h 30 min on, the first KS would still be valid for 30 min, but the new one is used.
    clock += 30 * 60_000;
    await client.authenticate('0_aaaaaaaa', TOKEN_A, 0);
    expect(fake.calls.at(-1)).toMatchObject({ outcome: 'ok' });
    expect(fake.calls.at(-1)?.params.ks).toBe(ks2);
  });

  it('regenerates immediately after INVALID_KS and retries once, transparently', async () => {
    const client = new KalturaClient(config());
    await client.authenticate('0_aaaaaaaa', TOKEN_A, 0);
    const ks1 = client.ks();
    fake.revokeSessionsBefore(fake.now());
    const before = fake.calls.length;
    const entry = await client.authenticate('0_aaaaaaaa', TOKEN_A, 1);
    expect(entry.id).toBe('0_aaaaaaaa');
    const calls = fake.calls.slice(before);
    expect(calls.map((c) => c.outcome)).toEqual(['INVALID_KS', 'ok']);
    expect(calls[0]?.params.ks).toBe(ks1);
    expect(calls[1]?.params.ks).not.toBe(ks1);
    expect(calls[1]?.params.ks).toBe(client.ks());
  });

  it('regenerates after EXPIRED_KS and retries once', async () => {
    const client = new KalturaClient(config());
    const ks1 = client.ks();
    fake.failNext('authenticate', 'EXPIRED_KS', 1);
    const before = fake.calls.length;
    await client.authenticate('0_aaaaaaaa', TOKEN_A, 0);
    const calls = fake.calls.slice(before);
    expect(calls.map((c) => c.outcome)).toEqual(['EXPIRED_KS', 'ok']);
    expect(calls[1]?.params.ks).not.toBe(ks1);
  });

  it('a second INVALID_KS surfaces (one retry only)', async () => {
    const client = new KalturaClient(config());
    fake.failNext('liveStream.authenticate', 'INVALID_KS', 2);
    const before = fake.calls.length;
    const err = await failure(client.authenticate('0_aaaaaaaa', TOKEN_A, 0));
    expect(err).toBeInstanceOf(KalturaApiError);
    expect((err as KalturaApiError).code).toBe('INVALID_KS');
    expect((err as KalturaApiError).objectType).toBe('KalturaAPIException');
    expect(fake.calls.slice(before).map((c) => c.outcome)).toEqual(['INVALID_KS', 'INVALID_KS']);
  });

  it('a KS the service finds expired (clocks apart) surfaces EXPIRED_KS after one retry', async () => {
    const clock = 1_700_000_000_000;
    fake.now = () => clock + 25 * 3600_000;
    const client = new KalturaClient(config(), { now: () => clock });
    const before = fake.calls.length;
    const err = await failure(client.getEntry('0_aaaaaaaa'));
    expect((err as KalturaApiError).code).toBe('EXPIRED_KS');
    expect(fake.calls.slice(before).map((c) => c.outcome)).toEqual(['EXPIRED_KS', 'EXPIRED_KS']);
  });
});

describe('liveStream.authenticate', () => {
  it('answers the entry and sends exactly the media server parameters', async () => {
    const client = new KalturaClient(config({ clientTag: 'ecdn-appliance:test' }));
    const before = fake.calls.length;
    const entry = await client.authenticate('0_aaaaaaaa', TOKEN_A, 1);
    expect(entry).toMatchObject({
      objectType: 'KalturaLiveStreamEntry',
      id: '0_aaaaaaaa',
      name: 'Town hall',
      partnerId: 102,
      conversionProfileId: 7,
      recordStatus: 1,
      dvrStatus: 1,
      dvrWindow: 120,
      segmentDuration: 4000,
    });
    const [call] = fake.calls.slice(before);
    expect(call).toMatchObject({
      service: 'liveStream',
      action: 'authenticate',
      ksPartnerId: 102,
      outcome: 'ok',
    });
    const { ks, ...rest } = call?.params ?? {};
    expect(typeof ks).toBe('string');
    expect(rest).toEqual({
      entryId: '0_aaaaaaaa',
      token: TOKEN_A,
      hostname: 'ecdn-1.example',
      mediaServerIndex: 1,
      applicationName: 'kLive',
      format: 1,
      clientTag: 'ecdn-appliance:test',
      apiVersion: '3.3.0',
    });
  });

  it('the default clientTag names the appliance version', async () => {
    const client = new KalturaClient(config());
    const before = fake.calls.length;
    await client.getEntry('0_aaaaaaaa');
    expect(fake.calls[before]?.params.clientTag).toMatch(/^ecdn-appliance:\d+\.\d+\.\d+/);
  });

  it('a wrong token is LIVE_STREAM_INVALID_TOKEN with the service message', async () => {
    const client = new KalturaClient(config());
    const err = await failure(client.authenticate('0_aaaaaaaa', 'wrongtok', 0));
    expect(err).toBeInstanceOf(KalturaApiError);
    expect(err).toMatchObject({
      code: 'LIVE_STREAM_INVALID_TOKEN',
      message: 'Invalid token supplied for live entry [0_aaaaaaaa]',
      args: { ENTRY_ID: '0_aaaaaaaa' },
    });
  });

  it('an unknown entry is ENTRY_ID_NOT_FOUND', async () => {
    const client = new KalturaClient(config());
    const err = await failure(client.authenticate('0_zzzzzzzz', TOKEN_A, 0));
    expect(err).toMatchObject({
      code: 'ENTRY_ID_NOT_FOUND',
      message: 'Entry id "0_zzzzzzzz" not found',
      args: { ENTRY_ID: '0_zzzzzzzz' },
    });
  });

  it("another partner's entry is invisible (ENTRY_ID_NOT_FOUND), even with its token", async () => {
    const client = new KalturaClient(config());
    const err = await failure(client.authenticate('0_bbbbbbbb', TOKEN_B, 0));
    expect(err).toMatchObject({ code: 'ENTRY_ID_NOT_FOUND' });
  });
});

describe('impersonation', () => {
  it('is refused in eCDN mode, and never sent unless asked for', async () => {
    const client = new KalturaClient(config());
    const before = fake.calls.length;
    await client.authenticate('0_aaaaaaaa', TOKEN_A, 0);
    await client.getEntry('0_aaaaaaaa');
    await client.registerMediaServer('0_aaaaaaaa', 0, 2);
    await client.unregisterMediaServer('0_aaaaaaaa', 0);
    await client.verifyBinding();
    await client.conversionProfile('0_aaaaaaaa_1', { height: 720 });
    // Even a caller passing partnerId through call() does not impersonate.
    await client.call('liveStream', 'get', { entryId: '0_aaaaaaaa', partnerId: 103 });
    for (const c of fake.calls.slice(before)) {
      expect(c.outcome).toBe('ok');
      expect(c.params).not.toHaveProperty('partnerId');
    }

    const err = await failure(client.authenticate('0_bbbbbbbb', TOKEN_B, 0, { impersonate: 103 }));
    expect(err).toMatchObject({ code: 'SERVICE_FORBIDDEN' });
    expect(fake.calls.at(-1)?.params.partnerId).toBe(103);
  });

  it('works for the media server partner (-5): liveStream.get finds the partner, then impersonates it', async () => {
    const client = new KalturaClient(config({ partnerId: -5, adminSecret: SECRET_MS }));
    const entry = await client.getEntry('0_bbbbbbbb');
    expect(entry.partnerId).toBe(103);
    const before = fake.calls.length;
    await client.authenticate('0_bbbbbbbb', TOKEN_B, 0, { impersonate: entry.partnerId });
    await client.registerMediaServer('0_bbbbbbbb', 0, 2, { impersonate: 103 });
    for (const c of fake.calls.slice(before)) {
      expect(c).toMatchObject({ ksPartnerId: -5, outcome: 'ok' });
      expect(c.params.partnerId).toBe(103);
    }
    // Impersonating partner 102 hides partner 103's entry.
    const err = await failure(client.authenticate('0_bbbbbbbb', TOKEN_B, 0, { impersonate: 102 }));
    expect(err).toMatchObject({ code: 'ENTRY_ID_NOT_FOUND' });
  });
});

describe('transport', () => {
  it('a service slower than timeoutMs is a timeout, within about timeoutMs', async () => {
    fake.delay(2000);
    const client = new KalturaClient(config({ timeoutMs: 300 }));
    const started = performance.now();
    const err = await failure(client.authenticate('0_aaaaaaaa', TOKEN_A, 0));
    const elapsed = performance.now() - started;
    expect(err).toBeInstanceOf(KalturaTransportError);
    expect((err as KalturaTransportError).kind).toBe('timeout');
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(1200);
    const err2 = await failure(client.conversionProfile('0_aaaaaaaa_1', {}));
    expect((err2 as KalturaTransportError).kind).toBe('timeout');
  });

  it('a refused connection is a network error', async () => {
    const gone = new FakeKaltura({ partners: PARTNERS, entries: ENTRIES });
    const url = await gone.start();
    await gone.stop();
    const client = new KalturaClient(config({ serviceUrl: url }));
    const err = await failure(client.verifyBinding());
    expect(err).toBeInstanceOf(KalturaTransportError);
    expect((err as KalturaTransportError).kind).toBe('network');
    expect(err.message).toMatch(/ECONNREFUSED/);
  });

  it('a non-2xx answer is an http error with the status; an unparsable body is a parse error', async () => {
    const http = new KalturaClient(config(), {
      fetch: async () => new Response('<html>Bad gateway</html>', { status: 502 }),
    });
    const err = await failure(http.getEntry('0_aaaaaaaa'));
    expect(err).toMatchObject({ kind: 'http', status: 502 });

    const garbage = new KalturaClient(config(), {
      fetch: async () => new Response('this is not json', { status: 200 }),
    });
    expect(await failure(garbage.getEntry('0_aaaaaaaa'))).toMatchObject({ kind: 'parse' });
    expect(await failure(garbage.conversionProfile('0_aaaaaaaa_1', {}))).toMatchObject({ kind: 'parse' });

    const notEntry = new KalturaClient(config(), {
      fetch: async () => Response.json({ objectType: 'KalturaPartner', id: 102 }),
    });
    expect(await failure(notEntry.getEntry('0_aaaaaaaa'))).toMatchObject({ kind: 'parse' });
  });
});

describe('registerMediaServer / unregisterMediaServer', () => {
  it('send the entry, host, index, application and status (BROADCASTING then PLAYABLE)', async () => {
    const client = new KalturaClient(config());
    const before = fake.calls.length;
    await client.registerMediaServer('0_aaaaaaaa', 1, 2);
    await client.registerMediaServer('0_aaaaaaaa', 1, 1);
    await client.unregisterMediaServer('0_aaaaaaaa', 1);
    const calls = fake.calls.slice(before);
    expect(calls.map((c) => [c.action, c.outcome])).toEqual([
      ['registerMediaServer', 'ok'],
      ['registerMediaServer', 'ok'],
      ['unregisterMediaServer', 'ok'],
    ]);
    const strip = (p: Record<string, unknown> | undefined): Record<string, unknown> => {
      const { ks: _ks, clientTag: _tag, apiVersion: _v, format: _f, ...rest } = p ?? {};
      return rest;
    };
    expect(strip(calls[0]?.params)).toEqual({
      entryId: '0_aaaaaaaa',
      hostname: 'ecdn-1.example',
      mediaServerIndex: 1,
      applicationName: 'kLive',
      liveEntryStatus: 2,
    });
    expect(strip(calls[1]?.params)).toMatchObject({ liveEntryStatus: 1 });
    expect(strip(calls[2]?.params)).toEqual({
      entryId: '0_aaaaaaaa',
      hostname: 'ecdn-1.example',
      mediaServerIndex: 1,
    });
  });

  it("another partner's entry cannot be registered", async () => {
    const client = new KalturaClient(config());
    expect(await failure(client.registerMediaServer('0_bbbbbbbb', 0, 2))).toMatchObject({
      code: 'ENTRY_ID_NOT_FOUND',
    });
  });
});

describe('conversion profile', () => {
  const metadata = {
    videocodecidstring: 'H264/AVC (test)',
    audiocodecidstring: 'AAC',
    width: 854,
    height: 480,
    framerate: 29.97,
    videodatarate: 1500,
    audiodatarate: 128,
  };

  it('is served by wowza_liveConversionProfile, the extraParams JSON arriving intact', async () => {
    const seen: Array<Record<string, unknown>> = [];
    const f = new FakeKaltura({
      partners: PARTNERS,
      entries: ENTRIES,
      profileXml: (name, extra, entry) => {
        seen.push(extra);
        return defaultProfileXml(name, extra, entry);
      },
    });
    const url = await f.start();
    try {
      const client = new KalturaClient(config({ serviceUrl: url }));
      const xml = await client.conversionProfile('0_aaaaaaaa_1', metadata);
      expect(seen).toEqual([metadata]);
      expect(f.calls).toHaveLength(1);
      expect(f.calls[0]).toMatchObject({
        service: 'wowza_liveConversionProfile',
        action: 'serve',
        ksPartnerId: 102,
        outcome: 'ok',
      });
      expect(f.calls[0]?.params).toMatchObject({ streamName: '0_aaaaaaaa_1', f: 'transcode.xml' });
      expect(JSON.parse(String(f.calls[0]?.params.extraParams))).toEqual(metadata);
      const profile = parseConversionProfile(xml);
      expect(profile.encodes.map((e) => e.name)).toEqual(['source', '35']);
      expect(profile.encodes[0]?.video.codec).toBe('PassThru');
      expect(profile.encodes[1]?.video).toMatchObject({ codec: 'H.264', bitrate: 900_000 });
      expect(profile.groups).toEqual([{ name: 'all', members: ['source', '35'] }]);

      // Without a height every rendition is there.
      const full = parseConversionProfile(await client.conversionProfile('0_aaaaaaaa_1', {}));
      expect(full.encodes.map((e) => e.name)).toEqual(['source', '33', '35']);
      remember(f);
    } finally {
      await f.stop();
    }
  });

  it('falls back to wowza_liveStreamConversionProfile where only that one exists, and stays with it', async () => {
    const f = new FakeKaltura({
      partners: PARTNERS,
      entries: ENTRIES,
      conversionProfileServiceName: 'wowza_liveStreamConversionProfile',
    });
    const url = await f.start();
    try {
      const client = new KalturaClient(config({ serviceUrl: url }));
      const xml = await client.conversionProfile('0_aaaaaaaa_1', metadata);
      expect(parseConversionProfile(xml).encodes.length).toBe(2);
      expect(f.calls.map((c) => [c.service, c.outcome])).toEqual([
        ['wowza_liveConversionProfile', 'SERVICE_DOES_NOT_EXISTS'],
        ['wowza_liveStreamConversionProfile', 'ok'],
      ]);
      expect(JSON.parse(String(f.calls[1]?.params.extraParams))).toEqual(metadata);
      await client.conversionProfile('0_aaaaaaaa_1', metadata);
      expect(f.calls.at(-1)).toMatchObject({ service: 'wowza_liveStreamConversionProfile', outcome: 'ok' });
      expect(f.calls).toHaveLength(3);
      remember(f);
    } finally {
      await f.stop();
    }
  });

  it('an exception answered as XML becomes a KalturaApiError', async () => {
    const client = new KalturaClient(config());
    // The raw answer really is the XML exception form.
    const raw = await fetch(
      `${serviceUrl}/api_v3/index.php/service/wowza_liveConversionProfile/action/serve/streamName/0_zzzzzzzz_1/f/transcode.xml/ks/${urlSafeKs(client.ks())}`,
    );
    const text = await raw.text();
    expect(raw.status).toBe(200);
    expect(text).toMatch(
      /<xml><result><error>.*<code>ENTRY_ID_NOT_FOUND<\/code><message>Entry id &quot;0_zzzzzzzz&quot; not found<\/message>/,
    );

    const err = await failure(client.conversionProfile('0_zzzzzzzz_1', { height: 720 }));
    expect(err).toBeInstanceOf(KalturaApiError);
    expect(err).toMatchObject({
      code: 'ENTRY_ID_NOT_FOUND',
      message: 'Entry id "0_zzzzzzzz" not found',
      args: { ENTRY_ID: '0_zzzzzzzz' },
    });
    // Another partner's entry is not served either.
    expect(await failure(client.conversionProfile('0_bbbbbbbb_1', {}))).toMatchObject({
      code: 'ENTRY_ID_NOT_FOUND',
    });
  });

  it('a revoked KS on the profile path is renewed once', async () => {
    const client = new KalturaClient(config());
    await client.conversionProfile('0_aaaaaaaa_1', {});
    fake.revokeSessionsBefore(fake.now());
    const before = fake.calls.length;
    await client.conversionProfile('0_aaaaaaaa_1', {});
    expect(fake.calls.slice(before).map((c) => c.outcome)).toEqual(['INVALID_KS', 'ok']);
  });
});

describe('verifyBinding', () => {
  it('answers the partner for the right secret', async () => {
    const client = new KalturaClient(config());
    expect(await client.verifyBinding()).toEqual({ partnerId: 102, name: 'Acme' });
    expect(fake.calls.at(-1)).toMatchObject({ service: 'partner', action: 'getInfo', outcome: 'ok' });
  });

  it('a wrong secret is INVALID_KS (after one renewal), with no secret in the message', async () => {
    const wrong = 'wrong-secret-0123456789abcdef';
    const client = new KalturaClient(config({ adminSecret: wrong }));
    const before = fake.calls.length;
    const err = await failure(client.verifyBinding());
    expect(err).toBeInstanceOf(KalturaApiError);
    expect((err as KalturaApiError).code).toBe('INVALID_KS');
    expect(fake.calls.slice(before).map((c) => c.outcome)).toEqual(['INVALID_KS', 'INVALID_KS']);
    const text = `${err.message} ${JSON.stringify((err as KalturaApiError).args)} ${err.stack ?? ''}`;
    expect(text).not.toContain(wrong);
    expect(text).not.toContain(client.ks());
    // The service's message did quote the KS; the client redacted it.
    expect(err.message).toContain('[redacted]');
  });

  it('a wrong service URL is a transport error', async () => {
    const client = new KalturaClient(config({ serviceUrl: `${serviceUrl}/nowhere` }));
    expect(await failure(client.verifyBinding())).toMatchObject({ kind: 'http', status: 404 });
  });
});

describe('the fake service checks what the real one checks', () => {
  const post = async (path: string, body: string, type: string): Promise<string> => {
    const res = await fetch(`${serviceUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': type },
      body,
    });
    return res.text();
  };

  it('form-encoded bodies, MISSING_KS, MISSING_MANDATORY_PARAMETER, type and format', async () => {
    const { ks } = generateKs({ partnerId: 102, adminSecret: SECRET_102 });
    const ok = JSON.parse(
      await post(
        '/api_v3/service/liveStream/action/authenticate',
        new URLSearchParams({ ks, format: '1', entryId: '0_aaaaaaaa', token: TOKEN_A }).toString(),
        'application/x-www-form-urlencoded',
      ),
    ) as Record<string, unknown>;
    expect(ok).toMatchObject({ objectType: 'KalturaLiveStreamEntry', id: '0_aaaaaaaa' });
    expect(Object.values(ok)).not.toContain(null);

    const missingKs = JSON.parse(
      await post(
        '/api_v3/service/liveStream/action/get',
        JSON.stringify({ format: 1, entryId: 'x' }),
        'application/json',
      ),
    ) as Record<string, unknown>;
    expect(missingKs).toMatchObject({ code: 'MISSING_KS', objectType: 'KalturaAPIException' });

    const missingParam = JSON.parse(
      await post(
        '/api_v3/service/liveStream/action/registerMediaServer',
        JSON.stringify({ ks, format: 1, entryId: '0_aaaaaaaa', hostname: 'h', mediaServerIndex: 0 }),
        'application/json',
      ),
    ) as Record<string, unknown>;
    expect(missingParam).toMatchObject({
      code: 'MISSING_MANDATORY_PARAMETER',
      args: { PARAM_NAME: 'liveEntryStatus' },
    });

    const userKs = generateKs({ partnerId: 102, adminSecret: SECRET_102, type: 0 }).ks;
    const forbidden = JSON.parse(
      await post(
        '/api_v3/service/partner/action/getInfo',
        JSON.stringify({ ks: userKs, format: 1 }),
        'application/json',
      ),
    ) as Record<string, unknown>;
    expect(forbidden).toMatchObject({ code: 'SERVICE_FORBIDDEN' });

    const xml = await post(
      '/api_v3/service/liveStream/action/authenticate',
      new URLSearchParams({ ks, format: '2', entryId: '0_aaaaaaaa', token: 'nope' }).toString(),
      'application/x-www-form-urlencoded',
    );
    expect(xml).toMatch(/<xml><result><error>.*<code>LIVE_STREAM_INVALID_TOKEN<\/code>/);
    expect(xml).toContain('<message>Invalid token supplied for live entry [0_aaaaaaaa]</message>');

    const forged = Buffer.from(
      `${'0'.repeat(40)}|102;102;${Math.floor(Date.now() / 1000) + 3600};2;1;MediaServer;`,
    ).toString('base64');
    const invalid = JSON.parse(
      await post(
        '/api_v3/service/partner/action/getInfo',
        JSON.stringify({ ks: forged, format: 1 }),
        'application/json',
      ),
    ) as Record<string, unknown>;
    expect(invalid).toMatchObject({ code: 'INVALID_KS' });
  });
});

describe('secrecy', () => {
  it('no error message contains the admin secret, a KS or a token', () => {
    expect(errors.length).toBeGreaterThan(10);
    const forbidden = [SECRET_102, SECRET_103, SECRET_MS, TOKEN_A, TOKEN_B, 'wrongtok'];
    for (const ks of ksSeen) forbidden.push(ks, urlSafeKs(ks), Buffer.from(ks, 'base64').toString('utf8'));
    for (const err of errors) {
      const text = `${err.message} ${JSON.stringify((err as Partial<KalturaApiError>).args ?? {})}`;
      for (const s of forbidden) expect(text).not.toContain(s);
    }
  });
});
