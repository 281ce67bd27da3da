/**
 * What a stranger on the network can send, sent to a running appliance (issue: hardening): hostile RTMP that
 * declares huge messages on many chunk streams, a connection flood, a lockout attempt with wrong tokens, HEAD on a
 * publishing point, a publishing point dressed as a dashboard asset. Each asserts the safe outcome.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { createChannel, waitFor, type ChannelJson, type RunningAppliance } from '../helpers/appliance.js';
import { FFPROBE, publish } from '../helpers/encoder.js';
import { describe, expect, test } from '../helpers/fixtures.js';
import { sendAfterHandshake } from '../helpers/rtmp-raw.js';

let a: RunningAppliance;

// Every test here attacks the file's one appliance (`a`); the fixture starts it and stops it after the file.
const it = test.extend('attacked', { auto: true }, async ({ appliance }) => {
  a = appliance;
  return appliance;
});

/** The ingest URLs (with their pull keys) on the command lines of this machine's processes, as `ps` shows them. */
function pulledUrls(rtmpPort: number): string[] {
  const urls: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let argv: string[];
    try {
      argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    for (const arg of argv)
      if (arg.startsWith(`rtmp://127.0.0.1:${rtmpPort}/`) && arg.includes('?k=')) urls.push(arg);
  }
  return urls;
}

async function ingestPid(): Promise<number> {
  const st = (await (await a.api('GET', '/api/v1/status')).json()) as { ingest: { pid: number } };
  return st.ingest.pid;
}

/** Resident memory of a process, in bytes (Linux). */
function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) * 1024;
}

/**
 * Chunk headers (fmt 0) on chunk streams 3..(3+n-1), each declaring a `length`-byte message, each followed by
 * `chunk` bytes of it (a whole 128-byte chunk lets the next chunk stream start, as RTMP interleaves them).
 */
function hugeMessageHeaders(n: number, length: number, chunk = 0): Buffer {
  const parts: Buffer[] = [];
  for (let cid = 3; cid < 3 + n; cid++) {
    const h = Buffer.alloc(12);
    h[0] = cid; // fmt 0, one-byte basic header
    h.writeUIntBE(0, 1, 3); // timestamp
    h.writeUIntBE(length, 4, 3); // message length
    h[7] = 20; // AMF0 command
    h.writeUInt32LE(0, 8);
    parts.push(h, Buffer.alloc(chunk));
  }
  return Buffer.concat(parts);
}

async function publishesAndStarts(c: ChannelJson): Promise<void> {
  const enc = publish(`${c.broadcastUrl}/${c.streamName}`, { seconds: 4 });
  await waitFor(
    'the channel started',
    async () => {
      const ch = (await (await a.api('GET', `/api/v1/channels/${c.entryId}`)).json()) as { state: string };
      return ch.state === 'started';
    },
    30_000,
  );
  await enc.done;
}

describe('hostile RTMP before anyone authenticates', () => {
  it('huge declared messages on many chunk streams: the socket closes, the child stays small, encoders still publish', async () => {
    const pid = await ingestPid();
    const before = rss(pid);
    // 576 bytes on the wire used to make node-media-server allocate 48 × 16 MiB at once.
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        sendAfterHandshake(a.rtmpPort, hugeMessageHeaders(48, 0xffffff), 5000),
      ),
    );
    expect(results.every((r) => r.closed)).toBe(true);
    // Under the command limit, but on more chunk streams than allowed: closed too, with little allocated.
    const many = await sendAfterHandshake(a.rtmpPort, hugeMessageHeaders(40, 60_000, 128), 5000);
    expect(many.closed).toBe(true);
    expect(await ingestPid()).toBe(pid);
    expect(rss(pid) - before).toBeLessThan(64 * 1024 * 1024);
    expect(a.stdout()).toMatch(/malformed RTMP input: a 16777215-byte message \(at most 65536 here\)/);
    expect(a.stdout()).toMatch(/more than 32 chunk streams/);
    await publishesAndStarts(await createChannel(a, 'after the attack'));
  });

  it('a connection flood from one address: beyond 32 connections are closed at once', async () => {
    const sockets: net.Socket[] = [];
    const closed: boolean[] = [];
    try {
      for (let i = 0; i < 40; i++) {
        const s = net.connect(a.rtmpPort, '127.0.0.1');
        const n = i;
        closed[n] = false;
        s.on('close', () => (closed[n] = true));
        s.on('error', () => undefined);
        sockets.push(s);
        await new Promise((r) => s.once('connect', r));
      }
      await waitFor('refusals', async () => closed.filter(Boolean).length >= 8, 5_000);
      expect(closed.filter(Boolean).length).toBe(8);
      expect(a.stdout()).toContain('too many RTMP connections');
    } finally {
      for (const s of sockets) s.destroy();
    }
    // Once they are gone, an encoder publishes.
    await new Promise((r) => setTimeout(r, 200));
    await publishesAndStarts(await createChannel(a, 'after the flood'));
  });
});

