/** What each selectable part of `npm run bench` gives back to bench/run.ts. */
import fs from 'node:fs';
import path from 'node:path';
import type { Row } from './table.js';

export interface SectionRow extends Row {
  /** Index into the section's `notes` (0-based); run.ts numbers the notes of all sections as [1], [2], ... */
  note?: number;
}

export interface SectionResult {
  rows: SectionRow[];
  notes: string[];
  /** Raw measurements, written to bench/results/latest.json. */
  details: unknown;
}

/** Progress lines go to stderr; the table alone goes to stdout. */
export const progress = (msg: string): void => void process.stderr.write(`bench: ${msg}\n`);

export const fmt = (n: number, digits = 2): string => n.toFixed(digits);

/**
 * Options for startAppliance: with BENCH_CPU_PROFILE=<dir>, the appliance (and its ingest child) write a V8 CPU
 * profile of their whole life into that directory on exit (<pid>.cpuprofile; open in Chrome DevTools).
 */
export function applianceStartEnv(): { env?: Record<string, string> } {
  const dir = process.env.BENCH_CPU_PROFILE;
  if (!dir) return {};
  fs.mkdirSync(dir, { recursive: true });
  const preload = path.join(import.meta.dirname, 'cpu-profile-preload.mjs');
  return { env: { NODE_OPTIONS: `--import ${preload}`, BENCH_CPU_PROFILE_DIR: path.resolve(dir) } };
}
