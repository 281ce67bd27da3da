/**
 * The core runs headless (`npm run serve`, the tests), where Electron does not exist: no file under main/
 * outside main/electron/ may import or require 'electron' (or electron-store, which imports it).
 * The ESLint rule says the same for imports; this also catches require() and import(), and runs in CI.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** `from 'electron'`, `import 'electron'`, `import('electron')`, `require('electron')`, and electron/... or electron-store. */
const ELECTRON_IMPORT =
  /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|\bimport\s+)(['"`])(electron(?:\/[^'"`]*)?|electron-store)\1/;

function stripComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

function electronImport(source: string): string | undefined {
  return ELECTRON_IMPORT.exec(stripComments(source))?.[0];
}

function tsFiles(dir: string, skip: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return full === skip ? [] : tsFiles(full, skip);
    return /\.(c|m)?tsx?$/.test(e.name) && !e.name.endsWith('.d.ts') ? [full] : [];
  });
}

/** `file: import` for every TypeScript file under root/main/ (outside main/electron/) that imports electron. */
function offenders(root: string): { scanned: number; found: string[] } {
  const main = path.join(root, 'main');
  const files = tsFiles(main, path.join(main, 'electron'));
  const found = files.flatMap((f) => {
    const hit = electronImport(fs.readFileSync(f, 'utf8'));
    return hit ? [`${path.relative(root, f)}: ${hit}`] : [];
  });
  return { scanned: files.length, found };
}

describe('no electron in the core', () => {
  it('recognises every form of an electron import', () => {
    for (const line of [
      "import { app } from 'electron';",
      'import type { WebContents } from "electron";',
      "import 'electron';",
      "const { app } = require('electron');",
      "import electron = require('electron');",
      "const e = await import('electron');",
      "import { ipcRenderer } from 'electron/renderer';",
      "import Store from 'electron-store';",
    ])
      expect(electronImport(line), line).toBeDefined();
    for (const line of [
      "import { build } from 'electron-builder';",
      '// import { app } from "electron";',
      "/* require('electron') */",
      "const name = 'electron';",
      '/** The core has no `electron` import. */',
    ])
      expect(electronImport(line), line).toBeUndefined();
  });

  it('names the offending file, and leaves main/electron/ alone', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'no-electron-'));
    try {
      const write = (file: string, text: string) => {
        fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
        fs.writeFileSync(path.join(root, file), text);
      };
      write('main/core/fine.ts', "import fs from 'node:fs';\n");
      write('main/core/leaky.ts', "import { app } from 'electron';\n");
      write('main/electron/main.ts', "import { app } from 'electron';\n");
      expect(offenders(root)).toEqual({
        scanned: 2,
        found: [`${path.join('main', 'core', 'leaky.ts')}: from 'electron'`],
      });
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('finds no electron import under main/ outside main/electron/', () => {
    const { scanned, found } = offenders(ROOT);
    expect(scanned).toBeGreaterThan(20);
    expect(
      found,
      `the core must not import electron; move this to main/electron/:\n${found.join('\n')}`,
    ).toEqual([]);
  });
});