describe('lockout', () => {
  it('wrong tokens do not lock out the right one: it is asked about, and goes live', async () => {
    const c = await createChannel(a, 'lockout');
    const wrong = publish(`${c.broadcastUrl.replace(/t=[^&/]+/, 't=not-the-token')}/${c.streamName}`, {
      seconds: 2,
    });
    expect((await wrong.done).code).not.toBe(0);
    await publishesAndStarts(c);
  });
});

describe('the admin listener', () => {
  it('HEAD on a publishing point reads it and never deletes it; unknown methods are 405 or 404', async () => {
    const auth = { authorization: `Bearer ${a.token}` };
    const url = `${a.admin}/headtest/headtest.isml`;
    expect((await fetch(url, { method: 'POST', headers: auth, body: '<smil/>' })).status).toBe(201);
    const head = await fetch(url, { method: 'HEAD', headers: auth });
    expect(head.status).toBe(200);
    expect((await fetch(url, { headers: auth })).status).toBe(200);
    expect((await fetch(url, { method: 'PATCH', headers: auth })).status).toBeGreaterThanOrEqual(404);
    expect((await fetch(url, { headers: auth })).status).toBe(200);
  });

  it('a publishing point dressed as a dashboard asset is not open', async () => {
    const auth = { authorization: `Bearer ${a.token}` };
    const url = `${a.admin}/assets/assets.isml`;
    expect((await fetch(url, { method: 'POST', headers: auth, body: '<smil/>' })).status).toBe(201);
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { method: 'HEAD' })).status).toBe(401);
    expect((await fetch(url, { method: 'DELETE' })).status).toBe(401);
    expect((await fetch(url, { headers: auth })).status).toBe(200);
  });
});

describe('cross-site requests riding on remembered credentials', () => {
  it('a state-changing request or a WebSocket upgrade from another origin is refused; the same origin works', async () => {
    const auth = { authorization: `Bearer ${a.token}` };
    const evil = { ...auth, origin: 'http://attacker.example', 'content-type': 'application/json' };
    const r = await fetch(`${a.admin}/api/v1/channels`, {
      method: 'POST',
      headers: evil,
      body: JSON.stringify({ name: 'csrf' }),
    });
    expect(r.status).toBe(403);
    expect(((await r.json()) as { error: { message: string } }).error.message).toContain('cross-site');
    const list = (await (await a.api('GET', '/api/v1/channels')).json()) as {
      channels: Array<{ name: string }>;
    };
    expect(list.channels.some((c) => c.name === 'csrf')).toBe(false);
    // Reads are not state changes.
    expect((await fetch(`${a.admin}/api/v1/channels`, { headers: evil })).status).toBe(200);
    // The dashboard's own origin.
    const same = await fetch(`${a.admin}/api/v1/channels`, {
      method: 'POST',
      headers: { ...auth, origin: a.admin, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'same origin' }),
    });
    expect(same.status).toBe(201);
    // A WebSocket upgrade with a valid ticket, from another origin.
    const { ticket } = (await (await a.api('POST', '/api/v1/events/ticket')).json()) as { ticket: string };
    const status = await new Promise<number>((resolve) => {
      const s = net.connect(a.adminPort, '127.0.0.1', () =>
        s.write(
          `GET /api/v1/events?ticket=${ticket} HTTP/1.1\r\nHost: 127.0.0.1:${a.adminPort}\r\n` +
            'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n' +
            'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://attacker.example\r\n\r\n',
        ),
      );
      s.once('data', (d) => {
        resolve(Number(/^HTTP\/1\.1 (\d+)/.exec(d.toString())?.[1]));
        s.destroy();
      });
      s.on('error', () => resolve(0));
    });
    expect(status).toBe(403);
  });
});

