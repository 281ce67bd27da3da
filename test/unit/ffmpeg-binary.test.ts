import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FfmpegNotFoundError,
  resolveFfmpeg,
  resolveFfprobe,
  type FfmpegResolution,
} from '../../main/transcode/ffmpeg-binary.js';

const MODULE = new URL('../../main/transcode/ffmpeg-binary.ts', import.meta.url).href;

let root = '';
/** A fake executable at `root/<rel>`. */
function executable(rel: string, mode = 0o755): string {
  const file = path.join(root, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, '#!/bin/sh\nexit 0\n', { mode });
  fs.chmodSync(file, mode);
  return file;
}

/** What ffmpeg-static yields in this process, if its binary is really there. */
function staticBinary(): string | undefined {
  const p: unknown = createRequire(import.meta.url)('ffmpeg-static');
  return typeof p === 'string' && fs.existsSync(p) ? p : undefined;
}

/** resolveFfmpeg in a fresh Node process, where ffmpeg-static reads our FFMPEG_BIN. */
function resolveInChild(
  ffmpegBin: string,
  env: NodeJS.ProcessEnv,
): FfmpegResolution | { error: string; code: string } {
  const code = `import(${JSON.stringify(MODULE)}).then((m) => {
    try { console.log(JSON.stringify(m.resolveFfmpeg(undefined, ${JSON.stringify(env)}))); }
    catch (e) { console.log(JSON.stringify({ error: e.message, code: e.code })); }
  });`;
  const run = spawnSync(process.execPath, ['--import', 'tsx', '-e', code], {
    cwd: process.cwd(),
    env: { ...process.env, FFMPEG_BIN: ffmpegBin },
    encoding: 'utf8',
  });
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as FfmpegResolution | { error: string; code: string };
}

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'ffmpeg-binary-'));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('resolveFfmpeg', () => {
  it('prefers the configured path, then FFMPEG_PATH', () => {
    const configured = executable('configured/ffmpeg');
    const fromEnv = executable('env/ffmpeg');
    const onPath = executable('bin/ffmpeg');
    const env = { FFMPEG_PATH: fromEnv, PATH: path.dirname(onPath) };
    expect(resolveFfmpeg(configured, env)).toEqual({ path: configured, source: 'configured' });
    expect(resolveFfmpeg(undefined, env)).toEqual({ path: fromEnv, source: 'FFMPEG_PATH' });
    expect(resolveFfmpeg('', env)).toEqual({ path: fromEnv, source: 'FFMPEG_PATH' });
  });

  it('refuses a configured path or FFMPEG_PATH that does not exist, rather than skipping it', () => {
    const onPath = executable('bin2/ffmpeg');
    const missing = path.join(root, 'nowhere/ffmpeg');
    const env = { PATH: path.dirname(onPath) };
    expect(() => resolveFfmpeg(missing, env)).toThrow(FfmpegNotFoundError);
    expect(() => resolveFfmpeg(missing, env)).toThrow(`configured ffmpeg path ${missing} does not exist`);
    expect(() => resolveFfmpeg(undefined, { ...env, FFMPEG_PATH: missing })).toThrow(
      `FFMPEG_PATH ${missing} does not exist`,
    );
    const notExecutable = executable('plain/ffmpeg', 0o644);
    expect(() => resolveFfmpeg(notExecutable, env)).toThrow(/is not an executable ffmpeg file/);
    try {
      resolveFfmpeg(missing, env);
    } catch (err) {
      expect((err as FfmpegNotFoundError).code).toBe('FFMPEG_NOT_FOUND');
    }
  });

  it('scans PATH in order, skipping directories without an executable ffmpeg', () => {
    const first = executable('p1/ffmpeg');
    executable('p2/ffmpeg');
    executable('p0/ffmpeg', 0o644);
    const env = {
      PATH: ['/nonexistent', path.join(root, 'p0'), path.dirname(first), path.join(root, 'p2')].join(
        path.delimiter,
      ),
    };
    const bundled = staticBinary();
    expect(resolveFfmpeg(undefined, env)).toEqual(
      bundled ? { path: bundled, source: 'ffmpeg-static' } : { path: first, source: 'PATH' },
    );
  });

  it("uses ffmpeg-static's binary before PATH only when that file exists", () => {
    const bundled = executable('static/ffmpeg');
    const onPath = executable('p3/ffmpeg');
    const env = { PATH: path.dirname(onPath) };
    expect(resolveInChild(bundled, env)).toEqual({ path: bundled, source: 'ffmpeg-static' });
    expect(resolveInChild(path.join(root, 'static/missing'), env)).toEqual({ path: onPath, source: 'PATH' });
  });

  it('names all four places when ffmpeg is nowhere', () => {
    const result = resolveInChild(path.join(root, 'static/missing'), { PATH: path.join(root, 'empty') });
    expect(result).toMatchObject({ code: 'FFMPEG_NOT_FOUND' });
    const message = (result as { error: string }).error;
    for (const place of ['configured path', 'FFMPEG_PATH', 'ffmpeg-static', 'PATH'])
      expect(message).toContain(place);
  });
});

describe('resolveFfprobe', () => {
  it('takes the ffprobe next to ffmpeg, then FFPROBE_PATH, then PATH', () => {
    const ffmpeg = executable('kit/ffmpeg');
    const sibling = executable('kit/ffprobe');
    const fromEnv = executable('probe-env/ffprobe');
    const onPath = executable('probe-bin/ffprobe');
    const env = { FFPROBE_PATH: fromEnv, PATH: path.dirname(onPath) };
    expect(resolveFfprobe(ffmpeg, env)).toBe(sibling);
    const lone = executable('lone/ffmpeg');
    expect(resolveFfprobe(lone, env)).toBe(fromEnv);
    expect(resolveFfprobe(lone, { PATH: env.PATH })).toBe(onPath);
  });

  it('fails clearly', () => {
    const lone = executable('lone2/ffmpeg');
    const missing = path.join(root, 'nowhere/ffprobe');
    expect(() => resolveFfprobe(lone, { FFPROBE_PATH: missing, PATH: '' })).toThrow(
      `FFPROBE_PATH ${missing} does not exist`,
    );
    expect(() => resolveFfprobe(lone, { PATH: path.join(root, 'empty') })).toThrow(FfmpegNotFoundError);
    expect(() => resolveFfprobe(lone, { PATH: path.join(root, 'empty') })).toThrow(
      /ffprobe not found: tried .*lone2/,
    );
  });
});
