/**
 * Open and secure viewer access (DuraCloud's streaming model, with HLS/DASH): a secure channel serves nothing
 * without a signed URL; signed manifests carry the authorisation into every child URL so hls.js plays them; every
 * refusal is a 403 with its reason in a header.
 */
import {
  createChannel,
  startAppliance,
  waitFor,
  type ChannelJson,
  type RunningAppliance,
} from '../helpers/appliance.js';
import { ffmpegUrl } from '../helpers/encoder.js';
import { test as base, describe, expect } from '../helpers/fixtures.js';

/** `liveChannel` is the channel made secure; `other` is another channel, live too. */
const test = base.extend('other', { scope: 'file' }, async ({ appliance: a, publishForFile }) => {
  const other = await createChannel(a, 'other');
  publishForFile(ffmpegUrl(other.broadcastUrl, other.streamName), { seconds: 60, gop: 30 });
  return other;
});
test.override('liveChannelName', 'secure');
// How long fragments are is not the point here, and players start sooner on 1 s fragments (1 s GOPs).
test.override('applianceOptions', { extraArgs: ['--fragment-duration', '1'] });
test.override('encoderOptions', { seconds: 60, gop: 30 });

test.beforeAll(async ({ liveChannel: c, encoder: _encoder, other }) => {
  await waitFor(
    'both live',
    async () =>
      (await fetch(c.playback.hls)).status === 200 && (await fetch(other.playback.hls)).status === 200,
    40_000,
  );
});

async function signed(
  a: RunningAppliance,
  ch: ChannelJson,
  body: Record<string, unknown> = {},
): Promise<{ url: string; dash: string; expiresAt: string }> {
  const r = await a.api('POST', `/api/v1/channels/${ch.entryId}/signed-url`, body);
  expect(r.status).toBe(200);
  return (await r.json()) as { url: string; dash: string; expiresAt: string };
}

async function denial(url: string, headers: Record<string, string> = {}): Promise<string | null> {
  const r = await fetch(url, { headers });
  await r.arrayBuffer();
  expect(r.status, url).toBe(403);
  expect(await r.text().catch(() => '')).not.toMatch(/at .*\.ts:\d+/);
  return r.headers.get('x-ecdn-denied');
}

