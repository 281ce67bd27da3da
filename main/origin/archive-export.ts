/**
 * The archive as segments of `archive_segment_length` seconds (aligned to the UTC clock; 0 = one segment for
 * the whole archive), each downloadable as one MP4: the best video rendition and its audio, remuxed by ffmpeg
 * from the stored fragments without re-encoding.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolvePpOptions } from './publishing-point-options.js';
import type { PublishingPoints } from './publishing-points.js';
import type { PublishingPointRecord, TrackRecord } from './segment-index.js';
import { initNameOf } from './origin-storage.js';
import { spawnHelper } from '../lib/helper-processes.js';

export interface ArchiveSegment {
  index: number;
  /** ms since epoch. */
  start: number;
  end: number;
  fragments: number;
}

export class ArchiveExportError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The track an export follows: the highest-bitrate video, else the first audio. */
function leadTrack(pps: PublishingPoints, pp: PublishingPointRecord): TrackRecord | undefined {
  const tracks = pps.index.tracks(pp.name).filter((t) => pps.index.firstFragment(t.id));
  const videos = tracks
    .filter((t) => t.kind === 'video')
    .sort((a, b) => (b.height ?? 0) - (a.height ?? 0) || (b.bitrate ?? 0) - (a.bitrate ?? 0));
  return videos[0] ?? tracks[0];
}

/** Shortest archive segment, and most segments listed (archive_segment_length is stretched to fit). */
export const MIN_ARCHIVE_SEGMENT_MS = 1_000;
export const MAX_ARCHIVE_SEGMENTS = 2_000;

export function archiveSegments(pps: PublishingPoints, pp: PublishingPointRecord): ArchiveSegment[] {
  const extent = pps.extent(pp);
  const lead = leadTrack(pps, pp);
  if (!extent || !lead) return [];
  const asked = resolvePpOptions(pp.options).archiveSegmentLength * 1000;
  // A tiny length would make millions of windows (each a query) on the only event loop: at least a second, and
  // never more than MAX_ARCHIVE_SEGMENTS windows over the archive.
  const length =
    asked <= 0
      ? 0
      : Math.max(
          asked,
          MIN_ARCHIVE_SEGMENT_MS,
          Math.ceil((extent.end - extent.start) / MAX_ARCHIVE_SEGMENTS),
        );
  const toMedia = (ms: number) => Math.round(((ms - pp.epoch) / 1000) * lead.timescale);
  if (length <= 0) {
    return [{ index: 0, start: extent.start, end: extent.end, fragments: pps.index.countFragments(lead.id) }];
  }
  const out: ArchiveSegment[] = [];
  for (let n = Math.floor(extent.start / length); n * length < extent.end; n++) {
    const start = n * length;
    const count = pps.index.countFragments(lead.id, toMedia(start), toMedia(start + length));
    if (count > 0)
      out.push({
        index: n,
        start: Math.max(start, extent.start),
        end: Math.min(start + length, extent.end),
        fragments: count,
      });
  }
  return out;
}

/** Writes segment `n` as an MP4 in a temporary directory; the caller streams it and calls `cleanup`. */
export async function exportSegment(
  pps: PublishingPoints,
  pp: PublishingPointRecord,
  n: number,
  ffmpegPath: string,
): Promise<{ file: string; cleanup: () => void }> {
  const segment = archiveSegments(pps, pp).find((s) => s.index === n);
  if (!segment) throw new ArchiveExportError(404, `no archive segment ${n}`);
  return exportRange(pps, pp, segment.start, segment.end, ffmpegPath, `segment-${n}`);
}

/** Writes the archive fragments that start in [start, end) (ms since epoch) as one MP4 in a temporary directory. */
export async function exportRange(
  pps: PublishingPoints,
  pp: PublishingPointRecord,
  start: number,
  end: number,
  ffmpegPath: string,
  label = 'range',
): Promise<{ file: string; cleanup: () => void }> {
  const segment = { start, end };
  const lead = leadTrack(pps, pp);
  if (!lead) throw new ArchiveExportError(404, 'the archive is empty');
  const first = pps.index.fragmentsStartingIn(
    lead.id,
    Math.round(((start - pp.epoch) / 1000) * lead.timescale),
    Math.round(((end - pp.epoch) / 1000) * lead.timescale),
    1,
  );
  if (first.length === 0) throw new ArchiveExportError(404, 'nothing in the archive in that range');
  const audio =
    lead.kind === 'video'
      ? pps.index.tracks(pp.name).find((t) => t.trackName === lead.audioTrack)
      : undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecdn-export-'));
  const cleanup = () => fs.rmSync(dir, { recursive: true, force: true });
  try {
    const inputs: string[][] = [];
    for (const t of audio ? [lead, audio] : [lead]) {
      const from = Math.round(((segment.start - pp.epoch) / 1000) * t.timescale);
      const to = Math.round(((segment.end - pp.epoch) / 1000) * t.timescale);
      // One piece per transcoder run (the encoder's, the slate's, the encoder's again), each with its own init
      // segment; the pieces are joined by ffmpeg's concat demuxer.
      const pieces: string[] = [];
      let out: number | undefined;
      let init: string | undefined;
      try {
        for (let at = from; ;) {
          const batch = pps.index.fragmentsStartingIn(t.id, at, to, 500);
          if (batch.length === 0) break;
          for (const f of batch) {
            const runInit = initNameOf(f.file);
            if (out === undefined || runInit !== init) {
              if (out !== undefined) fs.closeSync(out);
              const piece = path.join(dir, `${t.trackName}-${pieces.length}.mp4`);
              pieces.push(piece);
              out = fs.openSync(piece, 'w');
              init = runInit;
              fs.writeSync(
                out,
                fs.readFileSync(path.join(pps.storage.trackDir(pp.name, t.trackName), runInit)),
              );
            }
            fs.writeSync(out, fs.readFileSync(pps.storage.resolve(pp.name, f.file)));
          }
          at = (batch[batch.length - 1] as { mediaTime: number }).mediaTime + 1;
        }
      } finally {
        if (out !== undefined) fs.closeSync(out);
      }
      if (pieces.length === 1) {
        inputs.push(['-i', pieces[0] as string]);
      } else if (pieces.length > 1) {
        const list = path.join(dir, `${t.trackName}.txt`);
        fs.writeFileSync(list, pieces.map((f) => `file '${f}'\n`).join(''));
        inputs.push(['-f', 'concat', '-safe', '0', '-i', list]);
      }
    }
    const target = path.join(dir, `${label}.mp4`);
    const args = ['-hide_banner', '-nostdin', '-loglevel', 'error'];
    for (const i of inputs) args.push(...i);
    args.push(
      '-map',
      '0',
      ...(inputs.length > 1 ? ['-map', '1'] : []),
      '-c',
      'copy',
      '-movflags',
      '+faststart',
      target,
    );
    const stderr = await new Promise<string>((resolve, reject) => {
      const p = spawnHelper(ffmpegPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      p.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
      p.once('error', reject);
      p.once('close', (code) =>
        code === 0 ? resolve(err) : reject(new Error(`ffmpeg exit ${code}: ${err.trim().slice(-300)}`)),
      );
    });
    void stderr;
    return { file: target, cleanup };
  } catch (err) {
    cleanup();
    if (err instanceof ArchiveExportError) throw err;
    throw new ArchiveExportError(500, `export failed: ${(err as Error).message}`);
  }
}
