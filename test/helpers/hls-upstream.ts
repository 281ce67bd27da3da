/**
 * An upstream for the edge tests: Debian's nginx (as a non-root user's process, in a temp prefix) serving a live HLS
 * that real ffmpeg writes (a TS variant and an fMP4 variant), a master playlist with absolute URIs, and static
 * files; every request it answers is in its access log. nginx can be stopped and started again on the same port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitFor } from './appliance.js';

const NGINX = process.env.ECDN_TEST_NGINX ?? '/usr/sbin/nginx';

export interface HlsUpstreamOptions {
  /** Seconds of live stream ffmpeg writes (real time). */
  seconds: number;
  /** Segment duration (s), also the key frame interval. */
  segment: number;
  /** Static files: how many, and how large (bytes). */
  staticFiles?: { count: number; bytes: number };
}

export interface HlsUpstream {
  port: number;
  /** How `/kCache/` URLs name it: `127.0.0.1:<port>`. */
  key: string;
  /** How `--edge-origins` lists it: `http://127.0.0.1:<port>`. */
  listed: string;
  dir: string;
  /** The request URIs nginx answered so far, with their status, in order. */
  requests(): Array<{ uri: string; status: number }>;
  stopNginx(): Promise<void>;
  startNginx(): Promise<void>;
  stop(): Promise<void>;
}

export async function startHlsUpstream(o: HlsUpstreamOptions): Promise<HlsUpstream> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecdn-upstream-'));
  // nginx's workers run as an unprivileged user: they must be able to enter the prefix and read the files.
  fs.chmodSync(dir, 0o755);
  const www = path.join(dir, 'www');
  for (const d of ['ts', 'fmp4', 'static']) fs.mkdirSync(path.join(www, d), { recursive: true, mode: 0o755 });
  fs.chmodSync(www, 0o755);
  const log = path.join(dir, 'access.log');
  fs.writeFileSync(log, '', { mode: 0o666 });
  fs.chmodSync(log, 0o666);
  for (let i = 0; i < (o.staticFiles?.count ?? 0); i++)
    fs.writeFileSync(path.join(www, 'static', `blob-${i}.bin`), Buffer.alloc(o.staticFiles!.bytes, i), {
      mode: 0o644,
    });

  let port = 0;
  let nginx: ChildProcess | undefined;
  let restarts = 0;
  const conf = path.join(dir, 'nginx.conf');
  const writeConf = () =>
    fs.writeFileSync(
      conf,
      `daemon off;\nworker_processes 1;\npid ${dir}/nginx.pid;\nerror_log ${dir}/error.log warn;\n` +
        `events { worker_connections 512; }\n` +
        `http {\n  types { application/vnd.apple.mpegurl m3u8; video/mp2t ts; video/mp4 mp4 m4s; application/octet-stream bin; }\n` +
        `  log_format edge '$request_uri $status';\n  access_log ${log} edge;\n` +
        `  client_body_temp_path ${dir}/body;\n  proxy_temp_path ${dir}/proxy;\n  fastcgi_temp_path ${dir}/fcgi;\n` +
        `  uwsgi_temp_path ${dir}/uwsgi;\n  scgi_temp_path ${dir}/scgi;\n` +
        `  server {\n    listen 127.0.0.1:${port};\n    root ${www};\n  }\n}\n`,
    );
  const startNginx = async () => {
    for (let attempt = 1; ; attempt++) {
      if (port === 0 || (attempt > 1 && restarts === 0)) port = await freePort();
      writeConf();
      const proc = spawn(NGINX, ['-p', dir, '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      proc.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      try {
        await waitFor(
          'nginx',
          async () => {
            if (proc.exitCode !== null) throw new Error(`nginx exited with ${proc.exitCode}: ${stderr}`);
            return (await fetch(`http://127.0.0.1:${port}/nothing-here`)).status === 404;
          },
          10_000,
          50,
        );
        nginx = proc;
        return;
      } catch (err) {
        proc.kill('SIGKILL');
        // A restart must keep its port; a first start may pick another.
        if (/Address already in use/.test(stderr) && attempt < 4 && restarts === 0) continue;
        throw err;
      }
    }
  };
  const stopNginx = async () => {
    const p = nginx;
    nginx = undefined;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await exited;
  };
  await startNginx();

  // The master playlist lists both variants with absolute URIs: the edge rewrites them.
  fs.writeFileSync(
    path.join(www, 'master.m3u8'),
    [
      '#EXTM3U',
      '#EXT-X-VERSION:7',
      '#EXT-X-INDEPENDENT-SEGMENTS',
      '#EXT-X-STREAM-INF:BANDWIDTH=400000,RESOLUTION=320x180,CODECS="avc1.42c00d,mp4a.40.2"',
      `http://127.0.0.1:${port}/ts/index.m3u8`,
      '',
    ].join('\n'),
    { mode: 0o644 },
  );

  // Files ffmpeg writes must be readable by nginx's workers.
  if ((process.umask() & 0o004) !== 0)
    throw new Error('the edge test needs a umask that leaves files world-readable');
  const gop = String(Math.round(o.segment * 25));
  const video = [
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-tune',
    'zerolatency',
    '-g',
    gop,
    '-keyint_min',
    gop,
  ];
  const common = [
    ...video,
    '-sc_threshold',
    '0',
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    '-b:a',
    '64k',
    '-ar',
    '48000',
  ];
  const hls = [
    '-f',
    'hls',
    '-hls_time',
    String(o.segment),
    '-hls_list_size',
    '8',
    '-hls_flags',
    'delete_segments',
  ];
  const ffmpeg = spawn(
    'ffmpeg',
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-re',
      '-f',
      'lavfi',
      '-t',
      String(o.seconds),
      '-i',
      'testsrc2=size=320x180:rate=25',
      '-f',
      'lavfi',
      '-t',
      String(o.seconds),
      '-i',
      'sine=frequency=440:sample_rate=48000',
      '-map',
      '0:v',
      '-map',
      '1:a',
      ...common,
      ...hls,
      path.join(www, 'ts', 'index.m3u8'),
      '-map',
      '0:v',
      '-map',
      '1:a',
      ...common,
      ...hls,
      '-hls_segment_type',
      'fmp4',
      '-hls_fmp4_init_filename',
      'init.mp4',
      path.join(www, 'fmp4', 'index.m3u8'),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let ffmpegErr = '';
  ffmpeg.stderr?.setEncoding('utf8').on('data', (d: string) => (ffmpegErr += d));
  const up: HlsUpstream = {
    get port() {
      return port;
    },
    get key() {
      return `127.0.0.1:${port}`;
    },
    get listed() {
      return `http://127.0.0.1:${port}`;
    },
    dir,
    requests: () =>
      fs
        .readFileSync(log, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => {
          const [uri, status] = l.split(' ');
          return { uri: uri as string, status: Number(status) };
        }),
    stopNginx,
    startNginx: async () => {
      restarts++;
      await startNginx();
    },
    stop: async () => {
      ffmpeg.kill('SIGKILL');
      await stopNginx();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await waitFor(
      'ffmpeg to list 2 segments in both variants',
      async () => {
        if (ffmpeg.exitCode !== null) throw new Error(`ffmpeg exited: ${ffmpegErr}`);
        const count = (v: string) => {
          try {
            return (fs.readFileSync(path.join(www, v, 'index.m3u8'), 'utf8').match(/#EXTINF/g) ?? []).length;
          } catch {
            return 0;
          }
        };
        return count('ts') >= 2 && count('fmp4') >= 2;
      },
      20_000,
      200,
    );
  } catch (err) {
    await up.stop();
    throw err;
  }
  return up;
}
