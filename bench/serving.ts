/**
 * Serving speed beside nginx, under wrk (a native load generator: a Node one saturates the two cores before the
 * origin does and hides its latency). Two loads, each at 50 and 200 connections while another channel is live and
 * transcoding:
 * - playlists: the live channel's video and audio media playlists from the origin; nginx serves a copy of the same
 *   playlists taken when the load starts (static files);
 * - fragments: the video fragments of a just-ended 720p channel, served by the origin and, copied into a directory
 *   with the same paths, by Debian's nginx (static files, sendfile, keep-alive).
 * Before a server is loaded it must answer every path with 200 and the expected bytes (nginx: exactly the copy;
 * the origin's live playlists: 200 and a playlist). Server CPU is read from /proc over each run: CPU seconds per
 * GB served. A bare `node:http` server serving the fragments from memory joins with BENCH_SERVING_NODE=1 (what
 * Node itself can do). Each server is loaded BENCH_SERVING_ROUNDS times per load and level, in turn, and its best
 * round counts: wrk shares the two cores with the servers and the transcoder.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startAppliance, waitFor, type RunningAppliance } from '../test/helpers/appliance.js';
import { ffmpegUrl, publish } from '../test/helpers/encoder.js';
import { createChannel } from '../test/helpers/appliance.js';
import { channelStats, LIVE_SOURCE, startLive, type LiveSession } from './live-common.js';
import { startServerChild } from './lib/child.js';
import { ProcessCpu } from './lib/cpu.js';
import { parseMediaPlaylist } from './lib/hls.js';
import { startStaticNginx, type StaticNginx } from './lib/nginx.js';
import { childrenOf } from './lib/proc-mem.js';
import { applianceStartEnv, fmt, progress, type SectionResult, type SectionRow } from './lib/section.js';
import { check } from './lib/table.js';
import { runWrk, writeWrkScript, wrkVersion, type WrkSummary } from './lib/wrk.js';
import type { NodeStaticJob } from './load/node-static-server.js';

const LEVELS = (process.env.BENCH_SERVING_LEVELS ?? '50,200').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_SERVING_SECONDS ?? 10);
const WARMUP_SECONDS = 2;
/** Loads of each server per level; the best one counts. */
const ROUNDS = Math.max(1, Number(process.env.BENCH_SERVING_ROUNDS ?? 2));
const WITH_NODE = process.env.BENCH_SERVING_NODE === '1';
/** Seconds of the publish that becomes the fixture (the DVR window of 30 s holds all of it). */
const PUBLISH_SECONDS = 24;
const MB = 2 ** 20;
const GB = 1e9;
/** The targets: throughput >= 0.8 of nginx's at every level; p99 within 2x of nginx's at 200. */
export const SERVING_TARGET = { ratio: 0.8, p99Factor: 2, p99AtConnections: 200 };

type ServerName = 'origin' | 'nginx' | 'node';
type LoadName = 'playlists' | 'fragments';

export interface ServerRun extends WrkSummary {
  server: ServerName;
  /** CPU seconds of the serving processes (the appliance's core / nginx's workers / the node server). */
  serverCpuSeconds: number;
  /** serverCpuSeconds per GB of response bytes. */
  cpuSecondsPerGB: number;
}

export interface ServingResult {
  wrk: string | null;
  fixture: {
    entryId: string;
    liveEntryId: string;
    files: number;
    bytes: number;
    videoFragmentBytes: { min: number; max: number; mean: number };
    playlistBytes: number;
  };
  loads: Array<{
    load: LoadName;
    connections: number;
    /** Each server's best round (highest throughput). */
    runs: Partial<Record<ServerName, ServerRun>>;
    /** origin / nginx, throughput. */
    throughputRatio: number;
    /** origin p99 / nginx p99. */
    p99Ratio: number;
    /** Throughput of every round, MB/s, in the order run. */
    rounds: Partial<Record<ServerName, number[]>>;
  }>;
  rounds: number;
  nginxConfig: string;
}

