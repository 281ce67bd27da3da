/**
 * After an unclean stop (kill -9, power loss) the index and the disk may disagree. At start-up:
 * publishing points that were being fed are `stopped`; fragment files the index does not know (written but
 * not yet indexed) and temporary files are removed; index rows whose file is missing are dropped.
 * Everything that was complete stays served.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { OriginStorage } from './origin-storage.js';
import type { PublishingPointStates } from './publishing-point-state.js';
import type { SegmentIndex } from './segment-index.js';

export interface ReconcileReport {
  /** Publishing points moved to `stopped`. */
  stopped: string[];
  removedFiles: number;
  droppedRows: number;
}

export function reconcile(
  index: SegmentIndex,
  storage: OriginStorage,
  states: PublishingPointStates,
): ReconcileReport {
  const report: ReconcileReport = { stopped: [], removedFiles: 0, droppedRows: 0 };
  for (const pp of index.listPublishingPoints()) {
    if (pp.state === 'starting' || pp.state === 'started' || pp.state === 'stopping') {
      states.halt(pp.name);
      report.stopped.push(pp.name);
    }
    for (const t of index.tracks(pp.name)) if (t.state !== 'stopped') index.setTrackState(t.id, 'stopped');

    const rows = index.fragmentFiles(pp.name);
    const known = new Set(rows.map((r) => r.file));
    const missing: number[] = [];
    for (const r of rows) if (!fs.existsSync(storage.resolve(pp.name, r.file))) missing.push(r.id);
    if (missing.length > 0) {
      index.deleteFragments(missing);
      report.droppedRows += missing.length;
    }
    for (const t of index.tracks(pp.name)) {
      const dir = storage.trackDir(pp.name, t.trackName);
      let names: string[];
      try {
        names = fs.readdirSync(dir);
      } catch {
        continue;
      }
      for (const n of names) {
        const orphan = n.endsWith('.tmp') || (n.endsWith('.m4s') && !known.has(`${t.trackName}/${n}`));
        if (orphan) {
          fs.rmSync(path.join(dir, n), { force: true });
          report.removedFiles++;
        }
      }
    }
  }
  return report;
}
