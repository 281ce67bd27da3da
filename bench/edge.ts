/**
 * The edge beside nginx's proxy_cache doing the same job (issue 14, requirement 6): one upstream (Debian's nginx
 * serving a fixed HLS made once with ffmpeg, with an access log), two edges answering /kCache/<origin-host>/<path>
 * from it: the appliance's own edge (`--edge-origins http://127.0.0.1:<upstream port>`) and nginx with the
 * shipped resources/nginx/ecdn-kcache.conf. Both get the same load from wrk (a native load generator; 2 threads,
 * BENCH_EDGE_LEVELS connections (50,500), BENCH_EDGE_SECONDS (10) each, BENCH_EDGE_ROUNDS (2) rounds taking turns,
 * a Lua script alternating the playlist and the segments) on caches that start cold at the highest level, so
 * concurrent misses have to collapse. BENCH_WRK names the wrk binary (/usr/bin/wrk; `apt-get install wrk`).
 * Figures per edge and level: requests/s, p99 latency, server CPU seconds per GB served (utime+stime from /proc
 * of the serving process tree: the appliance and its children, nginx's master and workers), and upstream
 * requests per segment (from the upstream's access log). Targets: appliance >= 0.8 x nginx's requests/s, 1
 * upstream request per segment, CPU per GB <= 2 x nginx's.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startAppliance, type RunningAppliance } from '../test/helpers/appliance.js';
import { FFMPEG } from '../test/helpers/encoder.js';
import {
  readAccessLog,
  renderKcacheConfig,
  startNginx,
  upstreamLogFormat,
  type RunningNginx,
} from '../test/helpers/nginx.js';
import { ProcessCpu } from './lib/cpu.js';
import { childrenOf } from './lib/proc-mem.js';
import { applianceStartEnv, fmt, progress, type SectionResult, type SectionRow } from './lib/section.js';
import { check } from './lib/table.js';
import { WRK, runWrk, writeWrkScript, wrkVersion } from './lib/wrk.js';

const LEVELS = (process.env.BENCH_EDGE_LEVELS ?? '50,500').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_EDGE_SECONDS ?? 10);
/** Loads of each edge per level, taking turns; the best round (req/s) counts, as in serving.ts. */
const ROUNDS = Math.max(1, Number(process.env.BENCH_EDGE_ROUNDS ?? 2));
/** The fixture: this many seconds of 720p30 at about 3 Mb/s, cut into SEGMENT s TS segments. */
const FIXTURE_SECONDS = 24;
const SEGMENT = 2;
const GB = 1e9;
const MB = 2 ** 20;
export const EDGE_TARGET = { rpsRatio: 0.8, upstreamPerSegment: 1, cpuPerGbRatio: 2 };

type EdgeName = 'appliance' | 'nginx';

/** What a run reports, in the names this section's table and latest.json use. */
interface EdgeWrkSummary {
  requests: number;
  bytes: number;
  durationSeconds: number;
  rps: number;
  p99Ms: number;
  p50Ms: number;
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
}

export interface EdgeRun extends EdgeWrkSummary {
  edge: EdgeName;
  connections: number;
  round: number;
  serverCpuSeconds: number;
  cpuSecondsPerGB: number;
  /** Upstream requests during the run, for segments and for the playlist. */
  upstreamSegmentRequests: number;
  upstreamPlaylistRequests: number;
}

export interface EdgeResult {
  wrk: string | null;
  rounds: number;
  fixture: { segments: number; bytes: number; meanSegmentBytes: number; playlistBytes: number };
  /** Why the appliance's edge was not measured (null when it was). */
  applianceUnavailable: string | null;
  runs: EdgeRun[];
  /** Per edge over all its runs: upstream requests per segment fetched through it (cold cache at its first run). */
  upstreamPerSegment: Partial<Record<EdgeName, number>>;
  nginxConfig?: string;
}

interface Fixture {
  root: string;
  playlist: string;
  segments: string[];
  sizes: Map<string, number>;
}

