/**
 * Debian's nginx for tests and benches: unprivileged configuration in a throwaway prefix, on a free loopback port,
 * plus the shipped edge configurations rendered for a test (resources/nginx/ecdn-edge.conf, ecdn-kcache.conf).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, freePort, waitFor } from './appliance.js';

export const NGINX = process.env.ECDN_TEST_NGINX ?? '/usr/sbin/nginx';

export interface RunningNginx {
  proc: ChildProcess;
  /** The master's pid (its workers are its children). */
  pid: number;
  port: number;
  url: string;
  /** The prefix: nginx.conf, error.log, temp paths; removed by `stop`. */
  dir: string;
  /** nginx.conf as written. */
  config: string;
  errorLog: () => string;
  /** SIGQUIT (graceful), SIGKILL after 5 s; removes the prefix unless `keepDir`. */
  stop: (keepDir?: boolean) => Promise<void>;
}

export interface NginxOptions {
  /** Names the prefix (ecdn-<name>-XXXX). */
  name: string;
  /** What goes inside http { }: the server block(s), given the port to listen on and the prefix. */
  http: (port: number, dir: string) => string;
  workers?: number;
  workerConnections?: number;
}

/**
 * Runs nginx with `http(port, dir)` inside a minimal main configuration. A free port can be taken by a parallel
 * process before nginx binds it: nginx then exits, and another port is tried. Ready when the port answers HTTP.
 */
export async function startNginx(o: NginxOptions): Promise<RunningNginx> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ecdn-${o.name}-`));
  // nginx's workers run as an unprivileged user when the master is root: they must be able to enter the prefix.
  fs.chmodSync(dir, 0o755);
  const errorLog = () =>
    fs.existsSync(`${dir}/error.log`) ? fs.readFileSync(`${dir}/error.log`, 'utf8') : '';
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const config =
      `daemon off;\nworker_processes ${o.workers ?? 1};\npid ${dir}/nginx.pid;\nerror_log ${dir}/error.log warn;\n` +
      `worker_rlimit_nofile 8192;\nevents { worker_connections ${o.workerConnections ?? 1024}; }\n` +
      `http {\n  access_log off;\n  client_body_temp_path ${dir}/body;\n  proxy_temp_path ${dir}/proxy;\n` +
      `  fastcgi_temp_path ${dir}/fcgi;\n  uwsgi_temp_path ${dir}/uwsgi;\n  scgi_temp_path ${dir}/scgi;\n` +
      `${o.http(port, dir)}\n}\n`;
    const conf = path.join(dir, 'nginx.conf');
    fs.writeFileSync(conf, config);
    const proc = spawn(NGINX, ['-p', dir, '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    const url = `http://127.0.0.1:${port}`;
    const kill = async (signal: NodeJS.Signals) => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill(signal);
        const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
    };
    try {
      await waitFor(
        'nginx',
        async () => {
          if (proc.exitCode !== null) throw new Error(`nginx exited with ${proc.exitCode}`);
          await fetch(`${url}/`);
          return proc.exitCode === null;
        },
        10_000,
        100,
      );
    } catch (err) {
      await kill('SIGKILL');
      if (/Address already in use/.test(stderr + errorLog()) && attempt < 4) continue;
      const text = `${(err as Error).message}\n${stderr}${errorLog()}`;
      fs.rmSync(dir, { recursive: true, force: true });
      throw new Error(text);
    }
    if (proc.pid === undefined) throw new Error('nginx has no pid');
    return {
      proc,
      pid: proc.pid,
      port,
      url,
      dir,
      config,
      errorLog,
      stop: async (keepDir = false) => {
        await kill('SIGQUIT');
        if (!keepDir) fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  }
}

/** resources/nginx/ecdn-edge.conf pointed at an origin on loopback, its cache in `dir`, listening on `port`. */
export function renderEdgeConfig(originPort: number, port: number, dir: string): string {
  return fs
    .readFileSync(path.join(ROOT, 'resources/nginx/ecdn-edge.conf'), 'utf8')
    .replace('server ORIGIN;', `server 127.0.0.1:${originPort};`)
    .replace('/var/cache/nginx/ecdn', path.join(dir, 'cache'))
    .replace('listen 8090;', `listen 127.0.0.1:${port};`);
}

export const KCACHE_CONF = path.join(ROOT, 'resources/nginx/ecdn-kcache.conf');

export interface KcacheOrigin {
  /** <origin-host> as it appears in /kCache/<origin-host>/, e.g. `127.0.0.1:8080`. */
  host: string;
  /** Where it is fetched from: `http://127.0.0.1:8080`, or a parent edge's `http://parent:port/kCache/<host>`. */
  upstream: string;
  /** The origin's absolute URL prefix rewritten in playlists; default `<upstream's scheme>//<host>/`. */
  absolute?: string;
}

/**
 * resources/nginx/ecdn-kcache.conf as a site would fill it in: the allow list (both places), the cache paths
 * under `dir`, the port on loopback; optionally the resolver and the CA bundle for https upstreams.
 */
export function renderKcacheConfig(
  o: {
    origins: readonly KcacheOrigin[];
    port: number;
    dir: string;
    resolver?: string;
    /** CA bundle https upstreams are checked against, instead of the system's. */
    trustedCertificate?: string;
  },
  source = fs.readFileSync(KCACHE_CONF, 'utf8'),
): string {
  const blocks = [...source.matchAll(/# allow list: begin\n[\s\S]*?# allow list: end\n/g)];
  if (blocks.length !== 2)
    throw new Error(`expected 2 allow list blocks in ${KCACHE_CONF}, found ${blocks.length}`);
  const map = o.origins.map((x) => `    ${x.host} ${x.upstream};\n`).join('');
  const rewrites = o.origins
    .map((x) => {
      const absolute = x.absolute ?? `${new URL(x.upstream).protocol}//${x.host}/`;
      return `        sub_filter "${absolute}" "/kCache/${x.host}/";\n`;
    })
    .join('');
  let i = 0;
  let out = source.replace(/# allow list: begin\n[\s\S]*?# allow list: end\n/g, () =>
    i++ === 0 ? map : rewrites,
  );
  const replace = (from: string, to: string) => {
    if (!out.includes(from)) throw new Error(`${KCACHE_CONF}: "${from}" not found`);
    out = out.split(from).join(to);
  };
  replace('/var/cache/nginx/kcache-live', path.join(o.dir, 'kcache-live'));
  replace('/var/cache/nginx/kcache ', `${path.join(o.dir, 'kcache')} `);
  replace('listen 8091;', `listen 127.0.0.1:${o.port};`);
  if (o.resolver) out = out.replace(/resolver \S+ /, `resolver ${o.resolver} `);
  if (o.trustedCertificate) replace('/etc/ssl/certs/ca-certificates.crt', o.trustedCertificate);
  return out;
}

/** One line of the upstream's access log (log_format `kcache_upstream` of {@link upstreamLogFormat}). */
export interface AccessLine {
  uri: string;
  status: number;
  bytes: number;
}

/** A log format with only what the tests count: request URI, status, body bytes. */
export const upstreamLogFormat = "log_format kcache_upstream '$request_uri $status $body_bytes_sent';";

export function readAccessLog(file: string): AccessLine[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [uri = '', status = '0', bytes = '0'] = l.split(' ');
      return { uri, status: Number(status), bytes: Number(bytes) };
    });
}