/** Fetches `urlPath` from the origin into `root` at the same path. */
async function mirror(a: RunningAppliance, root: string, urlPath: string): Promise<Buffer> {
  const r = await fetch(a.origin + urlPath);
  const body = Buffer.from(await r.arrayBuffer());
  if (r.status !== 200) throw new Error(`${urlPath}: ${r.status}`);
  const file = path.join(root, decodeURIComponent(urlPath));
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, body);
  return body;
}

export interface Fixture {
  root: string;
  /** The ended channel's video fragments. */
  fragments: string[];
  /** The live channel's video and audio media playlists (copied into `root` when the load starts). */
  playlists: string[];
  result: Omit<ServingResult['fixture'], 'liveEntryId' | 'playlistBytes'>;
}

/** Publishes PUBLISH_SECONDS of 720p30, waits for the channel to stop, mirrors its video fragments. */
export async function makeFixture(a: RunningAppliance): Promise<Omit<Fixture, 'playlists'>> {
  const channel = await createChannel(a, 'bench serving');
  const publisher = publish(ffmpegUrl(channel.broadcastUrl, channel.streamName), {
    seconds: PUBLISH_SECONDS,
    ...LIVE_SOURCE,
  });
  try {
    const done = await publisher.done;
    if (done.code !== 0) throw new Error(`encoder exited with ${done.code}: ${done.stderr.slice(-1000)}`);
    await waitFor(
      'channel stopped',
      async () => (await channelStats(a, channel.entryId)).state === 'stopped',
      30_000,
      200,
    );
  } finally {
    await publisher.stop();
  }
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ecdn-bench-static-'));
  fs.chmodSync(root, 0o755);
  const base = new URL(channel.playback.hls).pathname.replace(/\.m3u8$/, '');
  const playlist = `${base}tracks/video_source.m3u8`;
  const text = (await mirror(a, root, playlist)).toString('utf8');
  const sizes: number[] = [];
  const fragments: string[] = [];
  let bytes = text.length;
  for (const s of parseMediaPlaylist(text, a.origin + playlist)) {
    const p = new URL(s.url).pathname;
    const body = await mirror(a, root, p);
    bytes += body.length;
    sizes.push(body.length);
    fragments.push(p);
  }
  if (fragments.length < 5) throw new Error(`only ${fragments.length} fragments in the fixture`);
  return {
    root,
    fragments,
    result: {
      entryId: channel.entryId,
      files: fragments.length + 1,
      bytes,
      videoFragmentBytes: {
        min: Math.min(...sizes),
        max: Math.max(...sizes),
        mean: sizes.reduce((s, v) => s + v, 0) / sizes.length,
      },
    },
  };
}