/** 24 s of 720p30 (x264 ultrafast, ~3 Mb/s) as 2 s TS segments and a live-looking playlist (no ENDLIST). */
function makeFixture(): Fixture {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ecdn-bench-edge-up-'));
  fs.chmodSync(root, 0o755);
  const dir = path.join(root, 'live');
  fs.mkdirSync(dir, { mode: 0o755 });
  const args = [
    ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30'],
    ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', String(FIXTURE_SECONDS)],
    ['-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '3M', '-maxrate', '3M', '-bufsize', '3M'],
    [
      '-g',
      String(30 * SEGMENT),
      '-keyint_min',
      String(30 * SEGMENT),
      '-sc_threshold',
      '0',
      '-pix_fmt',
      'yuv420p',
    ],
    ['-c:a', 'aac', '-b:a', '128k', '-f', 'hls', '-hls_time', String(SEGMENT), '-hls_list_size', '0'],
    [
      '-hls_flags',
      'omit_endlist',
      '-hls_segment_filename',
      path.join(dir, 'seg%03d.ts'),
      path.join(dir, 'index.m3u8'),
    ],
  ].flat();
  const r = spawnSync(FFMPEG, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr}`);
  const text = fs.readFileSync(path.join(dir, 'index.m3u8'), 'utf8');
  const segments = text
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .map((s) => `/live/${s}`);
  if (segments.length < 5) throw new Error(`only ${segments.length} segments in the fixture`);
  const sizes = new Map<string, number>();
  for (const p of ['/live/index.m3u8', ...segments]) sizes.set(p, fs.statSync(path.join(root, p)).size);
  return { root, playlist: '/live/index.m3u8', segments, sizes };
}

/** The upstream: static files, keep-alive, sendfile, an access log of request URI, status and bytes. */
function startUpstream(root: string, log: string): Promise<RunningNginx> {
  return startNginx({
    name: 'bench-edge-up',
    workerConnections: 4096,
    http: (port) =>
      `  ${upstreamLogFormat}\n  sendfile on;\n  keepalive_requests 1000000;\n` +
      `  types { application/vnd.apple.mpegurl m3u8; video/mp2t ts; }\n` +
      `  server {\n    listen 127.0.0.1:${port};\n    access_log ${log} kcache_upstream;\n    root ${root};\n  }\n`,
  });
}

/** nginx with the shipped kcache configuration (one worker, as the appliance is one process serving). */
function startNginxEdge(upstreamPort: number): Promise<RunningNginx> {
  const host = `127.0.0.1:${upstreamPort}`;
  return startNginx({
    name: 'bench-edge-nginx',
    workerConnections: 4096,
    http: (port, dir) =>
      `  sendfile on;\n  tcp_nopush on;\n  keepalive_timeout 75s;\n  keepalive_requests 1000000;\n` +
      renderKcacheConfig({ origins: [{ host, upstream: `http://${host}` }], port, dir }),
  });
}

/** Every object answers 200 with upstream's bytes through `base` (`<edge>/kCache/<host>`). */
async function checkEdge(base: string, fixture: Fixture, paths: readonly string[]): Promise<void> {
  for (const p of paths) {
    const r = await fetch(base + p);
    const body = Buffer.from(await r.arrayBuffer());
    const expected = fs.readFileSync(path.join(fixture.root, p));
    if (r.status !== 200) throw new Error(`${base}${p}: ${r.status}`);
    // A playlist may be rewritten by an edge (absolute URIs); its length must still match here (relative URIs).
    if (body.length !== expected.length || !body.equals(expected))
      throw new Error(`${base}${p}: ${body.length} bytes, upstream has ${expected.length}`);
  }
}

/** The wrk Lua script: alternating playlist and segment, the two threads starting half the list apart. */
function wrkScript(dir: string, prefix: string, fixture: Fixture): string {
  const list = fixture.segments.flatMap((s) => [prefix + fixture.playlist, prefix + s]);
  return writeWrkScript(dir, 'edge', list, Math.floor(list.length / 2));
}

async function edgeWrk(url: string, script: string, connections: number): Promise<EdgeWrkSummary> {
  const w = await runWrk({ url, script, connections, seconds: SECONDS });
  return {
    requests: w.requests,
    bytes: w.bytes,
    durationSeconds: w.durationSeconds,
    rps: w.rps,
    p99Ms: w.latencyMs.p99,
    p50Ms: w.latencyMs.p50,
    errors: { ...w.errors, status: w.non2xx },
  };
}

/** The pid and every descendant. */
function tree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...childrenOf(out[i] as number).map((c) => c.pid));
  return out;
}