describe('open and secure access', () => {
  test('open by default: predictable URLs that never expire (get-url)', async ({
    appliance: a,
    liveChannel: c,
  }) => {
    const r = (await (await a.api('GET', `/api/v1/channels/${c.entryId}/url`)).json()) as {
      url: string;
      access: string;
    };
    expect(r).toMatchObject({ url: c.playback.hls, access: 'open' });
    expect((await fetch(r.url)).status).toBe(200);
  });

  test('secure: manifests, init segments and fragments all refuse unsigned requests', async ({
    appliance: a,
    liveChannel: c,
    other,
  }) => {
    const r = await a.api('PATCH', `/api/v1/channels/${c.entryId}`, { access: 'secure' });
    expect(r.status).toBe(200);
    expect(((await r.json()) as { access: string }).access).toBe('secure');
    const base = c.playback.hls.replace(/\/\.m3u8$/, '/');
    for (const u of [
      c.playback.hls,
      c.playback.dash,
      `${base}tracks/video_source.m3u8`,
      `${base}tracks/video_source/init.mp4`,
      `${base}tracks/video_source/1.m4s`,
    ]) {
      expect(await denial(u)).toBe('missing');
    }
    // Another, open channel is unaffected.
    expect((await fetch(other.playback.hls)).status).toBe(200);
    expect((await a.api('PATCH', `/api/v1/channels/${c.entryId}`, { access: 'hidden' })).status).toBe(400);
  });

  test('a signed URL (8 hours by default) opens the master, and every child URL carries the signature', async ({
    appliance: a,
    liveChannel: c,
  }) => {
    const s = await signed(a, c);
    expect(Math.abs(Date.parse(s.expiresAt) - Date.now() - 8 * 3600 * 1000)).toBeLessThan(5000);
    const master = await (await fetch(s.url)).text();
    const children = master
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .concat([...master.matchAll(/URI="([^"]+)"/g)].map((m) => m[1] as string));
    expect(children.length).toBeGreaterThanOrEqual(3);
    const base = s.url.slice(0, s.url.indexOf('.isml/') + '.isml/'.length);
    for (const child of children) {
      expect(child).toContain('sig=');
      const media = await fetch(base + child);
      expect(media.status, child).toBe(200);
      const playlist = await media.text();
      const uris = playlist
        .split('\n')
        .filter((l) => l && !l.startsWith('#'))
        .concat([...playlist.matchAll(/URI="([^"]+)"/g)].map((m) => m[1] as string));
      for (const u of uris.slice(-2)) {
        expect(u).toContain('sig=');
        const r = await fetch(`${base}tracks/${u}`);
        await r.arrayBuffer();
        expect(r.status, u).toBe(200);
      }
    }
    // Caches may keep a signed response only until the signature expires; IP-bound ones not at all (private).
    const fragUrl = `${base}tracks/${
      (await (await fetch(base + children[0])).text())
        .split('\n')
        .filter((l) => l.includes('.m4s'))
        .pop() as string
    }`;
    const fr = await fetch(fragUrl);
    await fr.arrayBuffer();
    const maxAge = Number(/max-age=(\d+)/.exec(fr.headers.get('cache-control') ?? '')?.[1]);
    expect(fr.headers.get('cache-control')).toMatch(/^public/);
    expect(maxAge).toBeLessThanOrEqual(8 * 3600);
    expect(maxAge).toBeGreaterThan(8 * 3600 - 60);
    const bound = await signed(a, c, { ipRange: '127.0.0.1' });
    const br = await fetch(bound.url);
    await br.arrayBuffer();
    expect(br.headers.get('cache-control')).toMatch(/^private/);
    const mpd = await (await fetch(s.dash)).text();
    expect(mpd).toMatch(/media="tracks\/\$RepresentationID\$\/\$Time\$\.m4s\?[^"]*sig=/);
  });

  test("refuses expired, tampered and another channel's signatures, each with its reason", async ({
    appliance: a,
    liveChannel: c,
    other,
  }) => {
    const s = await signed(a, c, { expiresIn: 1 });
    // Until the second is over it opens; then it is refused as expired (no fixed sleep past the expiry).
    await waitFor(
      'the signature to expire',
      async () => {
        const r = await fetch(s.url);
        await r.arrayBuffer();
        return r.status !== 200;
      },
      5_000,
      100,
    );
    expect(await denial(s.url)).toBe('expired');
    const good = await signed(a, c);
    const u = new URL(good.url);
    const sig = u.searchParams.get('sig') as string;
    u.searchParams.set('sig', (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1));
    expect(await denial(u.toString())).toBe('bad-signature');
    const later = new URL(good.url);
    later.searchParams.set('exp', String(Number(later.searchParams.get('exp')) + 3600));
    expect(await denial(later.toString())).toBe('bad-signature');
    // The other channel's signature on this channel's path.
    await a.api('PATCH', `/api/v1/channels/${other.entryId}`, { access: 'secure' });
    const theirs = new URL((await signed(a, other)).url);
    expect(await denial(`${c.playback.hls}${theirs.search}`)).toBe('wrong-scope');
  });

  test('binds to an address or range; X-Forwarded-For counts only from a trusted proxy', async ({
    appliance: a,
    liveChannel: c,
  }) => {
    expect((await fetch((await signed(a, c, { ipRange: '127.0.0.1' })).url)).status).toBe(200);
    expect((await fetch((await signed(a, c, { ipRange: '127.0.0.0/8' })).url)).status).toBe(200);
    expect((await fetch((await signed(a, c, { ipRange: '127.0.0.1-127.0.0.9' })).url)).status).toBe(200);
    const elsewhere = await signed(a, c, { ipRange: '10.9.9.9' });
    expect(await denial(elsewhere.url)).toBe('wrong-ip');
    expect(await denial((await signed(a, c, { ipRange: '2001:db8::/32' })).url)).toBe('wrong-ip');
    // A spoofed header from an untrusted peer changes nothing.
    expect(await denial(elsewhere.url, { 'x-forwarded-for': '10.9.9.9' })).toBe('wrong-ip');
    expect(
      (await a.api('POST', `/api/v1/channels/${c.entryId}/signed-url`, { ipRange: 'somewhere' })).status,
    ).toBe(400);
    expect((await a.api('POST', `/api/v1/channels/${c.entryId}/signed-url`, { expiresIn: -5 })).status).toBe(
      400,
    );

    const b = await startAppliance({ dataDir: a.dataDir, extraArgs: ['--trusted-proxies', '127.0.0.1'] });
    try {
      const viaProxy = new URL(elsewhere.url);
      viaProxy.port = String(b.httpPort);
      // The signing secret lives in the data directory: the same signature verifies on the second instance.
      const r = await fetch(viaProxy.toString(), { headers: { 'x-forwarded-for': '192.0.2.1, 10.9.9.9' } });
      await r.arrayBuffer();
      expect(r.status).not.toBe(403);
      expect(r.headers.get('x-ecdn-denied')).toBeNull();
      expect(await denial(viaProxy.toString(), { 'x-forwarded-for': '10.9.9.8' })).toBe('wrong-ip');
    } finally {
      await b.stop();
    }
  });

  test('rotates the signing secret; URLs signed before still play during the overlap', async ({
    appliance: a,
    liveChannel: c,
  }) => {
    const before = await signed(a, c);
    const r = await a.api('POST', '/api/v1/access/rotate');
    expect(r.status).toBe(200);
    const keys = (await r.json()) as { current: string; keys: Array<{ id: string; current: boolean }> };
    expect(keys.keys.length).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(keys)).not.toMatch(/secret/);
    expect((await fetch(before.url)).status).toBe(200);
    expect(new URL((await signed(a, c)).url).searchParams.get('kid')).toBe(keys.current);
  });

  test('revokes every signed URL of one channel before it expires; links made afterwards play', async ({
    appliance: a,
    liveChannel: c,
    other,
  }) => {
    expect((await a.api('PATCH', `/api/v1/channels/${other.entryId}`, { access: 'secure' })).status).toBe(
      200,
    );
    const leaked = await signed(a, c);
    const otherLink = await signed(a, other);
    const master = await (await fetch(leaked.url)).text();
    const media = new URL(
      master.split('\n').find((l) => l.endsWith('.m3u8') || l.includes('.m3u8?')) as string,
      leaked.url,
    );
    expect((await fetch(media)).status).toBe(200);
    const r = await a.api('POST', `/api/v1/channels/${c.entryId}/signed-url/revoke`);
    expect(r.status).toBe(200);
    const view = (await r.json()) as { signedGeneration: number };
    expect(view.signedGeneration).toBeGreaterThan(0);
    // The leaked link and the child URLs it carried stop at once, with the reason.
    expect(await denial(leaked.url)).toBe('revoked');
    expect(await denial(media.toString())).toBe('revoked');
    expect(await denial(leaked.dash)).toBe('revoked');
    // Another channel's links are untouched; a link made now plays.
    expect((await fetch(otherLink.url)).status).toBe(200);
    expect((await fetch((await signed(a, c)).url)).status).toBe(200);
    const events = (await (await a.api('GET', `/api/v1/channels/${c.entryId}/events`)).json()) as {
      events: Array<{ code: string }>;
    };
    expect(events.events.map((e) => e.code)).toContain('SIGNED_URLS_REVOKED');
    expect((await a.api('POST', '/api/v1/channels/0_missing1/signed-url/revoke')).status).toBe(404);
    expect((await a.api('PATCH', `/api/v1/channels/${other.entryId}`, { access: 'open' })).status).toBe(200);
  });

  test('hls.js plays a signed URL in Chromium, without cookies', async ({
    appliance: a,
    liveChannel: c,
    players,
    browser,
  }) => {
    const s = await signed(a, c, { ipRange: '127.0.0.1' });
    const player = await players.open(browser, s.url);
    const first = await player.until('playback to start', (st) => !st.paused && st.currentTime > 0, 30_000);
    const later = await player.until(
      '3 s of playback',
      (st) => st.currentTime - first.currentTime >= 3,
      20_000,
    );
    expect(later.errors.filter((e) => e.fatal)).toEqual([]);
  });
});
