/** Names and paths that cannot leave a root directory: one rule for publishing points, tracks, spaces and items. */
import path from 'node:path';

/** Letters, digits, `_` and `-`, at most 128 characters. */
export const SAFE_NAME = /^[A-Za-z0-9_-]{1,128}$/;

export class UnsafePathError extends Error {
  readonly code = 'UNSAFE_PATH';
}

/** The name, or an {@link UnsafePathError}. */
export function checkName(name: string): string {
  if (!SAFE_NAME.test(name)) throw new UnsafePathError(`unsafe name ${JSON.stringify(name)}`);
  return name;
}

/** `root` joined with `parts`, or an {@link UnsafePathError} when the result would leave `root`. */
export function insideRoot(root: string, ...parts: string[]): string {
  const p = path.resolve(root, ...parts);
  if (p !== root && !p.startsWith(root + path.sep))
    throw new UnsafePathError('path leaves the data directory');
  return p;
}