async function measure(
  edge: EdgeName,
  url: string,
  rootPid: number,
  script: string,
  connections: number,
  round: number,
  upstreamLog: string,
  fixture: Fixture,
): Promise<EdgeRun> {
  const logBefore = readAccessLog(upstreamLog).length;
  const cpu = new ProcessCpu();
  const sample = () => cpu.sample(tree(rootPid));
  sample();
  const timer = setInterval(sample, 500);
  let w: EdgeWrkSummary;
  try {
    w = await edgeWrk(url, script, connections);
  } finally {
    clearInterval(timer);
  }
  sample();
  const serverCpuSeconds = cpu.seconds();
  const lines = readAccessLog(upstreamLog).slice(logBefore);
  const segments = new Set(fixture.segments);
  return {
    ...w,
    edge,
    connections,
    round,
    serverCpuSeconds,
    cpuSecondsPerGB: serverCpuSeconds / Math.max(1e-9, w.bytes / GB),
    upstreamSegmentRequests: lines.filter((l) => segments.has(l.uri.split('?')[0] as string)).length,
    upstreamPlaylistRequests: lines.filter((l) => l.uri.split('?')[0] === fixture.playlist).length,
  };
}

export async function measureEdge(): Promise<EdgeResult> {
  const version = wrkVersion();
  if (version === null)
    return {
      wrk: null,
      rounds: ROUNDS,
      fixture: { segments: 0, bytes: 0, meanSegmentBytes: 0, playlistBytes: 0 },
      applianceUnavailable: 'wrk missing',
      runs: [],
      upstreamPerSegment: {},
    };
  let fixture: Fixture | undefined;
  let upstream: RunningNginx | undefined;
  let nginxEdge: RunningNginx | undefined;
  let a: RunningAppliance | undefined;
  try {
    progress('edge: making the fixture (ffmpeg) and starting the upstream');
    fixture = makeFixture();
    const f = fixture;
    const log = path.join(f.root, 'access.log');
    upstream = await startUpstream(f.root, log);
    const host = `127.0.0.1:${upstream.port}`;
    const script = wrkScript(f.root, `/kCache/${host}`, f);
    const edges: Array<{ name: EdgeName; url: string; pid: number }> = [];

    nginxEdge = await startNginxEdge(upstream.port);
    // Checked on the playlist and one segment: the other segments stay cold for the load.
    await checkEdge(`${nginxEdge.url}/kCache/${host}`, f, [f.playlist, f.segments[0] as string]);
    edges.push({ name: 'nginx', url: nginxEdge.url, pid: nginxEdge.pid });

    let applianceUnavailable: string | null = null;
    try {
      a = await startAppliance({
        ...applianceStartEnv(),
        extraArgs: ['--edge-origins', `http://${host}`, '--edge-cache-size', '2'],
      });
      await checkEdge(`${a.origin}/kCache/${host}`, f, [f.playlist, f.segments[0] as string]);
      edges.push({ name: 'appliance', url: a.origin, pid: a.proc.pid as number });
    } catch (err) {
      applianceUnavailable = `edge not available: ${(err as Error).message.split('\n')[0]}`;
      progress(`edge: the appliance's edge is not measured (${applianceUnavailable})`);
    }

    const runs: EdgeRun[] = [];
    // The highest level first: it starts on cold caches, where the most concurrent misses must collapse.
    for (const connections of [...LEVELS].sort((x, y) => y - x))
      for (let round = 1; round <= ROUNDS; round++)
        for (const e of edges) {
          const run = await measure(e.name, e.url, e.pid, script, connections, round, log, f);
          runs.push(run);
          progress(
            `edge @${connections} round ${round}/${ROUNDS}: ${e.name} ${fmt(run.rps, 0)} req/s, ` +
              `${fmt(run.bytes / run.durationSeconds / MB, 0)} ` +
              `MB/s, p99 ${fmt(run.p99Ms, 1)} ms, ${fmt(run.cpuSecondsPerGB, 2)} CPU s/GB, upstream ` +
              `${run.upstreamSegmentRequests} segment + ${run.upstreamPlaylistRequests} playlist requests`,
          );
        }
    // After the load: every object still whole through each edge.
    for (const e of edges) await checkEdge(`${e.url}/kCache/${host}`, f, [f.playlist, ...f.segments]);
    const upstreamPerSegment: EdgeResult['upstreamPerSegment'] = {};
    for (const e of edges) {
      // The check before the load fetched segment 0 once; the load fetched the rest (cold) and segment 0 (warm).
      const total =
        runs.filter((r) => r.edge === e.name).reduce((s, r) => s + r.upstreamSegmentRequests, 0) + 1;
      upstreamPerSegment[e.name] = total / f.segments.length;
    }
    const segmentBytes = f.segments.reduce((s, p) => s + (f.sizes.get(p) ?? 0), 0);
    return {
      wrk: version,
      rounds: ROUNDS,
      fixture: {
        segments: f.segments.length,
        bytes: segmentBytes + (f.sizes.get(f.playlist) ?? 0),
        meanSegmentBytes: segmentBytes / f.segments.length,
        playlistBytes: f.sizes.get(f.playlist) ?? 0,
      },
      applianceUnavailable,
      runs,
      upstreamPerSegment,
      nginxConfig: nginxEdge.config,
    };
  } finally {
    if (a) {
      await a.stop();
      fs.rmSync(a.dataDir, { recursive: true, force: true });
    }
    await nginxEdge?.stop();
    await upstream?.stop();
    if (fixture) fs.rmSync(fixture.root, { recursive: true, force: true });
  }
}

