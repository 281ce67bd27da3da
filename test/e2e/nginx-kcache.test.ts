/**
 * nginx as a Kaltura edge (resources/nginx/ecdn-kcache.conf, as a site fills it in, run by Debian's nginx):
 * /kCache/<origin-host>/<path> fetched once for everyone from the allow list's upstream (https ones with SNI and a
 * checked certificate), anything else refused without an upstream request, live playlists refreshed, LL-HLS
 * blocking requests once per query, viewers kept on the edge (absolute URIs, redirects), what is cached served
 * when the upstream is down; and the same configuration in two tiers with the appliance: pulling through an
 * appliance's /kCache/ (the README's floors), and standing under an appliance's origin.
 *
 * The upstream is a second nginx serving a live HLS that ffmpeg writes (1 s TS segments), with an access log that
 * counts every request the edge makes.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from '../helpers/appliance.js';
import { FFMPEG } from '../helpers/encoder.js';
import { test as base, describe, expect } from '../helpers/fixtures.js';
import {
  readAccessLog,
  renderKcacheConfig,
  startNginx,
  upstreamLogFormat,
  type RunningNginx,
} from '../helpers/nginx.js';

/** Seconds per segment ffmpeg writes (also the playlists' target duration). */
const SEGMENT = 1;

interface Upstream {
  nginx: RunningNginx;
  /** `127.0.0.1:<port>`: the <origin-host> of /kCache/ URLs. */
  host: string;
  root: string;
  log: string;
  /** The live playlist as ffmpeg last wrote it. */
  playlist: () => string;
  /** Upstream requests whose request URI is `uri` (path and query), once the upstream has logged them. */
  requests: (uri: string) => Promise<number>;
  /** The same files over https, for the name `origin.test` only (SNI; another name gets another certificate). */
  tls: { nginx: RunningNginx; ca: string; requests: (uri: string) => Promise<number> };
  stop: () => Promise<void>;
}

/**
 * nginx logs a request after its last byte is sent, so a client of the edge can see the answer before the
 * upstream's log line is written: counts are read after a short pause.
 */
async function settled<T>(read: () => T): Promise<T> {
  await new Promise((resolve) => setTimeout(resolve, 150));
  return read();
}

