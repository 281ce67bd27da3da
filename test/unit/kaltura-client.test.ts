import crypto from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  KalturaApiError,
  KalturaClient,
  KalturaTransportError,
  serviceUrlProblem,
  type KalturaClientConfig,
} from '../../main/partner/kaltura/client.js';
import { decodeKs, generateKs, urlSafeKs } from '../../main/partner/kaltura/ks.js';
import { parseConversionProfile } from '../../main/transcode/conversion-profile.js';
import {
  ECDN_FEATURES,
  FakeKaltura,
  FEATURE_HYBRID_ECDN,
  FEATURE_SERVER_NODE,
  NODE_STATUS,
  SERVER_NODE_TTL_MS,
  defaultProfileXml,
  type FakeEntry,
} from '../helpers/kaltura-server.js';

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
  { id: 102, adminSecret: SECRET_102, name: 'Acme', features: ECDN_FEATURES },
  { id: 103, adminSecret: SECRET_103, name: 'Other', features: ECDN_FEATURES },
  { id: -5, adminSecret: SECRET_MS, name: 'Media Server', features: ECDN_FEATURES },
];
const NODE = 'ecdn-1.example';
/** The media server node of the appliance, as created in the admin console. */
const NODES = [{ hostName: NODE, partnerId: 102 }];

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
    serverNodeName: NODE,
    ...over,
  };
}

function remember(f: FakeKaltura): void {
  for (const c of f.calls) if (typeof c.params.ks === 'string') ksSeen.add(c.params.ks);
}

