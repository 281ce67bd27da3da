/**
 * Debian's nginx serving a directory of static files, unprivileged, in a throwaway prefix (as
 * test/e2e/nginx-edge.test.ts runs it): keep-alive on, sendfile on, no access log, one worker process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitFor } from '../../test/helpers/appliance.js';

export const NGINX = process.env.ECDN_TEST_NGINX ?? '/usr/sbin/nginx';

export interface StaticNginx {
  proc: ChildProcess;
  pid: number;
  url: string;
  port: number;
  /** nginx.conf as written. */
  config: string;
  stop: () => Promise<void>;
}

export async function startStaticNginx(root: string, workers = 1): Promise<StaticNginx> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecdn-bench-nginx-'));
  // nginx's workers run as an unprivileged user: they must be able to enter the prefix and read the files.
  fs.chmodSync(dir, 0o755);
  const port = await freePort();
  const config =
    `daemon off;\nworker_processes ${workers};\npid ${dir}/nginx.pid;\nerror_log ${dir}/error.log warn;\n` +
    `worker_rlimit_nofile 8192;\nevents { worker_connections 4096; }\n` +
    `http {\n  access_log off;\n  client_body_temp_path ${dir}/body;\n  proxy_temp_path ${dir}/proxy;\n` +
    `  fastcgi_temp_path ${dir}/fcgi;\n  uwsgi_temp_path ${dir}/uwsgi;\n  scgi_temp_path ${dir}/scgi;\n` +
    `  sendfile on;\n  tcp_nopush on;\n  keepalive_timeout 75s;\n  keepalive_requests 1000000;\n` +
    `  types {\n    application/vnd.apple.mpegurl m3u8;\n    video/iso.segment m4s;\n    video/mp4 mp4;\n  }\n` +
    `  server {\n    listen 127.0.0.1:${port};\n    root ${root};\n` +
    `    location / {\n      add_header Access-Control-Allow-Origin *;\n    }\n  }\n}\n`;
  const conf = path.join(dir, 'nginx.conf');
  fs.writeFileSync(conf, config);
  const proc = spawn(NGINX, ['-p', dir, '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor('nginx', async () => (await fetch(`${url}/nothing-here`)).status === 404, 10_000, 100);
  } catch (err) {
    const log = fs.existsSync(`${dir}/error.log`) ? fs.readFileSync(`${dir}/error.log`, 'utf8') : '';
    await stop();
    throw new Error(`${(err as Error).message}\n${stderr}${log}`);
  }
  if (proc.pid === undefined) throw new Error('nginx has no pid');
  return { proc, pid: proc.pid, url, port, config, stop };
}