/** A self-signed certificate for `name` in `dir`: `<name>.pem`, `<name>.key`. */
function certificate(dir: string, name: string): { cert: string; key: string } {
  const cert = path.join(dir, `${name}.pem`);
  const key = path.join(dir, `${name}.key`);
  const r = spawnSync(
    'openssl',
    [
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1'],
      ['-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name}`, '-keyout', key, '-out', cert],
    ].flat(),
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`openssl: ${r.stderr}`);
  return { cert, key };
}

async function startUpstream(): Promise<Upstream & { cleanup: () => Promise<void> }> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ecdn-kcache-up-'));
  fs.chmodSync(root, 0o755);
  fs.mkdirSync(path.join(root, 'hls'), { mode: 0o755 });
  fs.mkdirSync(path.join(root, 'static'), { mode: 0o755 });
  const ffmpeg = spawn(
    FFMPEG,
    [
      ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc=size=320x180:rate=25'],
      ['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-keyint_min', '25', '-sc_threshold', '0'],
      ['-pix_fmt', 'yuv420p', '-f', 'hls', '-hls_time', String(SEGMENT), '-hls_list_size', '6'],
      ['-hls_flags', 'temp_file', '-hls_segment_filename', path.join(root, 'hls/seg%05d.ts')],
      [path.join(root, 'hls/live.m3u8')],
    ].flat(),
    { stdio: ['pipe', 'ignore', 'pipe'] },
  );
  let ffmpegErr = '';
  ffmpeg.stderr?.setEncoding('utf8').on('data', (d: string) => (ffmpegErr += d));
  const log = path.join(root, 'access.log');
  let nginx: RunningNginx | undefined;
  let tls: RunningNginx | undefined;
  const cleanup = async () => {
    if (ffmpeg.exitCode === null) ffmpeg.kill('SIGKILL');
    await nginx?.stop();
    await tls?.stop();
    fs.rmSync(root, { recursive: true, force: true });
  };
  try {
    nginx = await startNginx({
      name: 'kcache-up',
      http: (port) =>
        `  ${upstreamLogFormat}\n  types { application/vnd.apple.mpegurl m3u8; video/mp2t ts; }\n` +
        `  server {\n    listen 127.0.0.1:${port};\n    access_log ${log} kcache_upstream;\n    root ${root};\n` +
        `    absolute_redirect off;\n` +
        `    location = /redirect/out.ts { return 302 http://evil.example/x.ts; }\n` +
        `    location = /redirect/same.ts { return 302 /static/one.ts; }\n` +
        `    location = /redirect/edge.ts { return 302 /kCache/other.example/x.ts; }\n` +
        `    location = /static/nostore.m3u8 { add_header Cache-Control no-store; }\n` +
        `    location = /static/long.m3u8 { add_header Cache-Control "public, max-age=60"; }\n  }\n`,
    });
    const host = `127.0.0.1:${nginx.port}`;
    const origin = certificate(root, 'origin.test');
    const other = certificate(root, 'default.test');
    const tlsLog = path.join(root, 'tls.log');
    // Both certificates trusted: what fails must be the name.
    const bundle = path.join(root, 'ca.pem');
    fs.writeFileSync(bundle, fs.readFileSync(origin.cert, 'utf8') + fs.readFileSync(other.cert, 'utf8'));
    tls = await startNginx({
      name: 'kcache-tls',
      http: (port) =>
        `  ${upstreamLogFormat}\n  types { application/vnd.apple.mpegurl m3u8; video/mp2t ts; }\n` +
        `  server {\n    listen 127.0.0.1:${port} ssl default_server;\n    ssl_certificate ${other.cert};\n` +
        `    ssl_certificate_key ${other.key};\n    access_log ${tlsLog} kcache_upstream;\n    return 421;\n  }\n` +
        `  server {\n    listen 127.0.0.1:${port} ssl;\n    server_name origin.test;\n` +
        `    ssl_certificate ${origin.cert};\n    ssl_certificate_key ${origin.key};\n` +
        `    access_log ${tlsLog} kcache_upstream;\n    root ${root};\n  }\n`,
    });
    fs.writeFileSync(path.join(root, 'static/one.ts'), Buffer.alloc(1000, 7));
    fs.writeFileSync(
      path.join(root, 'static/abs.m3u8'),
      `#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nhttp://${host}/static/one.ts\n` +
        `#EXTINF:1,\nhttps://elsewhere.example/two.ts\n#EXT-X-ENDLIST\n`,
    );
    for (const name of ['nostore', 'long'])
      fs.writeFileSync(path.join(root, `static/${name}.m3u8`), '#EXTM3U\n#EXT-X-TARGETDURATION:1\n');
    const playlistFile = path.join(root, 'hls/live.m3u8');
    await waitFor(
      'ffmpeg: 3 segments',
      async () => {
        if (ffmpeg.exitCode !== null) throw new Error(`ffmpeg exited: ${ffmpegErr}`);
        return fs.existsSync(playlistFile) && segments(fs.readFileSync(playlistFile, 'utf8')).length >= 3;
      },
      20_000,
      200,
    );
    const running = nginx;
    return {
      nginx: running,
      host,
      root,
      log,
      playlist: () => fs.readFileSync(playlistFile, 'utf8'),
      requests: (uri) => settled(() => readAccessLog(log).filter((l) => l.uri === uri).length),
      tls: {
        nginx: tls,
        ca: bundle,
        requests: (uri) => settled(() => readAccessLog(tlsLog).filter((l) => l.uri === uri).length),
      },
      stop: () => running.stop(true),
      cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** Segment URIs of a media playlist, in order. */
function segments(playlist: string): string[] {
  return playlist.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
}

/**
 * nginx with the shipped kcache configuration; `origins` is its allow list. `extra` goes in http { } too (upstream
 * groups standing in for DNS), `trustedCertificate` replaces the system's CAs.
 */
async function startKcache(
  origins: Array<{ host: string; upstream: string }>,
  o: { extra?: string; trustedCertificate?: string } = {},
): Promise<RunningNginx> {
  return startNginx({
    name: 'kcache',
    http: (port, dir) =>
      (o.extra ?? '') +
      renderKcacheConfig({
        origins,
        port,
        dir,
        ...(o.trustedCertificate ? { trustedCertificate: o.trustedCertificate } : {}),
      }),
  });
}

const test = base
  // eslint-disable-next-line no-empty-pattern
  .extend('upstream', { scope: 'file' }, async ({}, { onCleanup }): Promise<Upstream> => {
    const u = await startUpstream();
    onCleanup(() => u.cleanup());
    return u;
  })
  .extend('kcache', { scope: 'file' }, async ({ upstream }, { onCleanup }) => {
    // origin.test and wrong.test are upstream groups (no DNS here) at the https upstream, which has a certificate
    // for origin.test only: SNI must be sent, and the certificate checked.
    const tlsAt = `server 127.0.0.1:${upstream.tls.nginx.port};`;
    const k = await startKcache(
      [
        { host: upstream.host, upstream: `http://${upstream.host}` },
        { host: 'origin.test', upstream: 'https://origin.test' },
        { host: 'wrong.test', upstream: 'https://wrong.test' },
      ],
      {
        extra: `  upstream origin.test { ${tlsAt} }\n  upstream wrong.test { ${tlsAt} }\n`,
        trustedCertificate: upstream.tls.ca,
      },
    );
    onCleanup(() => k.stop());
    return {
      nginx: k,
      /** The edge URL of `<origin-host>/<rest>`. */
      url: (rest: string, host = upstream.host) => `${k.url}/kCache/${host}/${rest}`,
    };
  });
test.override('liveChannelName', 'kcache');
test.override('applianceOptions', { extraArgs: ['--fragment-duration', '1'] });

describe('nginx answering /kCache/<origin-host>/<path> (resources/nginx/ecdn-kcache.conf)', () => {
  test('fetches a segment upstream once however many viewers ask at once', async ({ upstream, kcache }) => {
    const segment = segments(upstream.playlist()).pop() as string;
    const bytes = fs.readFileSync(path.join(upstream.root, 'hls', segment));
    const answers = await Promise.all(
      Array.from({ length: 20 }, async (_v, i) => {
        const r = await fetch(kcache.url(`hls/${segment}`), { headers: { 'user-agent': `viewer-${i}` } });
        return {
          status: r.status,
          body: Buffer.from(await r.arrayBuffer()),
          length: r.headers.get('content-length'),
          type: r.headers.get('content-type'),
          cors: r.headers.get('access-control-allow-origin'),
        };
      }),
    );
    for (const a of answers) {
      expect(a.status).toBe(200);
      expect(a.body.equals(bytes)).toBe(true);
      expect(a.length).toBe(String(bytes.length));
      expect(a.type).toBe('video/mp2t');
      expect(a.cors).toBe('*');
    }
    expect(await upstream.requests(`/hls/${segment}`)).toBe(1);
    // Later viewers too: from the cache.
    const again = await fetch(kcache.url(`hls/${segment}`));
    await again.arrayBuffer();
    expect(again.headers.get('x-cache-status')).toBe('HIT');
    expect(await upstream.requests(`/hls/${segment}`)).toBe(1);
    // /kVOD/ and /kThumbnail/ are the same edge.
    expect((await fetch(kcache.url('static/one.ts').replace('/kCache/', '/kVOD/'))).status).toBe(200);
  });

  test('fetches https upstreams with SNI and a checked certificate', async ({ upstream, kcache }) => {
    const r = await fetch(kcache.url('static/one.ts', 'origin.test'));
    expect(r.status).toBe(200);
    expect(Buffer.from(await r.arrayBuffer()).equals(Buffer.alloc(1000, 7))).toBe(true);
    expect(await upstream.tls.requests('/static/one.ts')).toBe(1);
    // wrong.test is listed, but the server answers it with a (trusted) certificate for another name: refused
    // before any request is sent.
    expect((await fetch(kcache.url('static/one.ts', 'wrong.test'))).status).toBe(502);
    expect(await upstream.tls.requests('/static/one.ts')).toBe(1);
    expect(kcache.nginx.errorLog()).toMatch(/upstream SSL certificate does not match "wrong\.test"/);
  });

  test('refuses any host outside the allow list without asking upstream', async ({ upstream, kcache }) => {
    const before = await settled(() => readAccessLog(upstream.log).length);
    const port = upstream.nginx.port;
    for (const host of ['evil.example', `localhost:${port}`, `127.0.0.2:${port}`, `127.0.0.1:${port + 1}`]) {
      const r = await fetch(kcache.url('hls/live.m3u8', host));
      expect(r.status, host).toBe(403);
      expect((await fetch(kcache.url('static/one.ts', host))).status, host).toBe(403);
    }
    // No host at all, an encoded one, a user-info trick, a method that is not a read.
    for (const p of ['/kCache/hls/live.m3u8', `/kCache/127.0.0.1%3A${port}/hls/live.m3u8`])
      expect((await fetch(kcache.nginx.url + p)).status, p).toBe(403);
    expect((await fetch(kcache.url('static/one.ts', `127.0.0.1:${port}@evil.example`))).status).toBe(403);
    expect((await fetch(kcache.url('static/one.ts'), { method: 'POST', body: 'x' })).status).toBe(403);
    expect((await fetch(`${kcache.nginx.url}/static/one.ts`)).status).toBe(404);
    expect(await settled(() => readAccessLog(upstream.log).length)).toBe(before);
  });

  test('refreshes live playlists, at most about once a second upstream', async ({ upstream, kcache }) => {
    const url = kcache.url('hls/live.m3u8');
    const first = await (await fetch(url)).text();
    expect(first).toContain('#EXTM3U');
    const before = await upstream.requests('/hls/live.m3u8');
    // 10 players reloading every 100 ms for 3 s.
    const started = Date.now();
    const seen = new Set<string>();
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        while (Date.now() - started < 3000) {
          const r = await fetch(url);
          expect(r.status).toBe(200);
          for (const s of segments(await r.text())) seen.add(s);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }),
    );
    const fetched = (await upstream.requests('/hls/live.m3u8')) - before;
    // nginx counts whole seconds: a playlist is fresh 1 to 2 s after it was fetched.
    expect(fetched).toBeGreaterThanOrEqual(1);
    expect(fetched).toBeLessThanOrEqual(4);
    // Upstream can make a playlist's life shorter (no-store: every request goes upstream), not longer (60 s).
    for (let i = 0; i < 3; i++) await (await fetch(kcache.url('static/nostore.m3u8'))).arrayBuffer();
    expect(await upstream.requests('/static/nostore.m3u8')).toBe(3);
    await (await fetch(kcache.url('static/long.m3u8'))).arrayBuffer();
    // More than a target duration later, the edge's playlist has segments the first one did not.
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const later = segments(await (await fetch(url)).text());
    expect(later.filter((s) => !segments(first).includes(s)).length).toBeGreaterThan(0);
    const long = await fetch(kcache.url('static/long.m3u8'));
    await long.arrayBuffer();
    expect(long.headers.get('x-cache-status')).not.toBe('HIT');
    expect(await upstream.requests('/static/long.m3u8')).toBe(2);
  });

  test('passes LL-HLS blocking requests upstream once per distinct query, and a 404 once', async ({
    upstream,
    kcache,
  }) => {
    const queries = ['?_HLS_msn=100000&_HLS_part=0', '?_HLS_msn=100001&_HLS_part=0', '?_HLS_msn=100001'];
    for (const q of queries) {
      const statuses = await Promise.all(
        Array.from({ length: 10 }, async () => (await fetch(kcache.url(`hls/live.m3u8${q}`))).status),
      );
      expect(statuses.every((s) => s === 200)).toBe(true);
      expect(await upstream.requests(`/hls/live.m3u8${q}`), q).toBe(1);
    }
    // A crowd asking for a segment that is not there yet: one 404 upstream.
    const early = await Promise.all(
      Array.from({ length: 10 }, async () => (await fetch(kcache.url('hls/seg99999.ts'))).status),
    );
    expect(early.every((s) => s === 404)).toBe(true);
    expect(await upstream.requests('/hls/seg99999.ts')).toBe(1);
  });

  test('keeps viewers on the edge: absolute URIs and redirects', async ({ upstream, kcache }) => {
    const list = await (await fetch(kcache.url('static/abs.m3u8'))).text();
    expect(list).toContain(`/kCache/${upstream.host}/static/one.ts\n`);
    expect(list).not.toContain(`http://${upstream.host}/`);
    expect(list).toContain('https://elsewhere.example/two.ts');
    const out = await fetch(kcache.url('redirect/out.ts'), { redirect: 'manual' });
    expect(out.status).toBe(302);
    expect(out.headers.get('location')).toMatch(
      /^(http:\/\/127\.0\.0\.1:\d+)?\/kCache\/evil\.example\/x\.ts$/,
    );
    expect((await fetch(new URL(out.headers.get('location') as string, kcache.nginx.url))).status).toBe(403);
    const same = await fetch(kcache.url('redirect/same.ts'), { redirect: 'manual' });
    expect(same.headers.get('location')).toMatch(
      new RegExp(
        `^(http://127\\.0\\.0\\.1:\\d+)?/kCache/${upstream.host.replace(/\./g, '\\.')}/static/one\\.ts$`,
      ),
    );
    // A parent edge's Location is already on the edge: kept.
    const parentLike = await fetch(kcache.url('redirect/edge.ts'), { redirect: 'manual' });
    expect(parentLike.headers.get('location')).toMatch(
      /^(http:\/\/127\.0\.0\.1:\d+)?\/kCache\/other\.example\/x\.ts$/,
    );
    expect(await upstream.requests('/x.ts')).toBe(0);
  });

  test("pulls through an appliance's /kCache/ as its parent (the README's floors)", async ({
    upstream,
    startOtherAppliance,
  }) => {
    const parent = await startOtherAppliance({ extraArgs: ['--edge-origins', `http://${upstream.host}`] });
    // The floor's nginx: the origin host as viewers' URLs name it, fetched from the parent's /kCache/.
    const floor = await startKcache([
      { host: upstream.host, upstream: `${parent.origin}/kCache/${upstream.host}` },
    ]);
    try {
      const url = (rest: string) => `${floor.url}/kCache/${upstream.host}/${rest}`;
      const list = await fetch(url('hls/live.m3u8'));
      expect(list.status).toBe(200);
      const segment = segments(await list.text()).pop() as string;
      const bytes = fs.readFileSync(path.join(upstream.root, 'hls', segment));
      const answers = await Promise.all(
        Array.from({ length: 20 }, async () => {
          const r = await fetch(url(`hls/${segment}`));
          return { status: r.status, body: Buffer.from(await r.arrayBuffer()) };
        }),
      );
      for (const a of answers) {
        expect(a.status).toBe(200);
        expect(a.body.equals(bytes)).toBe(true);
      }
      // Two tiers, one request upstream (the segment is newer than any an earlier test fetched).
      expect(await upstream.requests(`/hls/${segment}`)).toBe(1);
      expect((await fetch(url(`hls/${segment}`))).headers.get('x-cache-status')).toBe('HIT');
      // Outside the floor's list: refused on the floor, the parent never asked.
      const before = await settled(() => readAccessLog(upstream.log).length);
      expect((await fetch(`${floor.url}/kCache/127.0.0.1:${parent.httpPort}/hls/live.m3u8`)).status).toBe(
        403,
      );
      expect(await settled(() => readAccessLog(upstream.log).length)).toBe(before);
    } finally {
      await floor.stop();
    }
  });

  test('serves what it has when the upstream is down', async ({ upstream, kcache }) => {
    const playlistUrl = kcache.url('hls/live.m3u8');
    const cached = segments(await (await fetch(playlistUrl)).text());
    const segment = cached[cached.length - 1] as string;
    const body = Buffer.from(await (await fetch(kcache.url(`hls/${segment}`))).arrayBuffer());
    const logged = new Set(readAccessLog(upstream.log).map((l) => l.uri));
    const unfetched = segments(upstream.playlist()).find((s) => !logged.has(`/hls/${s}`));
    await upstream.stop();
    // Past the playlist's freshness.
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const stale = await fetch(playlistUrl);
    expect(stale.status).toBe(200);
    expect(stale.headers.get('x-cache-status')).toBe('STALE');
    expect(segments(await stale.text())).toEqual(cached);
    const hit = await fetch(kcache.url(`hls/${segment}`));
    expect(hit.status).toBe(200);
    expect(Buffer.from(await hit.arrayBuffer()).equals(body)).toBe(true);
    // Never cached: a clear gateway error.
    const missing = await fetch(kcache.url(`hls/${unfetched ?? 'never.ts'}`));
    expect(missing.status).toBe(502);
  });
});

describe('nginx /kCache/ under an appliance (two tiers)', () => {
  test('serves the appliance origin playlists and fragments, fetching each fragment once', async ({
    appliance: a,
    liveChannel: c,
    publish,
  }) => {
    publish(c.publishUrl, { seconds: 40, gop: 30 });
    const edge = await startKcache([{ host: `127.0.0.1:${a.httpPort}`, upstream: a.origin }]);
    try {
      const viaEdge = (originUrl: string) =>
        originUrl.replace(a.origin, `${edge.url}/kCache/127.0.0.1:${a.httpPort}`);
      const master = await waitFor(
        'the channel live through the edge',
        async () => {
          const r = await fetch(viaEdge(c.playback.hls));
          return r.status === 200 && (await r.text());
        },
        40_000,
        500,
      );
      expect(master).toContain('tracks/video_source.m3u8');
      const originBase = c.playback.hls.replace(/\/\.m3u8$/, '/');
      const mediaUrl = viaEdge(`${originBase}tracks/video_source.m3u8`);
      const media = await waitFor(
        '2 fragments',
        async () => {
          const p = await (await fetch(mediaUrl)).text();
          return segments(p).length >= 2 && p;
        },
        30_000,
        500,
      );
      const fragment = new URL(segments(media).pop() as string, `${originBase}tracks/video_source.m3u8`).href;
      const requests = async () =>
        (
          (await (await a.api('GET', `/api/v1/channels/${c.entryId}/viewers`)).json()) as {
            requestsByRendition: Record<string, number>;
          }
        ).requestsByRendition.video_source ?? 0;
      const before = await requests();
      const fromOrigin = Buffer.from(await (await fetch(fragment)).arrayBuffer());
      const answers = await Promise.all(
        Array.from({ length: 20 }, async () => {
          const r = await fetch(viaEdge(fragment));
          return { status: r.status, body: Buffer.from(await r.arrayBuffer()) };
        }),
      );
      for (const x of answers) {
        expect(x.status).toBe(200);
        expect(x.body.equals(fromOrigin)).toBe(true);
      }
      // The direct fetch above is the origin's one; the edge's 20 viewers cost it one more.
      expect((await requests()) - before).toBe(2);
      // A refreshed media playlist through the edge.
      await waitFor(
        'a newer media playlist through the edge',
        async () => (await (await fetch(mediaUrl)).text()) !== media,
        10_000,
        500,
      );
    } finally {
      await edge.stop();
    }
  });
});