/** The live channel's media playlists (video and audio), once it lists a few fragments. */
async function livePlaylists(a: RunningAppliance, live: LiveSession): Promise<string[]> {
  const base = new URL(live.channel.playback.hls).pathname.replace(/\.m3u8$/, '');
  const master = await waitFor(
    'the live channel to list fragments',
    async () => {
      const r = await fetch(`${a.origin}${base}tracks/video_source.m3u8`);
      if (r.status !== 200 || ((await r.text()).match(/#EXTINF/g) ?? []).length < 3) return undefined;
      return await (await fetch(`${a.origin}${base}.m3u8`)).text();
    },
    60_000,
    500,
  );
  const audioUri = /#EXT-X-MEDIA:TYPE=AUDIO,.*URI="([^"]+)"/.exec(master)?.[1];
  if (!audioUri) throw new Error(`no audio rendition in the live master:\n${master}`);
  return [`${base}tracks/video_source.m3u8`, `${base}${audioUri}`];
}

/** A server must answer every path with 200 and exactly `expected`'s bytes (nginx's copy, the node server). */
async function assertServes(url: string, paths: readonly string[], root: string): Promise<void> {
  for (const p of new Set(paths)) {
    const r = await fetch(url + p);
    const body = Buffer.from(await r.arrayBuffer());
    const expected = fs.readFileSync(path.join(root, decodeURIComponent(p)));
    if (r.status !== 200) throw new Error(`${url}${p}: ${r.status}, not 200`);
    if (!body.equals(expected))
      throw new Error(`${url}${p}: ${body.length} bytes, not the ${expected.length} expected`);
  }
}

/** The origin's live playlists: 200 and a media playlist about as long as the copy nginx serves. */
async function assertLivePlaylists(
  a: RunningAppliance,
  paths: readonly string[],
  root: string,
): Promise<void> {
  for (const p of paths) {
    const r = await fetch(a.origin + p);
    const text = await r.text();
    const copy = fs.readFileSync(path.join(root, decodeURIComponent(p)), 'utf8');
    if (
      r.status !== 200 ||
      !text.startsWith('#EXTM3U') ||
      Math.abs(text.length - copy.length) > copy.length / 4
    )
      throw new Error(`${a.origin}${p}: ${r.status}, ${text.length} bytes (the copy has ${copy.length})`);
  }
}

interface Server {
  name: ServerName;
  url: string;
  pids: () => number[];
}

async function loadOnce(s: Server, script: string, connections: number): Promise<ServerRun> {
  await runWrk({ url: s.url, script, connections, seconds: WARMUP_SECONDS });
  const cpu = new ProcessCpu();
  const sample = () => cpu.sample(s.pids());
  sample();
  const timer = setInterval(sample, 500);
  try {
    const r = await runWrk({ url: s.url, script, connections, seconds: SECONDS });
    sample();
    const serverCpuSeconds = cpu.seconds(s.pids());
    const { pid: _pid, ...summary } = r;
    return {
      ...summary,
      server: s.name,
      serverCpuSeconds,
      cpuSecondsPerGB: serverCpuSeconds / Math.max(1e-9, r.bytes / GB),
    };
  } finally {
    clearInterval(timer);
  }
}

export async function measureServing(): Promise<ServingResult> {
  const wrk = wrkVersion();
  if (wrk === null)
    throw new Error('wrk is not installed (apt-get install wrk): the serving section needs it');
  let a: RunningAppliance | undefined;
  let nginx: StaticNginx | undefined;
  let node: { pid: number; ready: { port: number }; kill: () => Promise<void> } | undefined;
  let live: LiveSession | undefined;
  let root: string | undefined;
  try {
    progress('serving: starting the appliance and publishing the fixture channel');
    a = await startAppliance(applianceStartEnv());
    const ended = await makeFixture(a);
    root = ended.root;
    // The loads run while another channel is live and transcoding (the default ladder), as on an event day.
    const loadSeconds = LEVELS.length * ROUNDS * (WITH_NODE ? 5 : 4) * (SECONDS + WARMUP_SECONDS + 2);
    live = await startLive(a, 'bench serving live', loadSeconds + 120);
    const playlists = await livePlaylists(a, live);
    for (const p of playlists) await mirror(a, ended.root, p);
    const fixture: Fixture = { ...ended, playlists };
    nginx = await startStaticNginx(fixture.root);
    await assertServes(nginx.url, [...fixture.fragments, ...playlists], fixture.root);
    await assertLivePlaylists(a, playlists, fixture.root);
    await assertServes(a.origin, fixture.fragments, fixture.root);
    const appliancePid = a.proc.pid as number;
    const nginxPid = nginx.pid;
    const servers: Server[] = [
      { name: 'origin', url: a.origin, pids: () => [appliancePid] },
      { name: 'nginx', url: nginx.url, pids: () => childrenOf(nginxPid).map((c) => c.pid) },
    ];
    if (WITH_NODE) {
      const nodeJob: NodeStaticJob = { root: fixture.root, paths: fixture.fragments };
      node = await startServerChild<{ port: number }>('bench/load/node-static-server.ts', nodeJob, 3_600_000);
      const nodeUrl = `http://127.0.0.1:${node.ready.port}`;
      await assertServes(nodeUrl, fixture.fragments, fixture.root);
      const nodePid = node.pid;
      servers.push({ name: 'node', url: nodeUrl, pids: () => [nodePid] });
    }
    const scripts: Record<LoadName, string> = {
      playlists: writeWrkScript(fixture.root, 'playlists', playlists, 1),
      fragments: writeWrkScript(fixture.root, 'fragments', fixture.fragments, fixture.fragments.length / 2),
    };
    const loads: ServingResult['loads'] = [];
    for (const load of ['playlists', 'fragments'] as const) {
      // The bare node server answers the fragment paths only.
      const loaded = servers.filter((s) => load === 'fragments' || s.name !== 'node');
      for (const connections of LEVELS) {
        const runs: Partial<Record<ServerName, ServerRun[]>> = {};
        for (let round = 1; round <= ROUNDS; round++) {
          for (const s of loaded) {
            if (load === 'playlists' && s.name === 'nginx') {
              // nginx's copy is refreshed from the live playlists before each of its runs.
              for (const p of playlists) await mirror(a, fixture.root, p);
            }
            const run = await loadOnce(s, scripts[load], connections);
            (runs[s.name] ??= []).push(run);
            progress(
              `serving ${load} @${connections} round ${round}/${ROUNDS}: ${s.name} ${fmt(run.rps, 0)} req/s, ` +
                `${fmt(run.bytesPerSecond / MB, 0)} MB/s, p99 ${fmt(run.latencyMs.p99, 1)} ms, ` +
                `${fmt(run.cpuSecondsPerGB, 1)} CPU s/GB`,
            );
          }
        }
        const best = (name: ServerName) =>
          runs[name]?.reduce((x, y) => (y.bytesPerSecond > x.bytesPerSecond ? y : x));
        const origin = best('origin') as ServerRun;
        const ng = best('nginx') as ServerRun;
        const bare = best('node');
        loads.push({
          load,
          connections,
          runs: { origin, nginx: ng, ...(bare ? { node: bare } : {}) },
          throughputRatio: origin.bytesPerSecond / ng.bytesPerSecond,
          p99Ratio: origin.latencyMs.p99 / Math.max(0.001, ng.latencyMs.p99),
          rounds: Object.fromEntries(
            Object.entries(runs).map(([k, v]) => [k, v.map((r) => Number(fmt(r.bytesPerSecond / MB, 0)))]),
          ),
        });
      }
    }
    assertPublishingStill(live);
    const playlistBytes = playlists.reduce(
      (n, p) => n + fs.statSync(path.join(fixture.root, decodeURIComponent(p))).size,
      0,
    );
    return {
      wrk,
      fixture: { ...fixture.result, liveEntryId: live.channel.entryId, playlistBytes },
      loads,
      rounds: ROUNDS,
      nginxConfig: nginx.config,
    };
  } finally {
    await live?.publisher.stop();
    await node?.kill();
    await nginx?.stop();
    if (a) {
      await a.stop();
      fs.rmSync(a.dataDir, { recursive: true, force: true });
    }
    if (root) fs.rmSync(root, { recursive: true, force: true });
  }
}

/** The live channel's encoder must still be running at the end: the loads ran while it transcoded. */
function assertPublishingStill(live: LiveSession): void {
  const p = live.publisher.proc;
  if (p.exitCode !== null || p.signalCode !== null)
    throw new Error(`the live channel's encoder ended during the loads (${p.exitCode ?? p.signalCode})`);
}

export function servingRows(r: ServingResult): SectionResult {
  const rows: SectionRow[] = [];
  for (const l of r.loads) {
    const c = l.connections;
    const { origin, nginx } = l.runs as Record<'origin' | 'nginx', ServerRun>;
    const node = l.runs.node;
    const cols = (f: (s: ServerRun) => number, d: number) =>
      [origin, nginx, ...(node ? [node] : [])].map((s) => fmt(f(s), d)).join(' | ');
    const who = `origin | nginx${node ? ' | node' : ''}`;
    const key = `serving_${l.load}_${c}`;
    const errors = (s: ServerRun) =>
      s.errors.connect + s.errors.read + s.errors.write + s.errors.timeout + s.non2xx;
    const p99Target = c === SERVING_TARGET.p99AtConnections;
    rows.push(
      {
        key: `${key}_rps`,
        figure: `Serving ${l.load} @${c} conns: req/s, ${who}`,
        value: origin.rps,
        display: cols((s) => s.rps, 0),
        unit: 'req/s',
        target: '',
        verdict: 'info',
        note: 0,
      },
      {
        key: `${key}_ratio`,
        figure: `  throughput origin / nginx`,
        value: l.throughputRatio,
        unit: 'x',
        target: `>= ${SERVING_TARGET.ratio}`,
        verdict: check(l.throughputRatio, '>=', SERVING_TARGET.ratio),
      },
      {
        key: `${key}_p99`,
        figure: `  p99 latency, ${who}`,
        value: origin.latencyMs.p99,
        display: cols((s) => s.latencyMs.p99, 1),
        unit: 'ms',
        target: p99Target ? `<= ${SERVING_TARGET.p99Factor}x nginx` : '',
        verdict: p99Target ? check(l.p99Ratio, '<=', SERVING_TARGET.p99Factor) : 'info',
      },
      {
        key: `${key}_cpu_per_gb`,
        figure: `  server CPU per GB served, ${who}`,
        value: origin.cpuSecondsPerGB,
        display: cols((s) => s.cpuSecondsPerGB, 2),
        unit: 's/GB',
        target: '',
        verdict: 'info',
      },
    );
    const total = errors(origin) + errors(nginx) + (node ? errors(node) : 0);
    if (total > 0)
      rows.push({
        key: `${key}_errors`,
        figure: `  errors (timeouts included) + non-2xx, ${who}`,
        value: errors(origin),
        display: cols(errors, 0),
        unit: '',
        target: '0',
        verdict: errors(origin) === 0 ? 'PASS' : 'MISS',
      });
  }
  const f = r.fixture;
  const notes = [
    `Load: ${r.wrk ?? 'wrk'} (native), 2 threads, keep-alive, ${SECONDS} s after ${WARMUP_SECONDS} s of warm-up ` +
      `per server, load, level and round; the servers take turns, ${r.rounds} round(s) each, best round counts ` +
      `(throughput of every round in latest.json). All of it while a ${LIVE_SOURCE.size}@${LIVE_SOURCE.rate} ` +
      `channel is live and transcoding the default ladder. "playlists": that live channel's video and audio media ` +
      `playlists (${fmt(f.playlistBytes / 2, 0)} bytes each on average), from the origin (rendered from the ` +
      `segment index as it grows) and, as files copied just before each nginx run, from nginx. "fragments": the ` +
      `${f.files - 1} video fragments of a ${PUBLISH_SECONDS} s ${LIVE_SOURCE.size} channel that ended ` +
      `(${fmt(f.videoFragmentBytes.mean / 1024, 0)} KiB on average), from the origin and, copied with the same ` +
      `paths, from Debian's nginx (1 worker process, sendfile, keep-alive, no access log). Each server answered ` +
      `every path with 200 and the expected bytes before it was loaded. Throughput = response bytes / s; CPU per ` +
      `GB = utime+stime of the serving process(es) from /proc over the measured run / GB of response bytes. ` +
      `Targets: origin >= ${SERVING_TARGET.ratio} x nginx's throughput at every level; origin p99 <= ` +
      `${SERVING_TARGET.p99Factor} x nginx's at ${SERVING_TARGET.p99AtConnections} connections.`,
  ];
  return { rows, notes, details: r };
}
