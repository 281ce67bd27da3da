/**
 * `npm run bench`: the appliance's figures, printed as one table and written to bench/results/latest.json with
 * the machine they were measured on. Sections (all by default; `npm run bench -- --only=serving,viewers`):
 *   transcode  transcode speed of the default ladder
 *   live       first playable, live-edge latency, peak memory while 720p streams run
 *   glass      glass-to-glass latency in Chromium with hls.js, regular HLS and LL-HLS
 *   serving    requests/s, throughput and p99 of the origin beside nginx serving the same files
 *   viewers    1000 simulated players on 4 live channels: errors, late fragments, core CPU and memory
 *   archive    manifest, /archive and purge times with a 1 h and a 24 h archive index
 *   edge       the appliance's /kCache/ edge beside nginx proxy_cache (ecdn-kcache.conf) under wrk
 *   monitor    CPU of each channel's content monitor (1, 2, 4 live 720p channels) and of the SRT ingest per caller
 * Shorter runs while developing: BENCH_GLASS_SECONDS (20), BENCH_SERVING_SECONDS (10), BENCH_SERVING_LEVELS
 * (50,200,1000), BENCH_VIEWERS (1000), BENCH_VIEWER_SECONDS (60), BENCH_ARCHIVE_REPS (200), BENCH_MONITOR_SECONDS
 * (30), BENCH_MONITOR_CHANNELS (1,2,4); BENCH_VIEWER_PROFILE,
 * BENCH_VIEWER_WORKERS, BENCH_VIEWER_AUDIO (see viewers.ts); BENCH_CPU_PROFILE=<dir> makes the appliances of the
 * serving and viewers sections write V8 CPU profiles there.
 * Exit status: 0 also when a target is missed (MISS); 1 when a measurement fails outright (FAILED; the other
 * sections still run); 2 when a figure came out physically impossible (INVALID, e.g. a live edge in the future).
 */
import fs from 'node:fs';
import path from 'node:path';
import { archiveRows, measureArchive } from './archive-costs.js';
import { edgeRows, measureEdge } from './edge.js';
import { glassRows, measureGlassToGlass } from './glass-to-glass.js';
import { startCpuAccount, type CpuAccount } from './lib/cpu.js';
import { machineInfo, type MachineInfo } from './lib/machine.js';
import { progress, type SectionResult } from './lib/section.js';
import { round } from './lib/stats.js';
import { renderTable, type Row } from './lib/table.js';
import { FRAGMENT, liveRows, measureLive, measureTranscode, RESULTS, transcodeRows } from './live-figures.js';
import { measureMonitor, monitorRows } from './monitor.js';
import { measureServing, servingRows } from './serving.js';
import { measureViewers, viewersRows } from './viewers.js';

const SECTIONS: Record<string, () => Promise<SectionResult>> = {
  transcode: async () => transcodeRows(await measureTranscode()),
  live: async () => liveRows(await measureLive()),
  glass: async () => glassRows(await measureGlassToGlass()),
  serving: async () => servingRows(await measureServing()),
  viewers: async () => viewersRows(await measureViewers()),
  archive: async () => archiveRows(await measureArchive()),
  edge: async () => edgeRows(await measureEdge()),
  monitor: async () => monitorRows(await measureMonitor()),
};

function selectedSections(argv: readonly string[]): string[] {
  const only = argv.find((a) => a.startsWith('--only='));
  if (!only) return Object.keys(SECTIONS);
  const names = only
    .slice('--only='.length)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = names.filter((n) => !(n in SECTIONS));
  if (unknown.length > 0 || names.length === 0)
    throw new Error(
      `--only: unknown section(s) ${unknown.join(', ')}; known: ${Object.keys(SECTIONS).join(', ')}`,
    );
  // Always in the table's order, whatever order they were asked in.
  return Object.keys(SECTIONS).filter((n) => names.includes(n));
}

function header(machine: MachineInfo): string {
  return (
    `eCDN appliance bench  ${machine.date}\n` +
    `${machine.cpuModel} x${machine.cpuCount}, ${(machine.totalMemoryMB / 1024).toFixed(1)} GiB, ` +
    `node ${machine.node}, ${machine.ffmpeg.version.replace(/ Copyright.*$/, '')} (${machine.ffmpeg.path}), ` +
    `load avg at start ${machine.loadAverageAtStart.join(' ')}\n`
  );
}

