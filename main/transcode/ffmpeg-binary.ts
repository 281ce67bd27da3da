/**
 * Which ffmpeg (and ffprobe) the appliance runs. Order: the configured path, `FFMPEG_PATH`,
 * ffmpeg-static's bundled binary (only when the file is really there), then `ffmpeg` on `PATH`.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export interface FfmpegResolution {
  path: string;
  source: 'configured' | 'FFMPEG_PATH' | 'ffmpeg-static' | 'PATH';
}

/** No usable ffmpeg (or ffprobe) binary. */
export class FfmpegNotFoundError extends Error {
  readonly code = 'FFMPEG_NOT_FOUND';
  constructor(message: string) {
    super(message);
    this.name = 'FfmpegNotFoundError';
  }
}

const isWindows = process.platform === 'win32';

/** An existing regular file we may execute. */
function isExecutable(file: string): boolean {
  try {
    if (!fs.statSync(file).isFile()) return false;
    if (!isWindows) fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** An explicitly named binary must exist: say so instead of silently trying the next place. */
function explicit(file: string, what: string, tool: string): string {
  const full = path.resolve(file);
  if (!fs.existsSync(full)) throw new FfmpegNotFoundError(`${what} ${full} does not exist`);
  if (!isExecutable(full)) throw new FfmpegNotFoundError(`${what} ${full} is not an executable ${tool} file`);
  return full;
}

/** `name` in the directories of `PATH` (with Windows' PATHEXT extensions), without shelling out. */
function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  const dirs = (env.PATH ?? env.Path ?? '').split(path.delimiter).filter(Boolean);
  const exts = isWindows ? (env.PATHEXT ?? '.EXE;.CMD;.BAT;.COM').split(';').concat('') : [''];
  for (const dir of dirs) {
    for (const ext of exts) {
      const candidate = path.resolve(dir, name + ext);
      if (isExecutable(candidate)) return candidate;
    }
  }
  return undefined;
}

/** ffmpeg-static's binary path: it may be null (unsupported platform) or not downloaded. */
function ffmpegStatic(): string | undefined {
  try {
    const p: unknown = createRequire(import.meta.url)('ffmpeg-static');
    return typeof p === 'string' && isExecutable(p) ? p : undefined;
  } catch {
    return undefined;
  }
}

/** Find ffmpeg: the configured path, `FFMPEG_PATH`, ffmpeg-static, then `PATH`. */
export function resolveFfmpeg(configured?: string, env: NodeJS.ProcessEnv = process.env): FfmpegResolution {
  if (configured)
    return { path: explicit(configured, 'configured ffmpeg path', 'ffmpeg'), source: 'configured' };
  if (env.FFMPEG_PATH)
    return { path: explicit(env.FFMPEG_PATH, 'FFMPEG_PATH', 'ffmpeg'), source: 'FFMPEG_PATH' };
  const bundled = ffmpegStatic();
  if (bundled) return { path: bundled, source: 'ffmpeg-static' };
  const found = onPath('ffmpeg', env);
  if (found) return { path: found, source: 'PATH' };
  throw new FfmpegNotFoundError(
    'ffmpeg not found: tried the configured path (none set), FFMPEG_PATH (not set), ' +
      "ffmpeg-static's binary (not present) and 'ffmpeg' on PATH (not found). " +
      'Install ffmpeg or point FFMPEG_PATH at it.',
  );
}

/** Find ffprobe: next to the ffmpeg binary, else `FFPROBE_PATH`, else `ffprobe` on `PATH`. */
export function resolveFfprobe(ffmpegPath: string, env: NodeJS.ProcessEnv = process.env): string {
  const ext = path.extname(ffmpegPath).toLowerCase() === '.exe' ? '.exe' : '';
  const sibling = path.join(path.dirname(path.resolve(ffmpegPath)), `ffprobe${ext}`);
  if (isExecutable(sibling)) return sibling;
  if (env.FFPROBE_PATH) return explicit(env.FFPROBE_PATH, 'FFPROBE_PATH', 'ffprobe');
  const found = onPath('ffprobe', env);
  if (found) return found;
  throw new FfmpegNotFoundError(
    `ffprobe not found: tried ${sibling} (next to ffmpeg), FFPROBE_PATH (not set) and 'ffprobe' on PATH (not found)`,
  );
}