beforeAll(async () => {
  fake = new FakeKaltura({ partners: PARTNERS, entries: ENTRIES, serverNodes: NODES });
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

  it('an expired KS is INVALID_KS (-5, EXPIRED): regenerated and retried once', async () => {
    let clock = 1_700_000_000_000;
    const client = new KalturaClient(config(), { now: () => clock });
    const ks1 = client.ks();
    // The service's clock is 25 h on; the client's catches up after the refusal.
    const serviceTime = clock + 25 * 3600_000;
    fake.now = () => serviceTime;
    const before = fake.calls.length;
    const err = await failure(client.getEntry('0_aaaaaaaa'));
    expect(err).toMatchObject({ code: 'INVALID_KS', args: { ERR_CODE: '-5', ERR_DESC: 'EXPIRED' } });
    clock += 25 * 3600_000;
    await client.getEntry('0_aaaaaaaa');
    const calls = fake.calls.slice(before);
    expect(calls.map((c) => c.outcome)).toEqual(['INVALID_KS', 'INVALID_KS', 'ok']);
    expect(calls[2]?.params.ks).not.toBe(ks1);
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
      hostname: NODE,
      mediaServerIndex: '1',
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
      hostname: NODE,
      mediaServerIndex: '1',
      applicationName: 'kLive',
      liveEntryStatus: 2,
      shouldCreateRecordedEntry: false,
    });
    expect(strip(calls[1]?.params)).toMatchObject({ liveEntryStatus: 1 });
    expect(strip(calls[2]?.params)).toEqual({
      entryId: '0_aaaaaaaa',
      hostname: NODE,
      mediaServerIndex: '1',
    });
    // The entry records every session (recordStatus 1), yet no Kaltura recorded entry was made.
    expect(fake.recordedEntries).toEqual([]);
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

  it('a serve exception is an empty 200 whose X-Kaltura headers the client reads', async () => {
    const client = new KalturaClient(config());
    // The raw answer really has no body: kRendererDieError's headers carry the code and the message.
    const raw = await fetch(
      `${serviceUrl}/api_v3/index.php/service/wowza_liveConversionProfile/action/serve/streamName/0_zzzzzzzz_1/f/transcode.xml/ks/${urlSafeKs(client.ks())}`,
    );
    expect(raw.status).toBe(200);
    expect(await raw.text()).toBe('');
    expect(raw.headers.get('x-kaltura')).toBe('error- ENTRY_ID_NOT_FOUND');
    expect(raw.headers.get('x-kaltura-app')).toBe(
      'exiting on error ENTRY_ID_NOT_FOUND - Entry id "0_zzzzzzzz" not found',
    );

    const err = await failure(client.conversionProfile('0_zzzzzzzz_1', { height: 720 }));
    expect(err).toBeInstanceOf(KalturaApiError);
    expect(err).toMatchObject({ code: 'ENTRY_ID_NOT_FOUND', message: 'Entry id "0_zzzzzzzz" not found' });
    // Another partner's entry is not served either.
    expect(await failure(client.conversionProfile('0_bbbbbbbb_1', {}))).toMatchObject({
      code: 'ENTRY_ID_NOT_FOUND',
    });
    fake.failNext('serve', 'INGEST_NOT_FOUND_IN_CONVERSION_PROFILE');
    expect(await failure(client.conversionProfile('0_aaaaaaaa_1', {}))).toMatchObject({
      code: 'INGEST_NOT_FOUND_IN_CONVERSION_PROFILE',
      message: 'Ingest [0_aaaaaaaa_1] not found in conversion profile',
    });
    // An empty body without the headers is no profile either.
    const empty = new KalturaClient(config(), { fetch: async () => new Response('', { status: 200 }) });
    expect(await failure(empty.conversionProfile('0_aaaaaaaa_1', {}))).toMatchObject({
      kind: 'parse',
      message: expect.stringContaining('empty'),
    });
  });

  it('an exception before the action (a bad KS) is the usual XML error, even from serve', async () => {
    const forged = Buffer.from(
      `${'0'.repeat(40)}|102;102;${Math.floor(Date.now() / 1000) + 3600};2;1;MediaServer;`,
    ).toString('base64');
    const raw = await fetch(
      `${serviceUrl}/api_v3/index.php/service/wowza_liveConversionProfile/action/serve/streamName/0_aaaaaaaa_1/f/transcode.xml/ks/${urlSafeKs(forged)}`,
    );
    expect(await raw.text()).toMatch(/<xml><result><error>.*<code>INVALID_KS<\/code>/);
    expect(raw.headers.get('x-kaltura')).toBeNull();
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
        JSON.stringify({ ks, format: 1, entryId: '0_aaaaaaaa', mediaServerIndex: '0' }),
        'application/json',
      ),
    ) as Record<string, unknown>;
    expect(missingParam).toMatchObject({
      code: 'MISSING_MANDATORY_PARAMETER',
      args: { PARAM_NAME: 'hostname' },
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

describe('what a real server checks (the double applies kaltura/server rules)', () => {
  /** A fresh double: features and nodes per test. */
  async function withFake(
    over: { features?: readonly string[]; nodes?: typeof NODES },
    body: (f: FakeKaltura, client: KalturaClient, url: string) => Promise<void>,
  ): Promise<void> {
    const f = new FakeKaltura({
      partners: PARTNERS.map((p) => (p.id === 102 ? { ...p, features: over.features ?? ECDN_FEATURES } : p)),
      entries: ENTRIES,
      serverNodes: over.nodes ?? [],
    });
    const url = await f.start();
    try {
      await body(f, new KalturaClient(config({ serviceUrl: url })), url);
      remember(f);
    } finally {
      await f.stop();
    }
  }

  it('without FEATURE_HYBRID_ECDN, authenticate/register/unregister are SERVICE_FORBIDDEN; getInfo still works', async () => {
    await withFake({ features: [FEATURE_SERVER_NODE], nodes: NODES }, async (f, client) => {
      expect(await client.verifyBinding()).toEqual({ partnerId: 102, name: 'Acme' });
      for (const p of [
        client.authenticate('0_aaaaaaaa', TOKEN_A, 0),
        client.registerMediaServer('0_aaaaaaaa', 0, 2),
        client.unregisterMediaServer('0_aaaaaaaa', 0),
        client.probeLiveAccess(),
      ]) {
        expect(await failure(p)).toMatchObject({
          code: 'SERVICE_FORBIDDEN',
          message: expect.stringMatching(/^The access to service \[livestream->\w+\] is forbidden$/),
        });
      }
      f.setFeature(102, FEATURE_HYBRID_ECDN, true);
      await client.probeLiveAccess();
      expect(f.calls.at(-1)).toMatchObject({
        outcome: 'ENTRY_ID_NOT_FOUND',
        params: { entryId: 'ecdn-binding-probe' },
      });
      expect(f.calls.at(-1)?.params).not.toHaveProperty('hostname');
    });
  });

  it('authenticate with a host name needs a media server node of that name: MEDIA_SERVER_NOT_FOUND', async () => {
    await withFake({ nodes: [] }, async (f, client) => {
      expect(await failure(client.authenticate('0_aaaaaaaa', TOKEN_A, 0))).toMatchObject({
        code: 'MEDIA_SERVER_NOT_FOUND',
        message: `Media server [${NODE}] not found`,
      });
      expect(await failure(client.registerMediaServer('0_aaaaaaaa', 0, 2))).toMatchObject({
        code: 'MEDIA_SERVER_NOT_FOUND',
      });
      expect(await failure(client.unregisterMediaServer('0_aaaaaaaa', 0))).toMatchObject({
        code: 'SERVER_NODE_NOT_FOUND',
      });
      // An edge node of that name is no media server; a disabled media server node is not found either.
      f.addServerNode({ hostName: NODE, partnerId: 102, type: 'edge' });
      expect(await failure(client.authenticate('0_aaaaaaaa', TOKEN_A, 0))).toMatchObject({
        code: 'MEDIA_SERVER_NOT_FOUND',
      });
      const node = f.addServerNode({ hostName: NODE, partnerId: 102, status: NODE_STATUS.DISABLED });
      expect(await failure(client.authenticate('0_aaaaaaaa', TOKEN_A, 0))).toMatchObject({
        code: 'MEDIA_SERVER_NOT_FOUND',
      });
      node.status = NODE_STATUS.ACTIVE;
      expect((await client.authenticate('0_aaaaaaaa', TOKEN_A, 0)).id).toBe('0_aaaaaaaa');
      // Unregistering what was never registered is ENTRY_SERVER_NODE_NOT_FOUND (index 1 here).
      expect(await failure(client.unregisterMediaServer('0_aaaaaaaa', 1))).toMatchObject({
        code: 'ENTRY_SERVER_NODE_NOT_FOUND',
      });
    });
  });

  it('serverNode.reportStatus creates the node, keeps its heartbeat, and reports it not operational', async () => {
    await withFake({ nodes: [] }, async (f, client, url) => {
      let clock = Date.now();
      f.now = () => clock;
      const obj = { objectType: 'KalturaWowzaMediaServerNode', hostName: NODE, name: NODE };
      // Without the object there is nothing to create.
      expect(await failure(client.reportServerNodeStatus(NODE, undefined, 1))).toMatchObject({
        code: 'SERVER_NODE_NOT_FOUND',
      });
      const created = await client.reportServerNodeStatus(NODE, obj, 1);
      expect(created).toMatchObject({ status: NODE_STATUS.ACTIVE });
      expect(f.serverNodes).toHaveLength(1);
      expect(f.isRegistered(NODE)).toBe(true);
      clock += SERVER_NODE_TTL_MS - 1;
      expect(f.isRegistered(NODE)).toBe(true);
      clock += 1;
      expect(f.isRegistered(NODE)).toBe(false);
      // The next heartbeat finds the same node (no second one).
      expect(await client.reportServerNodeStatus(NODE, obj, 1)).toMatchObject({ id: created.id });
      expect(f.serverNodes).toHaveLength(1);
      expect(f.isRegistered(NODE)).toBe(true);
      // Authenticate now finds it.
      expect((await client.authenticate('0_aaaaaaaa', TOKEN_A, 0)).id).toBe('0_aaaaaaaa');
      await client.reportServerNodeStatus(NODE, undefined, 5);
      expect(f.node(NODE)?.status).toBe(NODE_STATUS.NOT_OPERATIONAL);
      expect(f.isRegistered(NODE)).toBe(false);
      // Another partner cannot take that host name.
      const other = new KalturaClient(config({ serviceUrl: url, partnerId: 103, adminSecret: SECRET_103 }));
      expect(await failure(other.reportServerNodeStatus(NODE, obj, 1))).toMatchObject({
        code: 'HOST_NAME_ALREADY_EXISTS',
      });
    });
  });

  it('serverNode needs FEATURE_SERVER_NODE', async () => {
    await withFake({ features: [FEATURE_HYBRID_ECDN] }, async (_f, client) => {
      const obj = { objectType: 'KalturaWowzaMediaServerNode', hostName: NODE, name: NODE };
      expect(await failure(client.reportServerNodeStatus(NODE, obj, 1))).toMatchObject({
        code: 'SERVICE_FORBIDDEN',
        message: 'The access to service [servernode->reportstatus] is forbidden',
      });
    });
  });

  it('registerMediaServer creates a recorded entry unless told not to (shouldCreateRecordedEntry)', async () => {
    await withFake({ nodes: NODES }, async (f, client) => {
      await client.registerMediaServer('0_aaaaaaaa', 0, 2);
      expect(f.recordedEntries).toEqual([]);
      expect(f.entryServerNodes.get('0_aaaaaaaa/0')).toEqual({ hostName: NODE, status: 2 });
      // What the Kaltura media server's older clients do: the default, true.
      await client.call('liveStream', 'registerMediaServer', {
        entryId: '0_aaaaaaaa',
        hostname: NODE,
        mediaServerIndex: '0',
        liveEntryStatus: 2,
      });
      expect(f.recordedEntries).toHaveLength(1);
      expect(f.recordedEntries[0]).toMatchObject({ rootEntryId: '0_aaaaaaaa', partnerId: 102 });
    });
  });

  it('a JSON body is read only with Content-Type application/json exactly; the URL overrides the body', async () => {
    const { ks } = generateKs({ partnerId: 102, adminSecret: SECRET_102 });
    const body = JSON.stringify({ ks, format: 1, entryId: '0_aaaaaaaa' });
    const get = (type: string, query = '') =>
      fetch(`${serviceUrl}/api_v3/service/liveStream/action/get${query}`, {
        method: 'POST',
        headers: { 'content-type': type },
        body,
      }).then((r) => r.text());
    expect(JSON.parse(await get('application/json'))).toMatchObject({ id: '0_aaaaaaaa' });
    expect(JSON.parse(await get('Application/JSON'))).toMatchObject({ id: '0_aaaaaaaa' });
    // Not read at all: no KS, and no format=1 either (so the XML form).
    expect(await get('application/json; charset=utf-8')).toContain('<code>MISSING_KS</code>');
    expect(await get('text/plain')).toContain('<code>MISSING_KS</code>');
    expect(JSON.parse(await get('application/json', '?entryId=0_zzzzzzzz'))).toMatchObject({
      code: 'ENTRY_ID_NOT_FOUND',
    });
  });

  it('compares the KS signature in lower case, exactly', async () => {
    const { ks } = generateKs({ partnerId: 102, adminSecret: SECRET_102 });
    const [sig, info] = Buffer.from(ks, 'base64').toString('utf8').split('|') as [string, string];
    const upper = Buffer.from(`${sig.toUpperCase()}|${info}`).toString('base64');
    const ask = (k: string) =>
      fetch(`${serviceUrl}/api_v3/service/partner/action/getInfo`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ks: k, format: 1 }),
      }).then((r) => r.json() as Promise<Record<string, unknown>>);
    expect(await ask(ks)).toMatchObject({ id: 102 });
    expect(await ask(upper)).toMatchObject({ code: 'INVALID_KS', args: { ERR_CODE: '-1' } });
  });

  it('beacon.add stores an entry health beacon', async () => {
    const client = new KalturaClient(config());
    const before = fake.beacons.length;
    await client.addBeacon({
      objectId: '0_aaaaaaaa',
      eventType: '0_healthData',
      privateData: '{"alerts":[]}',
    });
    expect(fake.beacons.slice(before)).toEqual([
      expect.objectContaining({
        partnerId: 102,
        relatedObjectType: '4',
        eventType: '0_healthData',
        objectId: '0_aaaaaaaa',
      }),
    ]);
    expect(fake.calls.at(-1)).toMatchObject({ service: 'beacon_beacon', action: 'add', outcome: 'ok' });
  });
});

describe('the service URL and redirects', () => {
  it('an http:// service URL is refused outside loopback', () => {
    expect(serviceUrlProblem('https://www.kaltura.com')).toBeUndefined();
    expect(serviceUrlProblem('http://127.0.0.1:8000')).toBeUndefined();
    expect(serviceUrlProblem('http://localhost')).toBeUndefined();
    expect(serviceUrlProblem('http://[::1]:81')).toBeUndefined();
    expect(serviceUrlProblem('http://kaltura.example')).toMatch(/https/);
    expect(serviceUrlProblem('http://10.0.0.5')).toMatch(/https/);
    expect(serviceUrlProblem('ftp://kaltura.example')).toMatch(/https/);
    expect(() => new KalturaClient(config({ serviceUrl: 'http://kaltura.example' }))).toThrow(/https/);
  });

  it('a redirect is never followed (the KS goes nowhere else); the error says where it leads', async () => {
    const seen: string[] = [];
    const client = new KalturaClient(config(), {
      fetch: async (input, init) => {
        seen.push(`${init?.method} ${String(input)} redirect=${init?.redirect}`);
        return new Response('', { status: 301, headers: { location: 'https://other.example/api_v3/x' } });
      },
    });
    const err = await failure(client.authenticate('0_aaaaaaaa', TOKEN_A, 0));
    expect(err).toMatchObject({ kind: 'http', status: 301 });
    expect(err.message).toContain('https://other.example');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toContain('redirect=manual');
    expect(await failure(client.conversionProfile('0_aaaaaaaa_1', {}))).toMatchObject({ status: 301 });
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
