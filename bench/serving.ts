/**
 * Serving speed beside nginx: the playlists, init segments and fragments of a just-ended channel are served by
 * the origin and, copied into a directory with the same paths, by Debian's nginx (static files, keep-alive);
 * both get the same bounded loopback load (autocannon in a child process, 50 / 200 / 1000 connections, each
 * connection cycling through video playlist, video fragment, audio playlist, audio fragment). Server CPU is read
 * from /proc for both, so the cost per request can be compared even when the load generator shares the cores.
 * A bare `node:http` server serving the same files from memory is loaded the same way, as the reference for what
 * Node itself can do. Each server is loaded BENCH_SERVING_ROUNDS times per level, in turn, and its best round
 * counts: the generator shares the two cores, and a round can lose a fifth of its rate to the machine.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startAppliance, waitFor, type RunningAppliance } from '../test/helpers/appliance.js';
import { ffmpegUrl, publish } from '../test/helpers/encoder.js';
import { createChannel } from '../test/helpers/appliance.js';
import { channelStats, LIVE_SOURCE } from './live-common.js';
import { startServerChild, startWorker } from './lib/child.js';
import { ProcessCpu } from './lib/cpu.js';
import { parseMediaPlaylist } from './lib/hls.js';
import { startStaticNginx, type StaticNginx } from './lib/nginx.js';
import { childrenOf } from './lib/proc-mem.js';
import { applianceStartEnv, fmt, progress, type SectionResult, type SectionRow } from './lib/section.js';
import { check } from './lib/table.js';
import type { AutocannonJob, AutocannonSummary } from './load/autocannon-worker.js';
import type { NodeStaticJob } from './load/node-static-server.js';

const LEVELS = (process.env.BENCH_SERVING_LEVELS ?? '50,200,1000').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_SERVING_SECONDS ?? 10);
const WARMUP_SECONDS = 2;
/** Loads of each server per level; the best one counts. */
const ROUNDS = Math.max(1, Number(process.env.BENCH_SERVING_ROUNDS ?? 2));
/** Seconds of the publish that becomes the fixture (the DVR window of 30 s holds all of it). */
const PUBLISH_SECONDS = 24;
const MB = 2 ** 20;
export const SERVING_TARGET = { ratio: 0.8, p99Ms: 50, p99AtConnections: 200 };

type ServerName = 'origin' | 'nginx' | 'node';

export interface ServerRun extends AutocannonSummary {
  server: ServerName;
  /** CPU seconds of the serving processes (the appliance's core / nginx's worker / the node server). */
  serverCpuSeconds: number;
  /** CPU seconds of the autocannon process during the run. */
  generatorCpuSeconds: number;
  /** serverCpuSeconds * 1000 / requests (warm-up requests excluded from requests, included in CPU). */
  serverCpuMsPerRequest: number;
}

