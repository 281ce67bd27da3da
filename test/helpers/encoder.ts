/** A real encoder: ffmpeg publishing lavfi test signals over RTMP, as an event's encoder would. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const FFMPEG = process.env.ECDN_TEST_FFMPEG ?? 'ffmpeg';
export const FFPROBE = process.env.ECDN_TEST_FFPROBE ?? 'ffprobe';

export interface Publisher {
  proc: ChildProcess;
  /** Resolves with ffmpeg's exit code and its stderr. */
  done: Promise<{ code: number | null; stderr: string }>;
  stop: () => Promise<{ code: number | null; stderr: string }>;
}

export interface PublishOptions {
  seconds?: number;
  size?: string;
  rate?: number;
  /** Key frame interval in frames. */
  gop?: number;
  /**
   * Times real time the encoder sends (ffmpeg's `-readrate`); 1, the default, is a live encoder. Tests that
   * are not about real time (an archive's contents) feed faster.
   */
  speed?: number;
  extraOutputArgs?: string[];
}

/** Publishes `testsrc2` + `sine` to `url` (the full ffmpeg-style URL: broadcast URL + `/` + stream name). */
export function publish(url: string, o: PublishOptions = {}): Publisher {
  const { seconds = 15, size = '640x360', rate = 30, gop = 2 * (o.rate ?? 30), speed = 1 } = o;
  const args = [
    '-hide_banner',
    '-loglevel',
    'warning',
    ...(speed === 1 ? ['-re'] : ['-readrate', String(speed)]),
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${size}:rate=${rate}`,
  ];
  args.push('-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', String(seconds));
  args.push(
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-tune',
    'zerolatency',
    '-g',
    String(gop),
    '-pix_fmt',
    'yuv420p',
  );
  args.push('-c:a', 'aac', '-b:a', '128k', ...(o.extraOutputArgs ?? []), '-f', 'flv', url);
  const proc = spawn(FFMPEG, args, { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<{ code: number | null; stderr: string }>((resolve) =>
    proc.once('exit', (code) => resolve({ code, stderr })),
  );
  return {
    proc,
    done,
    stop: async () => {
      if (proc.exitCode === null) proc.stdin?.end('q');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      const r = await done;
      clearTimeout(timer);
      return r;
    },
  };
}

/** The URL ffmpeg publishes to: broadcast URL, then `/`, then the stream name. */
export function ffmpegUrl(broadcastUrl: string, streamName: string): string {
  return `${broadcastUrl}/${streamName}`;
}

export interface ProbedStream {
  codec_type: string;
  codec_name: string;
  width?: number;
  height?: number;
  duration?: string;
}

/** ffprobe on init segment + fragment bytes (as a player would join them). */
export function probe(
  init: Buffer,
  fragment: Buffer,
): { streams: ProbedStream[]; format: { duration?: string } } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecdn-probe-'));
  const file = path.join(dir, 'f.mp4');
  fs.writeFileSync(file, Buffer.concat([init, fragment]));
  const r = spawnSync(FFPROBE, ['-v', 'error', '-show_streams', '-show_format', '-of', 'json', file], {
    encoding: 'utf8',
  });
  fs.rmSync(dir, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`ffprobe failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { streams: ProbedStream[]; format: { duration?: string } };
}

/** Frames ffprobe can decode in init + fragment. */
export function decodedFrames(init: Buffer, fragment: Buffer): number {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecdn-probe-'));
  const file = path.join(dir, 'f.mp4');
  fs.writeFileSync(file, Buffer.concat([init, fragment]));
  const r = spawnSync(
    FFPROBE,
    [
      '-v',
      'error',
      '-count_frames',
      '-select_streams',
      '0',
      '-show_entries',
      'stream=nb_read_frames',
      '-of',
      'csv=p=0',
      file,
    ],
    { encoding: 'utf8' },
  );
  fs.rmSync(dir, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`ffprobe failed: ${r.stderr}`);
  return Number(r.stdout.trim());
}
