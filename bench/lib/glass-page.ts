/**
 * The glass-to-glass player: a throwaway page server with hls.js (from node_modules, no internet) whose page
 * plays `?src=` muted in a <video>, with `lowLatencyMode` from `?ll=1`, and answers `window.__sample()`: the
 * page's wall clock next to hls.playingDate (the EXT-X-PROGRAM-DATE-TIME of the playing position).
 */
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import type net from 'node:net';

const HLS_JS = createRequire(import.meta.url).resolve('hls.js/dist/hls.min.js');

const PAGE = `<!doctype html>
<html>
<head><meta charset="utf-8"><title>eCDN glass-to-glass bench</title></head>
<body>
<video id="video" muted autoplay playsinline width="640" height="360"></video>
<script src="/hls.js"></script>
<script>
  const q = new URLSearchParams(location.search);
  const video = document.getElementById('video');
  const lowLatencyMode = q.get('ll') === '1';
  const catchUp = Number(q.get('catchup') || '1');
  const hls = new Hls(catchUp > 1 ? { lowLatencyMode, maxLiveSyncPlaybackRate: catchUp } : { lowLatencyMode });
  window.__errors = [];
  window.__stalls = 0;
  window.__playError = null;
  video.addEventListener('waiting', () => { window.__stalls++; });
  hls.on(Hls.Events.ERROR, (_e, d) => {
    window.__errors.push({ details: String(d.details), fatal: Boolean(d.fatal) });
  });
  hls.on(Hls.Events.MANIFEST_PARSED, () => {
    video.play().catch((err) => { window.__playError = String(err); });
  });
  hls.loadSource(q.get('src'));
  hls.attachMedia(video);
  window.__sample = () => {
    const date = hls.playingDate;
    const details = hls.levels[hls.currentLevel] && hls.levels[hls.currentLevel].details;
    return {
      wall: Date.now(),
      playingDate: date ? date.getTime() : null,
      currentTime: video.currentTime,
      paused: video.paused,
      readyState: video.readyState,
      latency: hls.latency,
      targetLatency: hls.targetLatency,
      level: hls.currentLevel,
      height: video.videoHeight,
      partTarget: details && details.partTarget ? details.partTarget : 0,
      lowLatencyMode,
      stalls: window.__stalls,
      errors: window.__errors,
      playError: window.__playError,
    };
  };
</script>
</body>
</html>
`;

export interface GlassSample {
  /** Date.now() in the page when sampled. */
  wall: number;
  /** hls.playingDate in ms since the epoch, null before playback. */
  playingDate: number | null;
  currentTime: number;
  paused: boolean;
  readyState: number;
  /** hls.js's own estimate: seconds from the playing position to the live edge of the playlist. */
  latency: number;
  targetLatency: number | null;
  level: number;
  height: number;
  /** PART-TARGET of the playing level's playlist (0 without LL-HLS). */
  partTarget: number;
  lowLatencyMode: boolean;
  stalls: number;
  errors: Array<{ details: string; fatal: boolean }>;
  playError: string | null;
}

export interface GlassPageServer {
  /** `catchUp` > 1: hls.js maxLiveSyncPlaybackRate (plays faster to reach its target latency). */
  url: (src: string, lowLatency: boolean, catchUp?: number) => string;
  close: () => Promise<void>;
}

export async function startGlassPageServer(): Promise<GlassPageServer> {
  const hlsJs = fs.readFileSync(HLS_JS);
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(PAGE);
    } else if (path === '/hls.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
      res.end(hlsJs);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const origin = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return {
    url: (src, lowLatency, catchUp = 1) =>
      `${origin}/?src=${encodeURIComponent(src)}&ll=${lowLatency ? 1 : 0}&catchup=${catchUp}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
