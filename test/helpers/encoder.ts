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
  /**
   * `black`: a black picture and silence instead of `testsrc2` and `sine` (content detection). With `blackFrom` /
   * `blackUntil` (seconds), `testsrc2` + `sine` that are black and silent only between those times. `still`: a
   * grey picture that never changes, with the sine.
   */
  source?: 'testsrc' | 'black' | 'still';
  blackFrom?: number;
  blackUntil?: number;
  /** The container: FLV for RTMP (default), MPEG-TS for an `srt://` URL. */
  container?: 'flv' | 'mpegts';
}

/** The lavfi inputs (video, audio) of a publish. */
function sources(o: PublishOptions, size: string, rate: number): [string, string] {
  if (o.source === 'still')
    return [`color=gray:size=${size}:rate=${rate}`, 'sine=frequency=440:sample_rate=48000'];
  if (o.source !== 'black')
    return [`testsrc2=size=${size}:rate=${rate}`, 'sine=frequency=440:sample_rate=48000'];
  if (o.blackFrom === undefined && o.blackUntil === undefined)
    return [`color=black:size=${size}:rate=${rate}`, 'anullsrc=channel_layout=mono:sample_rate=48000'];
  const when = `enable='between(t,${o.blackFrom ?? 0},${o.blackUntil ?? 1e9})'`;
  return [
    `testsrc2=size=${size}:rate=${rate},lutyuv=y=16:u=128:v=128:${when}`,
    `sine=frequency=440:sample_rate=48000,volume=volume=0:${when}`,
  ];
}

/** Publishes `testsrc2` + `sine` (or black and silence: `source`) to `url` (broadcast URL + `/` + stream name). */
export function publish(url: string, o: PublishOptions = {}): Publisher {
  const { seconds = 15, size = '640x360', rate = 30, gop = 2 * (o.rate ?? 30), speed = 1 } = o;
  const [video, audio] = sources(o, size, rate);
  const args = [
    '-hide_banner',
    '-loglevel',
    'warning',
    ...(speed === 1 ? ['-re'] : ['-readrate', String(speed)]),
    '-f',
    'lavfi',
    '-i',
    video,
  ];
  args.push('-f', 'lavfi', '-i', audio, '-t', String(seconds));
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
  args.push('-c:a', 'aac', '-b:a', '128k', ...(o.extraOutputArgs ?? []), '-f', o.container ?? 'flv', url);
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
