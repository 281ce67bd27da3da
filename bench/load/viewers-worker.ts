/**
 * Simulated players in one process (the bench's viewers figure starts a few): each joins at its time in the
 * ramp, reads its channel's master, picks a variant (and the audio rendition), then, per media playlist, polls it
 * every half target duration (+-10 % jitter) and fetches every fragment it has not seen before, one after the
 * other, until the end time. A fragment is late when its response has completed more than `lateMs` after this
 * player first saw it listed. Each player has its own keep-alive agent (at most 2 connections, as a browser
 * tab playing video + audio holds), so 1000 players hold about 2000 connections.
 * Input (stdin JSON): {@link ViewersJob}; output: {@link ViewersWorkerResult}.
 */
import http from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { readInput, writeResult } from './io.js';

export interface ViewersJob {
  /** Master playlist URLs, one per channel. */
  masters: string[];
  players: number;
  /** Global index of this worker's first player: players are spread round-robin over channels and variants. */
  firstPlayer: number;
  totalPlayers: number;
  /** Date.now() at which the first player of all workers joins. */
  startAt: number;
  /** The last player of all workers joins rampMs after startAt. */
  rampMs: number;
  /** Date.now() at which every player stops (no new request after it). */
  endAt: number;
  lateMs: number;
  timeoutMs: number;
  maxSocketsPerPlayer: number;
  /** Follow the audio rendition's playlist too (as hls.js does with a separate audio group). */
  followAudio: boolean;
}

export interface ViewersWorkerResult {
  players: number;
  joined: number;
  playlistRequests: number;
  fragmentRequests: number;
  bytes: number;
  errors: number;
  errorSamples: string[];
  late: number;
  lateSamples: string[];
  /** ms from request start to the last byte, per fragment. */
  fragmentFetchMs: number[];
  /** ms from the moment the player first saw the fragment listed to its last byte. */
  listedToDoneMs: number[];
  /** ms from request start to the last byte, per playlist. */
  playlistFetchMs: number[];
  /** Event-loop delay of this worker, ms: a busy generator makes fragments look late. */
  loopDelayMs: { p50: number; p99: number; max: number };
  cpuSeconds: number;
}

interface Got {
  status: number;
  bytes: number;
  body?: string;
}

