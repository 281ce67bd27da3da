/**
 * Transcode speed: the appliance's default ladder, as planned for a 720p30 H.264/AAC source, run by
 * ffmpeg on a pre-generated 30 s file as fast as it goes (no -re). Speed = media seconds / wall seconds.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FFPROBE } from '../test/helpers/encoder.js';
import { loadDefaultProfile } from '../main/transcode/conversion-profile.js';
import { planTranscode } from '../main/transcode/ffmpeg-args.js';
import { resolveFfmpeg } from '../main/transcode/ffmpeg-binary.js';
import { ProgressParser, type TranscodeProgress } from '../main/transcode/transcode-progress.js';

export interface TranscodeSpeedResult {
  source: { file: string; seconds: number; size: string; rate: number; generateSeconds: number };
  ffmpeg: string;
  tracks: { trackName: string; bytes: number }[];
  wallSeconds: number;
  /** media seconds / wall seconds */
  speed: number;
  /** `speed=` of ffmpeg's last -progress block (progress=end). */
  ffmpegSpeed: number | null;
  frames: number;
  warnings: string[];
}

const SECONDS = 30;
const SIZE = '1280x720';
const RATE = 30;

/** A 30 s 720p30 H.264/AAC file, encoded as the test encoder publishes (veryfast, zerolatency, GOP 2 s). */
function generateSource(ffmpeg: string, file: string): number {
  const start = performance.now();
  const r = spawnSync(
    ffmpeg,
    [
      ...['-hide_banner', '-loglevel', 'error', '-y'],
      ...['-f', 'lavfi', '-i', `testsrc2=size=${SIZE}:rate=${RATE}`],
      ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'],
      ...['-t', String(SECONDS)],
      ...['-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-g', String(2 * RATE)],
      ...['-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '128k', file],
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`generating the source file failed: ${r.error?.message ?? r.stderr}`);
  return (performance.now() - start) / 1000;
}

function probeDuration(file: string): number {
  const r = spawnSync(FFPROBE, ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file], {
    encoding: 'utf8',
  });
  const d = Number.parseFloat(r.stdout);
  if (r.status !== 0 || !Number.isFinite(d) || d <= 0) throw new Error(`ffprobe ${file}: ${r.stderr}`);
  return d;
}

export async function measureTranscodeSpeed(): Promise<TranscodeSpeedResult> {
  const ffmpeg = resolveFfmpeg().path;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecdn-bench-'));
  try {
    const file = path.join(dir, 'source-720p30.mp4');
    const generateSeconds = generateSource(ffmpeg, file);
    const mediaSeconds = probeDuration(file);
    const plan = planTranscode(
      loadDefaultProfile(),
      {
        hasVideo: true,
        hasAudio: true,
        width: 1280,
        height: 720,
        frameRate: RATE,
        videoCodec: 'h264',
        audioCodec: 'aac',
      },
      { inputUrl: file, fragmentDuration: 2 },
    );
    if (plan.args.filter((a) => a === file).length !== 1) throw new Error('the plan does not read the file');

    const bytes = plan.tracks.map(() => 0);
    let last: TranscodeProgress | undefined;
    let stderr = '';
    const start = performance.now();
    const child = spawn(ffmpeg, plan.args, {
      stdio: ['ignore', 'pipe', 'pipe', ...plan.tracks.map(() => 'pipe' as const)],
    });
    const progress = new ProgressParser((p) => (last = p));
    child.stdout?.setEncoding('utf8').on('data', (d: string) => progress.push(d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    // Drain every track pipe (fd 3..), as the appliance does, so ffmpeg never blocks on a full pipe.
    plan.tracks.forEach((_t, i) => {
      const out = child.stdio[3 + i] as NodeJS.ReadableStream | null;
      out?.on('data', (chunk: Buffer) => (bytes[i] = (bytes[i] ?? 0) + chunk.length));
    });
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (c) => resolve(c));
    });
    const wallSeconds = (performance.now() - start) / 1000;
    if (code !== 0) throw new Error(`ladder ffmpeg exited with ${code}: ${stderr.slice(-2000)}`);
    const tracks = plan.tracks.map((t, i) => ({ trackName: t.trackName, bytes: bytes[i] ?? 0 }));
    const empty = tracks.filter((t) => t.bytes === 0);
    if (empty.length > 0) throw new Error(`no output on ${empty.map((t) => t.trackName).join(', ')}`);
    return {
      source: { file: path.basename(file), seconds: mediaSeconds, size: SIZE, rate: RATE, generateSeconds },
      ffmpeg,
      tracks,
      wallSeconds,
      speed: mediaSeconds / wallSeconds,
      ffmpegSpeed: last?.speed ?? null,
      frames: last?.frame ?? 0,
      warnings: [...plan.warnings, ...stderr.split('\n').filter(Boolean).slice(0, 5)],
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
