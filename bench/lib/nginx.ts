/**
 * Debian's nginx serving a directory of static files for the serving bench (started by test/helpers/nginx.ts, as
 * the tests start it): keep-alive on, sendfile on, no access log, one worker process.
 */
import { startNginx, type RunningNginx } from '../../test/helpers/nginx.js';

export type StaticNginx = RunningNginx;

export function startStaticNginx(root: string, workers = 1): Promise<StaticNginx> {
  return startNginx({
    name: 'bench-static',
    workers,
    workerConnections: 4096,
    http: (port) =>
      `  sendfile on;\n  tcp_nopush on;\n  keepalive_timeout 75s;\n  keepalive_requests 1000000;\n` +
      `  types {\n    application/vnd.apple.mpegurl m3u8;\n    video/iso.segment m4s;\n    video/mp4 mp4;\n  }\n` +
      `  server {\n    listen 127.0.0.1:${port};\n    root ${root};\n` +
      `    location / {\n      add_header Access-Control-Allow-Origin *;\n    }\n  }`,
  });
}
