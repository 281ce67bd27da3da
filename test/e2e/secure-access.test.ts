/**
 * Open and secure viewer access (DuraCloud's streaming model, with HLS/DASH): a secure channel serves nothing
 * without a signed URL; signed manifests carry the authorisation into every child URL so hls.js plays them; every
 * refusal is a 403 with its reason in a header.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createChannel,
  startAppliance,
  waitFor,
  type ChannelJson,
  type RunningAppliance,
} from '../helpers/appliance.js';
import { launchChromium } from '../helpers/browser.js';
import { ffmpegUrl, publish, type Publisher } from '../helpers/encoder.js';
import { startPlayerServer, type PlayerServer } from '../helpers/player.js';

let a: RunningAppliance;
let c: ChannelJson;
let other: ChannelJson;
const encoders: Publisher[] = [];

beforeAll(async () => {
  a = await startAppliance();
  c = await createChannel(a, 'secure');
  other = await createChannel(a, 'other');
  encoders.push(publish(ffmpegUrl(c.broadcastUrl, c.streamName), { seconds: 60 }));
  encoders.push(publish(ffmpegUrl(other.broadcastUrl, other.streamName), { seconds: 60 }));
  await waitFor(
    'both live',
    async () =>
      (await fetch(c.playback.hls)).status === 200 && (await fetch(other.playback.hls)).status === 200,
    40_000,
  );
});
afterAll(async () => {
  await Promise.all(encoders.map((e) => e.stop()));
  await a?.stop();
});

async function signed(
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
  it('open by default: predictable URLs that never expire (get-url)', async () => {
    const r = (await (await a.api('GET', `/api/v1/channels/${c.entryId}/url`)).json()) as {
      url: string;
      access: string;
    };
    expect(r).toMatchObject({ url: c.playback.hls, access: 'open' });
    expect((await fetch(r.url)).status).toBe(200);
  });

  it('secure: manifests, init segments and fragments all refuse unsigned requests', async () => {
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

  it('a signed URL (8 hours by default) opens the master, and every child URL carries the signature', async () => {
    const s = await signed(c);
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
    const bound = await signed(c, { ipRange: '127.0.0.1' });
    const br = await fetch(bound.url);
    await br.arrayBuffer();
    expect(br.headers.get('cache-control')).toMatch(/^private/);
    const mpd = await (await fetch(s.dash)).text();
    expect(mpd).toMatch(/media="tracks\/\$RepresentationID\$\/\$Time\$\.m4s\?[^"]*sig=/);
  });

  it("refuses expired, tampered and another channel's signatures, each with its reason", async () => {
    const s = await signed(c, { expiresIn: 1 });
    await new Promise((r) => setTimeout(r, 2100));
    expect(await denial(s.url)).toBe('expired');
    const good = await signed(c);
    const u = new URL(good.url);
    const sig = u.searchParams.get('sig') as string;
    u.searchParams.set('sig', (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1));
    expect(await denial(u.toString())).toBe('bad-signature');
    const later = new URL(good.url);
    later.searchParams.set('exp', String(Number(later.searchParams.get('exp')) + 3600));
    expect(await denial(later.toString())).toBe('bad-signature');
    // The other channel's signature on this channel's path.
    await a.api('PATCH', `/api/v1/channels/${other.entryId}`, { access: 'secure' });
    const theirs = new URL((await signed(other)).url);
    expect(await denial(`${c.playback.hls}${theirs.search}`)).toBe('wrong-scope');
  });

  it('binds to an address or range; X-Forwarded-For counts only from a trusted proxy', async () => {
    expect((await fetch((await signed(c, { ipRange: '127.0.0.1' })).url)).status).toBe(200);
    expect((await fetch((await signed(c, { ipRange: '127.0.0.0/8' })).url)).status).toBe(200);
    expect((await fetch((await signed(c, { ipRange: '127.0.0.1-127.0.0.9' })).url)).status).toBe(200);
    const elsewhere = await signed(c, { ipRange: '10.9.9.9' });
    expect(await denial(elsewhere.url)).toBe('wrong-ip');
    expect(await denial((await signed(c, { ipRange: '2001:db8::/32' })).url)).toBe('wrong-ip');
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

  it('rotates the signing secret; URLs signed before still play during the overlap', async () => {
    const before = await signed(c);
    const r = await a.api('POST', '/api/v1/access/rotate');
    expect(r.status).toBe(200);
    const keys = (await r.json()) as { current: string; keys: Array<{ id: string; current: boolean }> };
    expect(keys.keys.length).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(keys)).not.toMatch(/secret/);
    expect((await fetch(before.url)).status).toBe(200);
    expect(new URL((await signed(c)).url).searchParams.get('kid')).toBe(keys.current);
  });

  it('hls.js plays a signed URL in Chromium, without cookies', async () => {
    const s = await signed(c, { ipRange: '127.0.0.1' });
    let players: PlayerServer | undefined;
    let browser: Browser | undefined;
    try {
      players = await startPlayerServer();
      browser = await launchChromium();
      const player = await players.open(browser, s.url);
      const first = await player.until('playback to start', (st) => !st.paused && st.currentTime > 0, 30_000);
      const later = await player.until(
        '3 s of playback',
        (st) => st.currentTime - first.currentTime >= 3,
        20_000,
      );
      expect(later.errors.filter((e) => e.fatal)).toEqual([]);
    } finally {
      await browser?.close();
      await players?.close();
    }
  });
});