describe('local users', () => {
  it('cannot read the data directory (database with stream tokens, admin token)', () => {
    expect(fs.statSync(a.dataDir).mode & 0o077).toBe(0);
  });

  it("cannot play a stream with the pull key read off ffmpeg's command line: each key is spent by its ffmpeg", async () => {
    const c = await createChannel(a, 'pull key');
    const enc = publish(`${c.broadcastUrl}/${c.streamName}`, { seconds: 8 });
    try {
      // Our ffmpeg pulls the stream: the channel goes live.
      await waitFor(
        'the channel started',
        async () =>
          ((await (await a.api('GET', `/api/v1/channels/${c.entryId}`)).json()) as { state: string })
            .state === 'started',
        30_000,
      );
      // What any local user sees in `ps` meanwhile: our ffmpeg's input URL, key included.
      const url = await waitFor(
        'our ffmpeg pulling the stream',
        async () => pulledUrls(a.rtmpPort)[0],
        30_000,
      );
      expect(url).toMatch(/\?k=[\w-]+$/);
      const stolen = spawnSync(FFPROBE, ['-v', 'error', '-rw_timeout', '5000000', '-show_streams', url], {
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(stolen.status).not.toBe(0);
      expect(stolen.stdout).not.toContain('codec_type=video');
      // The same stream without a key, or with a made-up one, is no better.
      const guessed = spawnSync(
        FFPROBE,
        ['-v', 'error', '-rw_timeout', '5000000', '-show_streams', url.replace(/k=.*/, 'k=guess')],
        { encoding: 'utf8', timeout: 20_000 },
      );
      expect(guessed.status).not.toBe(0);
      // And the stream our ffmpeg pulls is unharmed.
      const ch = (await (await a.api('GET', `/api/v1/channels/${c.entryId}`)).json()) as { state: string };
      expect(ch.state).toBe('started');
    } finally {
      await enc.stop();
    }
  });
});

describe('operator resources behind a local edge', () => {
  it('the viewer behind a trusted proxy counts, not the proxy; no CORS on them; admin credentials only from allowed addresses', async ({
    startOtherAppliance,
  }) => {
    const b = await startOtherAppliance({
      extraArgs: [
        '--trusted-proxies',
        '127.0.0.1',
        '--status-allow',
        '127.0.0.1',
        '--admin-allow',
        '127.0.0.1',
      ],
    });
    {
      const auth = { authorization: `Bearer ${b.token}` };
      expect(
        (await fetch(`${b.admin}/edge/edge.isml`, { method: 'POST', headers: auth, body: '<smil/>' })).status,
      ).toBe(201);
      const state = `${b.origin}/edge/edge.isml/state`;
      const direct = await fetch(state);
      expect(direct.status).toBe(200);
      expect(direct.headers.get('access-control-allow-origin')).toBeNull();
      // Through a local edge (a trusted proxy on loopback) for a viewer elsewhere: not an operator.
      const viaEdge = await fetch(state, { headers: { 'x-forwarded-for': '203.0.113.9' } });
      expect(viaEdge.status).toBe(403);
      // Admin credentials from an address outside --admin-allow are refused on the origin listener too.
      const purge = await fetch(`${b.origin}/edge/edge.isml/purge?t=00:00:00`, {
        method: 'POST',
        headers: { ...auth, 'x-forwarded-for': '203.0.113.9' },
      });
      expect([401, 403]).toContain(purge.status);
      const statusWithCreds = await fetch(state, { headers: { ...auth, 'x-forwarded-for': '203.0.113.9' } });
      expect(statusWithCreds.status).toBe(403);
      // From an allowed address they work.
      const purgeOk = await fetch(`${b.origin}/edge/edge.isml/purge?t=00:00:00`, {
        method: 'POST',
        headers: auth,
      });
      expect(purgeOk.status).toBeLessThan(400);
    }
  });
});

describe('a leaked stream token', () => {
  it('is replaced by a new one: the old one is refused on the next publish, the new one goes live', async () => {
    const c = await createChannel(a, 'rotate');
    const r = await a.api('POST', `/api/v1/channels/${c.entryId}/token`);
    expect(r.status).toBe(200);
    const fresh = (await r.json()) as ChannelJson;
    expect(fresh.token).not.toBe(c.token);
    const old = await publish(`${c.broadcastUrl}/${c.streamName}`, { seconds: 2 }).done;
    expect(old.code).not.toBe(0);
    const events = (await (await a.api('GET', `/api/v1/channels/${c.entryId}/events`)).json()) as {
      events: Array<{ code: string }>;
    };
    expect(events.events.map((e) => e.code)).toEqual(
      expect.arrayContaining(['TOKEN_ROTATED', 'LIVE_STREAM_INVALID_TOKEN']),
    );
    await publishesAndStarts(fresh);
  });
});

describe('slow clients', () => {
  /** Opens `n` connections to `port` that send a request line and then one header line a second, for ever. */
  function trickle(port: number, n: number): { sockets: net.Socket[]; closedByServer: () => number } {
    const sockets: net.Socket[] = [];
    let closed = 0;
    for (let i = 0; i < n; i++) {
      const s = net.connect(port, '127.0.0.1');
      s.on('error', () => undefined);
      s.once('connect', () => s.write('GET / HTTP/1.1\r\nHost: slow\r\n'));
      const drip = setInterval(() => s.writable && s.write(`X-Slow-${i}: still here\r\n`), 1000);
      s.once('close', () => {
        clearInterval(drip);
        closed++;
      });
      sockets.push(s);
    }
    return { sockets, closedByServer: () => closed };
  }

  it('headers trickled on many connections (slowloris): both listeners close them; viewers and staff are served meanwhile', async () => {
    const origin = trickle(a.httpPort, 150);
    const admin = trickle(a.adminPort, 50);
    try {
      // While they hold their sockets, a viewer and the staff are answered.
      await new Promise((r) => setTimeout(r, 1500));
      expect((await fetch(`${a.origin}`)).status).toBe(200);
      expect((await a.api('GET', '/api/v1/status')).status).toBe(200);
      // The header timeout closes every trickling connection although each keeps sending.
      await waitFor(
        'the trickling connections to be closed by the appliance',
        async () => origin.closedByServer() === 150 && admin.closedByServer() === 50,
        30_000,
      );
    } finally {
      for (const s of [...origin.sockets, ...admin.sockets]) s.destroy();
    }
  });

  it('downloaders that never read: other viewers are served and the appliance does not buffer for them', async () => {
    const c = await createChannel(a, 'slow readers');
    const enc = publish(`${c.broadcastUrl}/${c.streamName}`, { seconds: 12 });
    const sockets: net.Socket[] = [];
    try {
      const base = `${a.origin}/${c.entryId}/${c.entryId}.isml/tracks/`;
      const playlist = await waitFor(
        'a fragment',
        async () => {
          const r = await fetch(`${base}video_source.m3u8`);
          const t = r.status === 200 ? await r.text() : '';
          return t.includes('.m4s') && t;
        },
        30_000,
      );
      const fragment = playlist.split('\n').find((l) => l.endsWith('.m4s')) as string;
      const path = new URL(`${base}${fragment}`).pathname;
      const size = (await (await fetch(`${base}${fragment}`)).arrayBuffer()).byteLength;
      const before = rss(a.proc.pid as number);
      // 100 connections ask for the fragment 200 times each (pipelined: 20 000 answers, ~${size}-byte each), and
      // never read a byte of the answers.
      const requests = `GET ${path} HTTP/1.1\r\nHost: slow\r\n\r\n`.repeat(200);
      for (let i = 0; i < 100; i++) {
        const s = net.connect(a.httpPort, '127.0.0.1');
        s.on('error', () => undefined);
        s.once('connect', () => {
          s.pause();
          s.write(requests);
        });
        sockets.push(s);
      }
      await new Promise((r) => setTimeout(r, 2000));
      // Everyone else is served, complete.
      for (let i = 0; i < 20; i++) {
        const r = await fetch(`${base}${fragment}`);
        expect(r.status).toBe(200);
        expect((await r.arrayBuffer()).byteLength).toBe(size);
        expect((await fetch(`${base}video_source.m3u8`)).status).toBe(200);
      }
      // What was not read stays in the sockets' bounded buffers, not in the appliance: 20 000 answers would be
      // gigabytes.
      expect(rss(a.proc.pid as number) - before).toBeLessThan(256 * 1024 * 1024);
    } finally {
      for (const s of sockets) s.destroy();
      await enc.stop();
    }
  });
});
