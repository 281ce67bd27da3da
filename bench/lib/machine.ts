/** What the figures were measured on. */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { FFMPEG as ENCODER_FFMPEG } from '../../test/helpers/encoder.js';
import { resolveFfmpeg } from '../../main/transcode/ffmpeg-binary.js';

export interface MachineInfo {
  date: string;
  os: string;
  cpuModel: string;
  cpuCount: number;
  totalMemoryMB: number;
  loadAverageAtStart: number[];
  node: string;
  /** The ffmpeg the appliance resolves (and the transcode-speed figure runs). */
  ffmpeg: { path: string; source: string; version: string };
  /** The ffmpeg that plays the encoder. */
  encoderFfmpeg: string;
}

export function ffmpegVersionLine(binary: string): string {
  const r = spawnSync(binary, ['-hide_banner', '-version'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${binary} -version failed: ${r.error?.message ?? r.stderr}`);
  return r.stdout.split('\n')[0]?.trim() ?? '';
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  const ffmpeg = resolveFfmpeg();
  return {
    date: new Date().toISOString(),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpuCount: cpus.length,
    totalMemoryMB: Math.round(os.totalmem() / 2 ** 20),
    loadAverageAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
    node: process.version,
    ffmpeg: { path: ffmpeg.path, source: ffmpeg.source, version: ffmpegVersionLine(ffmpeg.path) },
    encoderFfmpeg: ENCODER_FFMPEG,
  };
}