export function edgeRows(r: EdgeResult): SectionResult {
  if (r.wrk === null)
    return {
      rows: [
        {
          key: 'edge_wrk_missing',
          figure: 'Edge beside nginx proxy_cache',
          value: null,
          display: `n/a: wrk missing (${WRK}; apt-get install wrk)`,
          unit: '',
          target: '',
          verdict: 'n/a',
        },
      ],
      notes: [],
      details: r,
    };
  const rows: SectionRow[] = [];
  const na = r.applianceUnavailable ?? 'edge not available';
  const pair = (a: number | undefined, n: number | undefined, d: number) =>
    `${a === undefined ? na : fmt(a, d)} | ${n === undefined ? '-' : fmt(n, d)}`;
  // Each edge's best round per level; upstream requests and errors summed over its rounds.
  const level = (edge: EdgeName, c: number): EdgeRun | undefined => {
    const all = r.runs.filter((x) => x.edge === edge && x.connections === c);
    if (all.length === 0) return undefined;
    const best = all.reduce((x, y) => (y.rps > x.rps ? y : x));
    const sum = (f: (x: EdgeRun) => number) => all.reduce((t, x) => t + f(x), 0);
    return {
      ...best,
      upstreamSegmentRequests: sum((x) => x.upstreamSegmentRequests),
      upstreamPlaylistRequests: sum((x) => x.upstreamPlaylistRequests),
      errors: {
        connect: sum((x) => x.errors.connect),
        read: sum((x) => x.errors.read),
        write: sum((x) => x.errors.write),
        status: sum((x) => x.errors.status),
        timeout: sum((x) => x.errors.timeout),
      },
    };
  };
  for (const c of LEVELS) {
    const app = level('appliance', c);
    const ng = level('nginx', c);
    const ratio = app && ng ? app.rps / ng.rps : undefined;
    const cpuRatio = app && ng ? app.cpuSecondsPerGB / ng.cpuSecondsPerGB : undefined;
    const errors = (x: EdgeRun | undefined) =>
      x ? x.errors.connect + x.errors.read + x.errors.write + x.errors.status + x.errors.timeout : 0;
    rows.push(
      {
        key: `edge_${c}_rps`,
        figure: `Edge @${c} conns: req/s, appliance | nginx`,
        value: app?.rps ?? null,
        display: pair(app?.rps, ng?.rps, 0),
        unit: 'req/s',
        target: '',
        verdict: 'info',
        note: 0,
      },
      {
        key: `edge_${c}_rps_ratio`,
        figure: `  req/s appliance / nginx`,
        value: ratio ?? null,
        ...(ratio === undefined ? { display: na } : {}),
        unit: 'x',
        target: `>= ${EDGE_TARGET.rpsRatio}`,
        verdict: ratio === undefined ? 'n/a' : check(ratio, '>=', EDGE_TARGET.rpsRatio),
      },
      {
        key: `edge_${c}_throughput`,
        figure: `  throughput, appliance | nginx`,
        value: app ? app.bytes / app.durationSeconds / MB : null,
        display: pair(
          app && app.bytes / app.durationSeconds / MB,
          ng && ng.bytes / ng.durationSeconds / MB,
          0,
        ),
        unit: 'MB/s',
        target: '',
        verdict: 'info',
      },
      {
        key: `edge_${c}_p99`,
        figure: `  p99 latency, appliance | nginx`,
        value: app?.p99Ms ?? null,
        display: pair(app?.p99Ms, ng?.p99Ms, 1),
        unit: 'ms',
        target: '',
        verdict: 'info',
      },
      {
        key: `edge_${c}_cpu_per_gb`,
        figure: `  server CPU per GB served, appliance | nginx`,
        value: app?.cpuSecondsPerGB ?? null,
        display: pair(app?.cpuSecondsPerGB, ng?.cpuSecondsPerGB, 2),
        unit: 'CPU s/GB',
        target: `<= ${EDGE_TARGET.cpuPerGbRatio} x nginx`,
        verdict: cpuRatio === undefined ? 'n/a' : check(cpuRatio, '<=', EDGE_TARGET.cpuPerGbRatio),
      },
      {
        key: `edge_${c}_upstream`,
        figure: `  upstream requests (all rounds), segments + playlist, appliance | nginx`,
        value: app?.upstreamSegmentRequests ?? null,
        display:
          `${app ? `${app.upstreamSegmentRequests} + ${app.upstreamPlaylistRequests}` : na} | ` +
          `${ng ? `${ng.upstreamSegmentRequests} + ${ng.upstreamPlaylistRequests}` : '-'}`,
        unit: '',
        target: '',
        verdict: 'info',
      },
    );
    if (errors(app) + errors(ng) > 0)
      rows.push({
        key: `edge_${c}_errors`,
        figure: `  errors (connect, read, write, timeout, status >= 400), appliance | nginx`,
        value: app ? errors(app) : null,
        display: `${app ? errors(app) : na} | ${errors(ng)}`,
        unit: '',
        target: '0',
        verdict: app ? (errors(app) === 0 ? 'PASS' : 'MISS') : 'n/a',
      });
  }
  const perSegment = (e: EdgeName) => r.upstreamPerSegment[e];
  const appPer = perSegment('appliance');
  rows.push({
    key: 'edge_upstream_per_segment',
    figure: `Edge: upstream requests per segment, appliance | nginx`,
    value: appPer ?? null,
    display: pair(appPer, perSegment('nginx'), 2),
    unit: '',
    target: `= ${EDGE_TARGET.upstreamPerSegment}`,
    verdict: appPer === undefined ? 'n/a' : appPer === EDGE_TARGET.upstreamPerSegment ? 'PASS' : 'MISS',
  });
  const f = r.fixture;
  const notes = [
    `One upstream (Debian's nginx, static files, access log) serving ${f.segments} TS segments of ${SEGMENT} s ` +
      `(720p30 ~3 Mb/s + AAC, ${fmt(f.meanSegmentBytes / 1024, 0)} KiB on average) and a ${f.playlistBytes}-byte ` +
      `live-looking playlist (no ENDLIST), made once with ffmpeg. Two edges answer /kCache/127.0.0.1:<port>/... ` +
      `from it, caches cold at the first (highest) level: the appliance (npm run serve's core, --edge-origins ` +
      `http://127.0.0.1:<port>, one node process) and nginx with resources/nginx/ecdn-kcache.conf (1 worker ` +
      `process, sendfile). Load: ${r.wrk ?? 'wrk'}, 2 threads, ${SECONDS} s per edge, level and round, ` +
      `keep-alive, each connection alternating playlist and segment (a Lua script), on the same cores as the ` +
      `servers; the edges take turns, ${r.rounds} round(s) each per level, and each edge's best round (req/s) ` +
      `counts (every run in latest.json). CPU per GB ` +
      `= utime+stime from /proc of the edge's process tree (appliance + children; nginx master + workers) over ` +
      `the run / response bytes (headers included, as wrk counts them). Upstream requests from the upstream's ` +
      `access log; per segment = all segment requests of the edge (the check before the load fetched segment 0, ` +
      `the load the others cold) / segments. Targets (issue 14): appliance >= ${EDGE_TARGET.rpsRatio} x nginx's ` +
      `req/s, 1 upstream request per segment, CPU per GB <= ${EDGE_TARGET.cpuPerGbRatio} x nginx's.` +
      (r.applianceUnavailable ? ` Appliance column: ${r.applianceUnavailable}.` : ''),
  ];
  return { rows, notes, details: r };
}
