/**
 * Costs that do not grow with the archive: a segment index of 1 hour and one of 24 hours (generated rows, 2 s
 * fragments, 3 tracks, every row with a file so the start-up reconciliation keeps it) is written into a fresh
 * data directory, the appliance is started on it, and the live manifests (HLS master, HLS media playlist, MPD:
 * the DVR window), Unified Streaming's `/archive` and a purge of one hour are timed over HTTP, as users get them.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startAppliance, type RunningAppliance } from '../test/helpers/appliance.js';
import { OriginStorage } from '../main/origin/origin-storage.js';
import { DEFAULT_PP_OPTIONS } from '../main/origin/publishing-point-options.js';
import { SegmentIndex, type TrackRecord } from '../main/origin/segment-index.js';
import { openDatabase } from '../main/store/database.js';
import { fmt, progress, type SectionResult, type SectionRow } from './lib/section.js';
import { median, percentile } from './lib/stats.js';
import { check } from './lib/table.js';

const HOURS = [1, 24] as const;
const REPS = Number(process.env.BENCH_ARCHIVE_REPS ?? 200);
const WARMUP = 20;
/** /archive reads the whole index of each track (it lists its ranges): fewer repetitions of it. */
const ARCHIVE_REPS = Math.min(REPS, 30);
const reps = (f: Figure): number => (f === 'archive' ? ARCHIVE_REPS : REPS);
const PURGES = 3;
const FRAGMENT_SECONDS = 2;
export const ARCHIVE_TARGET = { liveManifestRatio: 1.5 };
const PP = 'bench_archive';

/** The three tracks of a typical channel, with the bytes per fragment written into the index. */
const TRACKS = [
  { trackName: 'video_source', kind: 'video', timescale: 15360, width: 1280, height: 720, size: 500_000 },
  { trackName: 'video_360', kind: 'video', timescale: 15360, width: 640, height: 360, size: 200_000 },
  { trackName: 'audio_source', kind: 'audio', timescale: 48000, width: null, height: null, size: 32_000 },
] as const;

type Figure = 'master' | 'media' | 'mpd' | 'archive';
const FIGURES: Figure[] = ['master', 'media', 'mpd', 'archive'];

export interface ArchiveTiming {
  hours: number;
  fragments: number;
  generateSeconds: number;
  /** Spawn -> ready of the appliance on this data directory (includes the start-up reconciliation). */
  startSeconds: number;
  /** ms per request, median and p95 over REPS requests each (ARCHIVE_REPS for /archive). */
  ms: Record<Figure, { median: number; p95: number; bytes: number }>;
  purgeMs: number[];
  purged: number[];
}

export interface ArchiveResult {
  reps: number;
  archiveReps: number;
  timings: ArchiveTiming[];
}

/** Writes `hours` of 2 s fragments for every track of publishing point `pp`, with a (hard-linked) file each. */
function generate(dataDir: string, pp: string, hours: number): number {
  const db = openDatabase(dataDir);
  try {
    const index = new SegmentIndex(db);
    const storage = new OriginStorage(dataDir);
    const seconds = hours * 3600;
    const now = Date.now();
    // The archive ends now: created `seconds` ago (the timeline starts TIMELINE_LEAD_MS before creation).
    const rec = index.createPublishingPoint(
      pp,
      { ...DEFAULT_PP_OPTIONS, archiving: 'true' },
      now - seconds * 1000,
    );
    // Hard links to empty files (ext4 allows 65000 links per inode: a new one every 50000).
    let blank = '';
    let n = 0;
    db.transaction(() => {
      for (const t of TRACKS) {
        const track: TrackRecord = index.upsertTrack({
          pp,
          trackName: t.trackName,
          kind: t.kind,
          timescale: t.timescale,
          codecs: t.kind === 'video' ? 'avc1.64001f' : 'mp4a.40.2',
          bitrate: null,
          width: t.width,
          height: t.height,
          frameRate: t.kind === 'video' ? 30 : null,
          sampleRate: t.kind === 'audio' ? 48000 : null,
          channels: t.kind === 'audio' ? 2 : null,
          audioTrack: t.kind === 'video' ? 'audio_source' : null,
        });
        fs.mkdirSync(storage.trackDir(pp, t.trackName), { recursive: true });
        const start = 10; // seconds after the epoch (TIMELINE_LEAD_MS)
        for (let s = start; s < start + seconds; s += FRAGMENT_SECONDS) {
          const mediaTime = s * t.timescale;
          const file = storage.fragmentFile(t.trackName, mediaTime);
          if (n % 50_000 === 0) {
            blank = path.join(dataDir, `blank-${pp}-${n}.m4s`);
            fs.writeFileSync(blank, '');
          }
          fs.linkSync(blank, storage.resolve(pp, file));
          index.addFragment({
            trackId: track.id,
            mediaTime,
            duration: FRAGMENT_SECONDS * t.timescale,
            utc: rec.epoch + s * 1000,
            size: t.size,
            file,
            discontinuity: false,
            serverIndex: 0,
          });
          n++;
        }
        index.setTrackState(track.id, 'stopped');
      }
      index.setState(pp, 'stopped');
    })();
    return n;
  } finally {
    db.close();
  }
}

