/**
 * The application's root directory (where package.json, resources/ and renderer/dist are), found by walking up
 * from this module: the same from the sources (main/core) as from the build (dist/main/core) or an asar.
 */
import fs from 'node:fs';
import path from 'node:path';

let cached: string | undefined;

export function appRoot(): string {
  if (cached) return cached;
  let dir = import.meta.dirname;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return (cached = dir);
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${import.meta.dirname}`);
    dir = up;
  }
}

export const APP_VERSION: string = (
  JSON.parse(fs.readFileSync(path.join(appRoot(), 'package.json'), 'utf8')) as { version: string }
).version;