export interface ServingResult {
  fixture: {
    entryId: string;
    files: number;
    bytes: number;
    paths: number;
    videoFragmentBytes: { min: number; max: number; mean: number };
    mixMeanBytes: number;
  };
  levels: Array<{
    connections: number;
    /** Each server's best round (highest throughput). */
    origin: ServerRun;
    nginx: ServerRun;
    node: ServerRun;
    /** origin / nginx, throughput. */
    throughputRatio: number;
    /** origin / bare node server, throughput. */
    nodeRatio: number;
    /** Throughput of every round, MB/s, in the order run. */
    rounds: Record<ServerName, number[]>;
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
  paths: string[];
  result: ServingResult['fixture'];
}

/** Publishes PUBLISH_SECONDS of 720p30, waits for the channel to stop, mirrors what a player would fetch. */
export async function makeFixture(a: RunningAppliance): Promise<Fixture> {
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
  const master = (await mirror(a, root, `${base}.m3u8`)).toString('utf8');
  const audioUri = /#EXT-X-MEDIA:TYPE=AUDIO,.*URI="([^"]+)"/.exec(master)?.[1];
  if (!audioUri) throw new Error(`no audio rendition in the master:\n${master}`);
  const lists: Record<'video' | 'audio', { playlist: string; fragments: string[] }> = {
    video: { playlist: `${base}tracks/video_source.m3u8`, fragments: [] },
    audio: { playlist: `${base}${audioUri}`, fragments: [] },
  };
  const sizes: number[] = [];
  let bytes = master.length;
  let files = 1;
  for (const [kind, l] of Object.entries(lists)) {
    const text = (await mirror(a, root, l.playlist)).toString('utf8');
    bytes += text.length;
    files++;
    const init = /#EXT-X-MAP:URI="([^"]+)"/.exec(text)?.[1];
    if (init) {
      bytes += (await mirror(a, root, new URL(init, a.origin + l.playlist).pathname)).length;
      files++;
    }
    for (const s of parseMediaPlaylist(text, a.origin + l.playlist)) {
      const p = new URL(s.url).pathname;
      const body = await mirror(a, root, p);
      bytes += body.length;
      files++;
      if (kind === 'video') sizes.push(body.length);
      l.fragments.push(p);
    }
  }
  const n = Math.min(lists.video.fragments.length, lists.audio.fragments.length);
  if (n < 5) throw new Error(`only ${n} fragments in the fixture`);
  // What a player fetches per fragment: both live playlists (reloaded) and one fragment of each.
  const paths: string[] = [];
  for (let i = 0; i < n; i++)
    paths.push(
      lists.video.playlist,
      lists.video.fragments[i] as string,
      lists.audio.playlist,
      lists.audio.fragments[i] as string,
    );
  const mixBytes = paths.reduce((s, p) => s + fs.statSync(path.join(root, decodeURIComponent(p))).size, 0);
  return {
    root,
    paths,
    result: {
      entryId: channel.entryId,
      files,
      bytes,
      paths: paths.length,
      videoFragmentBytes: {
        min: Math.min(...sizes),
        max: Math.max(...sizes),
        mean: sizes.reduce((s, v) => s + v, 0) / sizes.length,
      },
      mixMeanBytes: mixBytes / paths.length,
    },
  };
}

/** Both servers must answer every path with the same bytes (the origin's own playlists, as files). */
async function assertSameContent(
  a: RunningAppliance,
  other: { url: string },
  paths: string[],
): Promise<void> {
  for (const p of new Set(paths)) {
    const [x, y] = await Promise.all(
      [a.origin, other.url].map(async (u) => Buffer.from(await (await fetch(u + p)).arrayBuffer())),
    );
    if (!x || !y || !x.equals(y)) throw new Error(`origin and ${other.url} differ on ${p}`);
  }
}

export async function loadOnce(
  server: ServerName,
  url: string,
  serverPids: () => number[],
  paths: string[],
  connections: number,
): Promise<ServerRun> {
  const job: AutocannonJob = { url, paths, connections, seconds: SECONDS, warmupSeconds: WARMUP_SECONDS };
  const worker = startWorker<AutocannonSummary>(
    'bench/load/autocannon-worker.ts',
    job,
    (SECONDS + WARMUP_SECONDS + 60) * 1000,
  );
  const cpu = new ProcessCpu();
  const sample = () => cpu.sample([...serverPids(), worker.pid]);
  sample();
  const timer = setInterval(sample, 500);
  try {
    const r = await worker.result;
    sample();
    const serverCpuSeconds = cpu.seconds(serverPids());
    return {
      ...r,
      server,
      serverCpuSeconds,
      generatorCpuSeconds: cpu.seconds([worker.pid]),
      serverCpuMsPerRequest: (serverCpuSeconds * 1000) / Math.max(1, r.requests),
    };
  } finally {
    clearInterval(timer);
    await worker.kill();
  }
}

export async function measureServing(): Promise<ServingResult> {
  let a: RunningAppliance | undefined;
  let nginx: StaticNginx | undefined;
  let node: { pid: number; ready: { port: number }; kill: () => Promise<void> } | undefined;
  let root: string | undefined;
  try {
    progress('serving: starting the appliance and publishing the fixture channel');
    a = await startAppliance(applianceStartEnv());
    const fixture = await makeFixture(a);
    root = fixture.root;
    nginx = await startStaticNginx(fixture.root);
    await assertSameContent(a, nginx, fixture.paths);
    const nodeJob: NodeStaticJob = { root: fixture.root, paths: fixture.paths };
    node = await startServerChild<{ port: number }>('bench/load/node-static-server.ts', nodeJob, 3_600_000);
    const nodeUrl = `http://127.0.0.1:${node.ready.port}`;
    await assertSameContent(a, { url: nodeUrl }, fixture.paths);
    const appliancePid = a.proc.pid as number;
    const nginxPid = nginx.pid;
    const nodePid = node.pid;
    const servers: Array<{ name: ServerName; url: string; pids: () => number[] }> = [
      { name: 'origin', url: a.origin, pids: () => [appliancePid] },
      { name: 'nginx', url: nginx.url, pids: () => childrenOf(nginxPid).map((c) => c.pid) },
      { name: 'node', url: nodeUrl, pids: () => [nodePid] },
    ];
    const levels: ServingResult['levels'] = [];
    for (const connections of LEVELS) {
      const runs: Record<ServerName, ServerRun[]> = { origin: [], nginx: [], node: [] };
      for (let round = 1; round <= ROUNDS; round++) {
        for (const s of servers) {
          const run = await loadOnce(s.name, s.url, s.pids, fixture.paths, connections);
          runs[s.name].push(run);
          progress(
            `serving @${connections} round ${round}/${ROUNDS}: ${s.name} ${fmt(run.rps, 0)} req/s, ` +
              `${fmt(run.bytesPerSecond / MB, 0)} MB/s, p99 ${run.latencyMs.p99} ms`,
          );
        }
      }
      const best = (name: ServerName) =>
        runs[name].reduce((x, y) => (y.bytesPerSecond > x.bytesPerSecond ? y : x));
      const [origin, ng, bare] = [best('origin'), best('nginx'), best('node')];
      const mbps = (name: ServerName) => runs[name].map((r) => Number(fmt(r.bytesPerSecond / MB, 0)));
      levels.push({
        connections,
        origin,
        nginx: ng,
        node: bare,
        throughputRatio: origin.bytesPerSecond / ng.bytesPerSecond,
        nodeRatio: origin.bytesPerSecond / bare.bytesPerSecond,
        rounds: { origin: mbps('origin'), nginx: mbps('nginx'), node: mbps('node') },
      });
    }
    return { fixture: fixture.result, levels, rounds: ROUNDS, nginxConfig: nginx.config };
  } finally {
    await node?.kill();
    await nginx?.stop();
    if (a) {
      await a.stop();
      fs.rmSync(a.dataDir, { recursive: true, force: true });
    }
    if (root) fs.rmSync(root, { recursive: true, force: true });
  }
}

export function servingRows(r: ServingResult): SectionResult {
  const rows: SectionRow[] = [];
  for (const l of r.levels) {
    const c = l.connections;
    const three = (x: number, y: number, z: number, d: number) =>
      `${fmt(x, d)} | ${fmt(y, d)} | ${fmt(z, d)}`;
    // autocannon counts a timeout (10 s) as an error too.
    const errors = (s: ServerRun) => s.errors + s.non2xx;
    const p99Target = c === SERVING_TARGET.p99AtConnections ? `< ${SERVING_TARGET.p99Ms} (origin)` : '';
    rows.push(
      {
        key: `serving_${c}_rps`,
        figure: `Serving @${c} conns: req/s, origin | nginx | node`,
        value: l.origin.rps,
        display: three(l.origin.rps, l.nginx.rps, l.node.rps, 0),
        unit: 'req/s',
        target: '',
        verdict: 'info',
        note: 0,
      },
      {
        key: `serving_${c}_throughput`,
        figure: `  throughput, origin | nginx | node`,
        value: l.origin.bytesPerSecond / MB,
        display: three(
          l.origin.bytesPerSecond / MB,
          l.nginx.bytesPerSecond / MB,
          l.node.bytesPerSecond / MB,
          0,
        ),
        unit: 'MB/s',
        target: '',
        verdict: 'info',
      },
      {
        key: `serving_${c}_ratio`,
        figure: `  throughput origin / nginx`,
        value: l.throughputRatio,
        unit: 'x',
        target: `>= ${SERVING_TARGET.ratio}`,
        verdict: check(l.throughputRatio, '>=', SERVING_TARGET.ratio),
      },
      {
        key: `serving_${c}_node_ratio`,
        figure: `  throughput origin / bare node server`,
        value: l.nodeRatio,
        unit: 'x',
        target: '',
        verdict: 'info',
      },
      {
        key: `serving_${c}_p99`,
        figure: `  p99 latency, origin | nginx | node`,
        value: l.origin.latencyMs.p99,
        display: three(l.origin.latencyMs.p99, l.nginx.latencyMs.p99, l.node.latencyMs.p99, 0),
        unit: 'ms',
        target: p99Target,
        verdict: p99Target ? (l.origin.latencyMs.p99 < SERVING_TARGET.p99Ms ? 'PASS' : 'MISS') : 'info',
      },
      {
        key: `serving_${c}_cpu_per_request`,
        figure: `  server CPU per request, origin | nginx | node`,
        value: l.origin.serverCpuMsPerRequest,
        display: three(
          l.origin.serverCpuMsPerRequest,
          l.nginx.serverCpuMsPerRequest,
          l.node.serverCpuMsPerRequest,
          3,
        ),
        unit: 'ms',
        target: '',
        verdict: 'info',
      },
    );
    if (errors(l.origin) + errors(l.nginx) + errors(l.node) > 0)
      rows.push({
        key: `serving_${c}_errors`,
        figure: `  errors (timeouts included) + non-2xx, origin | nginx | node`,
        value: errors(l.origin),
        display: `${errors(l.origin)} | ${errors(l.nginx)} | ${errors(l.node)}`,
        unit: '',
        target: '0',
        verdict: errors(l.origin) === 0 ? 'PASS' : 'MISS',
      });
  }
  const f = r.fixture;
  const notes = [
    `A ${LIVE_SOURCE.size}@${LIVE_SOURCE.rate} channel published for ${PUBLISH_SECONDS} s and stopped; its ` +
      `video_source and audio playlists, init segments and ${f.paths / 4} fragments of each were copied with ` +
      `the same URL paths (${f.files} files, ${fmt(f.bytes / MB, 1)} MB; video fragments ` +
      `${fmt(f.videoFragmentBytes.mean / 1024, 0)} KiB on average) and served by Debian's nginx (1 worker ` +
      `process, sendfile, keep-alive, no access log) and by the origin (one node process; its viewer statistics ` +
      `on); node is a bare node:http server answering the same paths from memory with the origin's headers (what ` +
      `Node itself can do: it copies each body into the socket, where nginx uses sendfile). Load: autocannon ` +
      `${SECONDS} s after ${WARMUP_SECONDS} s of warm-up per server, level and round, in a child ` +
      `process on the same cores, keep-alive, each connection cycling through video playlist, video fragment, ` +
      `audio playlist, audio fragment (${fmt(f.mixMeanBytes / 1024, 0)} KiB per response on average); ` +
      `the servers take turns, ${r.rounds} round(s) each per level, and each server's best round counts ` +
      `(throughput of every round in latest.json). Throughput = response bytes / s. Server CPU per request = ` +
      `utime+stime of the serving process(es) from /proc over the run, warm-up included, / requests. ` +
      `Targets: origin >= ${SERVING_TARGET.ratio} x nginx's throughput at every level; origin p99 < ` +
      `${SERVING_TARGET.p99Ms} ms at ${SERVING_TARGET.p99AtConnections} connections.`,
  ];
  return { rows, notes, details: r };
}
