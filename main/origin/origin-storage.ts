/**
 * Where the origin's files live: `<dataDir>/origin/<pp path>/<track>/{init.mp4,<mediaTime>.m4s}`; a fragment that
 * does not start with a key frame (a low-latency part in the middle of a GOP) is `<mediaTime>.d.m4s` ("dependent"),
 * so the index knows which fragments a segment may start with from the file name it already holds.
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

  /** Relative file name of a fragment, as stored in the index; `independent`: it starts with a key frame. */
  fragmentFile(track: string, mediaTime: number, independent = true): string {
    if (!Number.isSafeInteger(mediaTime) || mediaTime < 0)
      throw new UnsafePathError(`bad media time ${mediaTime}`);
    return `${checkName(track)}/${mediaTime}${independent ? '' : DEPENDENT_SUFFIX}.m4s`;
  }

  /** Absolute path of a file named in the index (relative to the publishing point's directory). */
  resolve(pp: string, file: string): string {
    const parts = file.split('/');
    if (
      parts.length !== 2 ||
      !SAFE_NAME.test(parts[0] ?? '') ||
      !/^(\d+(?:\.d)?\.m4s|init\.mp4)$/.test(parts[1] ?? '')
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

/** A publishing point id: 1 to 8 safe names joined by `/`. */
export function checkPpId(pp: string): string[] {
  const segments = pp.split('/');
  if (segments.length > 8)
    throw new UnsafePathError(`publishing point path ${JSON.stringify(pp)} is too deep`);
  return segments.map(checkName);
}