/** Marks publishing points (and their tracks) as being fed, as during a live event: live manifests, no ENDLIST. */
function markLive(dataDir: string, pps: string[]): void {
  const db = openDatabase(dataDir);
  try {
    const index = new SegmentIndex(db);
    for (const pp of pps) {
      index.setState(pp, 'started');
      for (const t of index.tracks(pp)) index.setTrackState(t.id, 'started');
    }
  } finally {
    db.close();
  }
}

async function timed(url: string, init?: RequestInit): Promise<{ ms: number; bytes: number; text: string }> {
  const t0 = performance.now();
  const r = await fetch(url, init);
  const text = await r.text();
  const ms = performance.now() - t0;
  if (r.status !== 200) throw new Error(`${url}: ${r.status} ${text.slice(0, 200)}`);
  return { ms, bytes: Buffer.byteLength(text), text };
}

async function measureSize(hours: number): Promise<ArchiveTiming> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `ecdn-bench-archive-${hours}h-`));
  let a: RunningAppliance | undefined;
  try {
    const g0 = performance.now();
    let fragments = generate(dataDir, PP, hours);
    // At 1 h, purging one hour empties the archive: each purge gets a publishing point of its own.
    const purgePps = hours === 1 ? Array.from({ length: PURGES }, (_v, i) => `${PP}_p${i + 1}`) : [];
    for (const p of purgePps) fragments += generate(dataDir, p, hours);
    const generateSeconds = (performance.now() - g0) / 1000;
    progress(
      `archive ${hours} h: ${fragments} index rows in ${fmt(generateSeconds, 1)} s; starting the appliance`,
    );
    const s0 = performance.now();
    a = await startAppliance({ dataDir });
    const startSeconds = (performance.now() - s0) / 1000;
    markLive(dataDir, [PP, ...purgePps]);
    const base = `${a.origin}/${PP}/${PP}.isml`;
    const urls: Record<Figure, string> = {
      master: `${base}/.m3u8`,
      media: `${base}/tracks/video_source.m3u8`,
      mpd: `${base}/.mpd`,
      archive: `${base}/archive`,
    };
    const media = await timed(urls.media);
    if (media.text.includes('#EXT-X-ENDLIST')) throw new Error('the media playlist is not live');
    if ((media.text.match(/#EXTINF/g) ?? []).length > 20)
      throw new Error('the playlist lists more than the DVR window');
    const samples: Record<Figure, number[]> = { master: [], media: [], mpd: [], archive: [] };
    const bytes: Record<Figure, number> = { master: 0, media: 0, mpd: 0, archive: 0 };
    for (let i = 0; i < WARMUP + REPS; i++) {
      for (const f of FIGURES) {
        if (i >= WARMUP + reps(f)) continue;
        const r = await timed(urls[f]);
        bytes[f] = r.bytes;
        if (i >= WARMUP) samples[f].push(r.ms);
      }
    }
    const purgeMs: number[] = [];
    const purged: number[] = [];
    for (let i = 0; i < PURGES; i++) {
      // The first hour of what is left (offsets count from the archive's start).
      const pp = purgePps[i] ?? PP;
      const r = await timed(`${a.origin}/${pp}/${pp}.isml/purge?t=00:00:00-01:00:00`, {
        method: 'POST',
        headers: { authorization: `Bearer ${a.token}` },
      });
      purgeMs.push(r.ms);
      purged.push(Number(/purged (\d+)/.exec(r.text)?.[1] ?? NaN));
    }
    const ms = Object.fromEntries(
      FIGURES.map((f) => [
        f,
        { median: median(samples[f]), p95: percentile(samples[f], 95), bytes: bytes[f] },
      ]),
    ) as ArchiveTiming['ms'];
    progress(
      `archive ${hours} h: media ${fmt(ms.media.median)} ms, mpd ${fmt(ms.mpd.median)} ms, /archive ` +
        `${fmt(ms.archive.median)} ms, purge ${purgeMs.map((x) => fmt(x, 0)).join('/')} ms`,
    );
    return { hours, fragments, generateSeconds, startSeconds, ms, purgeMs, purged };
  } finally {
    await a?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function measureArchive(): Promise<ArchiveResult> {
  const timings: ArchiveTiming[] = [];
  for (const h of HOURS) timings.push(await measureSize(h));
  return { reps: REPS, archiveReps: ARCHIVE_REPS, timings };
}

export function archiveRows(r: ArchiveResult): SectionResult {
  const [small, large] = r.timings as [ArchiveTiming, ArchiveTiming];
  const rows: SectionRow[] = [];
  const pair = (x: number, y: number, d = 2) => `${fmt(x, d)} | ${fmt(y, d)}`;
  const labels: Record<Figure, string> = {
    master: 'HLS master playlist',
    media: 'HLS media playlist (DVR window)',
    mpd: 'DASH MPD (DVR window)',
    archive: '/archive (SMIL)',
  };
  for (const f of FIGURES) {
    const ratio = large.ms[f].median / small.ms[f].median;
    const live = f !== 'archive';
    rows.push(
      {
        key: `archive_${f}_ms`,
        figure: `${labels[f]}, median, ${small.hours} h | ${large.hours} h archive`,
        value: large.ms[f].median,
        display: pair(small.ms[f].median, large.ms[f].median),
        unit: 'ms',
        target: '',
        verdict: 'info',
        note: 0,
      },
      {
        key: `archive_${f}_ratio`,
        figure: `  ${large.hours} h / ${small.hours} h`,
        value: ratio,
        unit: 'x',
        target: live ? `<= ${ARCHIVE_TARGET.liveManifestRatio}` : '',
        verdict: live ? check(ratio, '<=', ARCHIVE_TARGET.liveManifestRatio) : 'info',
      },
    );
  }
  const purge = (t: ArchiveTiming) => median(t.purgeMs);
  rows.push(
    {
      key: 'archive_purge_hour_ms',
      figure: `Purge of one hour, median of ${PURGES}, ${small.hours} h | ${large.hours} h`,
      value: purge(large),
      display: pair(purge(small), purge(large), 0),
      unit: 'ms',
      target: '',
      verdict: 'info',
      note: 0,
    },
    {
      key: 'archive_purge_hour_ratio',
      figure: `  ${large.hours} h / ${small.hours} h`,
      value: purge(large) / purge(small),
      unit: 'x',
      target: '',
      verdict: 'info',
    },
    {
      key: 'archive_start_seconds',
      figure: `Appliance start on the data dir, ${small.hours} h | ${large.hours} h`,
      value: large.startSeconds,
      display: pair(small.startSeconds, large.startSeconds),
      unit: 's',
      target: '',
      verdict: 'info',
      note: 0,
    },
  );
  const notes = [
    `Index rows generated straight into a fresh data directory's SQLite through SegmentIndex (${TRACKS.length} ` +
      `tracks: ${TRACKS.map((t) => t.trackName).join(', ')}; ${FRAGMENT_SECONDS} s fragments; ` +
      `${small.fragments} rows at ${small.hours} h (with ${PURGES} more 1 h publishing points to purge), ` +
      `${large.fragments} at ${large.hours} h; each row has an (empty, hard-linked) file, as the start-up ` +
      `reconciliation drops rows without one), publishing point archiving=true, dvr_window_length=30, marked ` +
      `'started' after the appliance started so the manifests are live ones. Over HTTP on loopback from the ` +
      `bench process: ${WARMUP} warm-up then ${r.reps} requests of each (${r.archiveReps} of /archive), interleaved; ms from request to last ` +
      `byte (p95 ${pair(small.ms.media.p95, large.ms.media.p95)} ms for the media playlist). Purge = POST ` +
      `<pp>.isml/purge?t=00:00:00-01:00:00 with admin credentials, answered when done (${small.purged[0]} ` +
      `fragments each; at ${large.hours} h three consecutive hours of the same publishing point). Start = spawn ` +
      `to ready, which includes reconciling every index row with the disk. Target: live manifests at ` +
      `${large.hours} h within ${ARCHIVE_TARGET.liveManifestRatio} x their time at ${small.hours} h.`,
  ];
  return { rows, notes, details: r };
}
