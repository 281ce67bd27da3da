/**
 * Where the origin's files live: `<dataDir>/origin/<pp path>/<track>/{init.mp4,<mediaTime>.m4s}`; a fragment that
 * does not start with a key frame (a low-latency part in the middle of a GOP) is `<mediaTime>.d.m4s` ("dependent"),
 * so the index knows which fragments a segment may start with from the file name it already holds.
 * Each transcoder run (an encoder's publish, a restarted ffmpeg, the slate) has its own init segment,
 * `init-<run start>.mp4` (the media time of the run's first fragment), and its fragments name it:
 * `i<run start>-<mediaTime>[.d].m4s`, so an init written by a later run never replaces the one earlier fragments need
 * (`init.mp4` is the newest run's, and the init of fragments written before runs had their own).
 * A publishing point's id is its directory path (`channel00`, or `events/hall/channel00`): every segment is a
 * safe name, every path is checked to stay inside the origin directory, and symlinks are never followed out.
 */
import fs from 'node:fs';
import path from 'node:path';
import { checkName, insideRoot, SAFE_NAME, UnsafePathError } from '../lib/safe-path.js';
import { FragmentCache } from './fragment-cache.js';

export { SAFE_NAME, UnsafePathError };

/** Before `.m4s` in the name of a fragment that does not start with a key frame. */
const DEPENDENT_SUFFIX = '.d';

/** Default memory for fragment bytes (`--fragment-cache`). */
export const DEFAULT_FRAGMENT_CACHE_MB = 64;

export class OriginStorage {
  readonly root: string;
  /** Recently written and served fragment bytes, shared by the ingest (writes) and the origin (reads). */
  readonly cache = new FragmentCache(DEFAULT_FRAGMENT_CACHE_MB * 1024 * 1024);

  constructor(dataDir: string) {
    this.root = path.resolve(dataDir, 'origin');
    fs.mkdirSync(this.root, { recursive: true });
  }

  ppDir(pp: string): string {
    return this.inside(...checkPpId(pp));
  }

  trackDir(pp: string, track: string): string {
    return this.inside(...checkPpId(pp), checkName(track));
  }

  /** Throws unless the publishing point's directory (if it exists) is a real directory inside the origin root. */
  assertNoSymlinks(pp: string): void {
    let dir = this.root;
    for (const segment of checkPpId(pp)) {
      dir = path.join(dir, segment);
      let st: fs.Stats;
      try {
        st = fs.lstatSync(dir);
      } catch {
        return;
      }
      if (st.isSymbolicLink())
        throw new UnsafePathError(`${path.relative(this.root, dir)} is a symbolic link`);
    }
  }

  initPath(pp: string, track: string): string {
    return path.join(this.trackDir(pp, track), 'init.mp4');
  }

  /** The init segment of the run that starts at `runStart` (media time of its first fragment). */
  runInitPath(pp: string, track: string, runStart: number): string {
    return path.join(this.trackDir(pp, track), runInitName(runStart));
  }

  /**
   * Relative file name of a fragment, as stored in the index; `independent`: it starts with a key frame;
   * `runStart`: the media time of its run's first fragment (its init segment is `init-<runStart>.mp4`).
   */
  fragmentFile(track: string, mediaTime: number, independent = true, runStart?: number): string {
    if (!Number.isSafeInteger(mediaTime) || mediaTime < 0)
      throw new UnsafePathError(`bad media time ${mediaTime}`);
    const run = runStart === undefined ? '' : `i${checkTime(runStart)}-`;
    return `${checkName(track)}/${run}${mediaTime}${independent ? '' : DEPENDENT_SUFFIX}.m4s`;
  }

  /** Absolute path of a file named in the index (relative to the publishing point's directory). */
  resolve(pp: string, file: string): string {
    const parts = file.split('/');
    if (
      parts.length !== 2 ||
      !SAFE_NAME.test(parts[0] ?? '') ||
      !/^((?:i\d+-)?\d+(?:\.d)?\.m4s|init(?:-\d+)?\.mp4)$/.test(parts[1] ?? '')
    ) {
      throw new UnsafePathError(`unsafe file name ${JSON.stringify(file)}`);
    }
    return this.inside(...checkPpId(pp), parts[0] as string, parts[1] as string);
  }

  private inside(...parts: string[]): string {
    return insideRoot(this.root, ...parts);
  }
}

/** Whether a fragment file (as named in the index) starts with a key frame. */
export function isIndependentFile(file: string): boolean {
  return !file.endsWith(`${DEPENDENT_SUFFIX}.m4s`);
}

/** The media time of the first fragment of a fragment's run, from its file name; undefined for older files. */
export function runStartOf(file: string): number | undefined {
  const m = /\/i(\d+)-[^/]*$/.exec(file);
  return m ? Number(m[1]) : undefined;
}

/** The init segment of a run, in its track's directory: `init-<run start>.mp4`. */
export function runInitName(runStart: number): string {
  return `init-${checkTime(runStart)}.mp4`;
}

/** The init segment a fragment (as named in the index) needs, in its track's directory. */
export function initNameOf(file: string): string {
  const runStart = runStartOf(file);
  return runStart === undefined ? 'init.mp4' : runInitName(runStart);
}

function checkTime(t: number): number {
  if (!Number.isSafeInteger(t) || t < 0) throw new UnsafePathError(`bad media time ${t}`);
  return t;
}

/** A publishing point id: 1 to 8 safe names joined by `/`. */
export function checkPpId(pp: string): string[] {
  const segments = pp.split('/');
  if (segments.length > 8)
    throw new UnsafePathError(`publishing point path ${JSON.stringify(pp)} is too deep`);
  return segments.map(checkName);
}