function get(url: string, agent: http.Agent, ua: string, timeoutMs: number, keepBody: boolean): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, headers: { 'user-agent': ua } }, (res) => {
      let bytes = 0;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        if (keepBody) chunks.push(c);
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          bytes,
          ...(keepBody ? { body: Buffer.concat(chunks).toString('utf8') } : {}),
        }),
      );
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** URIs of a master: variants (EXT-X-STREAM-INF) and the first audio rendition (EXT-X-MEDIA URI). */
function parseMaster(text: string, base: string): { variants: string[]; audio?: string } {
  const lines = text.split('\n').map((l) => l.trim());
  const variants: string[] = [];
  lines.forEach((l, i) => {
    if (!l.startsWith('#EXT-X-STREAM-INF')) return;
    const uri = lines.slice(i + 1).find((x) => x !== '' && !x.startsWith('#'));
    if (uri) variants.push(new URL(uri, base).href);
  });
  const audio = lines.map((l) => /^#EXT-X-MEDIA:.*TYPE=AUDIO.*URI="([^"]+)"/.exec(l)?.[1]).find(Boolean);
  return { variants, ...(audio ? { audio: new URL(audio, base).href } : {}) };
}

function parseMedia(text: string, base: string): { targetDuration: number; segments: string[] } {
  let targetDuration = 2;
  const segments: string[] = [];
  for (const raw of text.split('\n')) {
    const l = raw.trim();
    if (l.startsWith('#EXT-X-TARGETDURATION:')) targetDuration = Number(l.slice(22)) || 2;
    else if (l !== '' && !l.startsWith('#')) segments.push(new URL(l, base).href);
  }
  return { targetDuration, segments };
}

const job = await readInput<ViewersJob>();
const out: ViewersWorkerResult = {
  players: job.players,
  joined: 0,
  playlistRequests: 0,
  fragmentRequests: 0,
  bytes: 0,
  errors: 0,
  errorSamples: [],
  late: 0,
  lateSamples: [],
  fragmentFetchMs: [],
  listedToDoneMs: [],
  playlistFetchMs: [],
  loopDelayMs: { p50: 0, p99: 0, max: 0 },
  cpuSeconds: 0,
};
const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();
const cpu0 = process.cpuUsage();

const error = (what: string): void => {
  out.errors++;
  if (out.errorSamples.length < 10) out.errorSamples.push(what);
};
const ended = (): boolean => Date.now() >= job.endAt;

/** Follows one media playlist until the end time. */
async function follow(url: string, agent: http.Agent, ua: string): Promise<void> {
  const seen = new Set<string>();
  let joining = true;
  while (!ended()) {
    const t0 = performance.now();
    let pollMs = 1000;
    try {
      const r = await get(url, agent, ua, job.timeoutMs, true);
      out.playlistRequests++;
      out.playlistFetchMs.push(performance.now() - t0);
      if (r.status !== 200) {
        error(`playlist ${r.status} ${url}`);
      } else {
        const listedAt = performance.now();
        const { targetDuration, segments } = parseMedia(r.body ?? '', url);
        pollMs = (targetDuration * 1000) / 2;
        // Joining: start at the newest fragment (a player starts near the live edge); then every new one.
        const fresh = joining ? segments.slice(-1) : segments.filter((s) => !seen.has(s));
        for (const s of segments) seen.add(s);
        joining = false;
        for (const s of fresh) {
          if (ended()) break;
          const f0 = performance.now();
          try {
            const fr = await get(s, agent, ua, job.timeoutMs, false);
            const done = performance.now();
            out.fragmentRequests++;
            out.bytes += fr.bytes;
            if (fr.status !== 200) {
              error(`fragment ${fr.status} ${s}`);
              continue;
            }
            out.fragmentFetchMs.push(done - f0);
            out.listedToDoneMs.push(done - listedAt);
            if (done - listedAt > job.lateMs) {
              out.late++;
              if (out.lateSamples.length < 10)
                out.lateSamples.push(
                  `${Math.round(done - listedAt)} ms (fetch ${Math.round(done - f0)} ms) ${s}`,
                );
            }
          } catch (err) {
            out.fragmentRequests++;
            error(`fragment ${(err as Error).message} ${s}`);
          }
        }
      }
    } catch (err) {
      out.playlistRequests++;
      error(`playlist ${(err as Error).message} ${url}`);
    }
    // Half a target duration after the previous poll started, +-10 %.
    await sleep(t0 + pollMs * (0.9 + Math.random() * 0.2) - performance.now());
  }
}

async function player(i: number): Promise<void> {
  const global = job.firstPlayer + i;
  await sleep(job.startAt + (job.rampMs * global) / Math.max(1, job.totalPlayers - 1) - Date.now());
  if (ended()) return;
  const agent = new http.Agent({ keepAlive: true, maxSockets: job.maxSocketsPerPlayer });
  const ua = `ecdn-bench-player-${global}`;
  try {
    const master = job.masters[global % job.masters.length] as string;
    const m = await get(master, agent, ua, job.timeoutMs, true);
    out.playlistRequests++;
    if (m.status !== 200) return error(`master ${m.status} ${master}`);
    const { variants, audio } = parseMaster(m.body ?? '', master);
    const variant = variants[Math.floor(global / job.masters.length) % Math.max(1, variants.length)];
    if (!variant) return error(`master without variants ${master}`);
    out.joined++;
    const playlists = [variant, ...(audio && job.followAudio ? [audio] : [])];
    await Promise.all(playlists.map((u) => follow(u, agent, ua)));
  } catch (err) {
    error(`player ${global}: ${(err as Error).message}`);
  } finally {
    agent.destroy();
  }
}

await Promise.race([
  Promise.all(Array.from({ length: job.players }, (_v, i) => player(i))),
  // In-flight requests may take up to timeoutMs after the end; never longer.
  sleep(job.endAt + job.timeoutMs + 2000 - Date.now()),
]);
loop.disable();
const usage = process.cpuUsage(cpu0);
out.cpuSeconds = (usage.user + usage.system) / 1e6;
out.loopDelayMs = { p50: loop.percentile(50) / 1e6, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 };
writeResult(out);