/** Other processes using more than this many cores on average make the figures suspect. */
const QUIET_CORES = 0.1;

function cpuLine(cpu: CpuAccount, quiet: boolean): string {
  const line =
    `CPU during the bench: ${cpu.benchCpuSeconds.toFixed(0)} s by the bench tree, ` +
    `${cpu.otherCpuSeconds.toFixed(1)} s by other processes (${cpu.otherCores.toFixed(2)} cores on average)`;
  return quiet
    ? `${line}\n`
    : `${line}\nWARNING: the machine was not quiet; the figures may be pessimistic.\n`;
}

function writeJson(data: unknown): void {
  fs.mkdirSync(RESULTS, { recursive: true });
  fs.writeFileSync(path.join(RESULTS, 'latest.json'), JSON.stringify(data, null, 2) + '\n');
}

/** Numbers rounded for the JSON file. */
function rounded<T>(value: T): T {
  return JSON.parse(
    JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' ? round(v, 4) : v)),
  ) as T;
}

/** The rows of every section with their notes numbered [1], [2], ... across the whole table. */
function assemble(results: readonly SectionResult[]): { rows: Row[]; notes: string[] } {
  const rows: Row[] = [];
  const notes: string[] = [];
  for (const r of results) {
    const offset = notes.length;
    notes.push(...r.notes);
    for (const { note, ...row } of r.rows)
      rows.push(note === undefined ? row : { ...row, figure: `${row.figure} [${offset + note + 1}]` });
  }
  return { rows, notes };
}

async function main(): Promise<void> {
  const sections = selectedSections(process.argv.slice(2));
  const started = performance.now();
  const machine = machineInfo();
  progress(
    `sections ${sections.join(', ')}; load average ${machine.loadAverageAtStart.join(' ')} on ${machine.cpuCount} CPUs`,
  );
  const cpuAccount = startCpuAccount();
  const results: SectionResult[] = [];
  const details: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const name of sections) {
    const t0 = performance.now();
    try {
      const r = await (SECTIONS[name] as () => Promise<SectionResult>)();
      results.push(r);
      details[name] = r.details;
    } catch (err) {
      const text = (err as Error).stack ?? String(err);
      console.error(`bench: section ${name} failed: ${text}`);
      errors[name] = text;
      results.push({
        rows: [
          {
            key: `${name}_failed`,
            figure: `${name}: measurement failed (see stderr / latest.json)`,
            value: null,
            display: 'error',
            unit: '',
            target: '',
            verdict: 'FAILED',
          },
        ],
        notes: [],
        details: undefined,
      });
    }
    progress(`section ${name} took ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  // Every child has exited and been reaped: the CPU account is complete.
  const cpu = cpuAccount();
  const { rows, notes } = assemble(results);
  const benchSeconds = (performance.now() - started) / 1000;
  const quiet = cpu.otherCores < QUIET_CORES;
  const invalid = rows.filter((r) => r.verdict === 'INVALID');
  const failed = Object.keys(errors);
  process.stdout.write(`\n${header(machine)}${cpuLine(cpu, quiet)}\n${renderTable(rows, notes)}\n`);
  process.stdout.write(`(bench took ${benchSeconds.toFixed(0)} s; written to bench/results/latest.json)\n`);
  writeJson(
    rounded({
      ok: invalid.length === 0 && failed.length === 0,
      sections,
      invalid: invalid.map((r) => r.key),
      failed,
      quietMachine: quiet,
      machine,
      cpu,
      benchSeconds,
      fragmentDuration: FRAGMENT,
      rows: rows.map(({ key, figure, value, display, unit, target, verdict }) => ({
        key,
        figure: figure.trim(),
        value,
        ...(display !== undefined ? { display } : {}),
        unit,
        target,
        verdict,
      })),
      notes,
      errors,
      details,
    }),
  );
  if (failed.length > 0) {
    console.error(`bench: ${failed.length} section(s) FAILED: ${failed.join(', ')}`);
    process.exitCode = 1;
  }
  if (invalid.length > 0) {
    // A figure that does not measure what it says is a failed measurement, not a missed target.
    console.error(`bench: ${invalid.length} figure(s) INVALID: ${invalid.map((r) => r.key).join(', ')}`);
    process.exitCode = 2;
  }
}

main().catch((err: Error) => {
  console.error(`bench: ${err.stack ?? err.message}`);
  process.exitCode = 1;
});
