import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadOptions } from '../../main/app/options.js';
import {
  applianceArgs,
  bundledFfmpegPath,
  shellDefaults,
  shellPaths,
} from '../../main/electron/shell-options.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');

describe('applianceArgs', () => {
  it('keeps the appliance’s flags and leaves out Electron’s and Chromium’s', () => {
    const { args, ignored } = applianceArgs([
      '/opt/eCDN Appliance/ecdn-appliance',
      '.',
      '--no-sandbox',
      '--http-port',
      '9000',
      '--inspect=5858',
      '--data-dir=/srv/ecdn',
      '--enable-logging',
      '--partner-secret',
      '--rtmp-port',
    ]);
    expect(args).toEqual(['--http-port', '9000', '--data-dir=/srv/ecdn']);
    expect(ignored).toContain('--no-sandbox');
    // Secrets have no flag; a flag without its value is left out rather than failing the start.
    expect(ignored).toContain('--partner-secret');
    expect(ignored).toContain('--rtmp-port');
    expect(() => loadOptions(args, {})).not.toThrow();
  });
});

describe('shellDefaults', () => {
  const base = {
    resourcesPath: '/opt/eCDN Appliance/resources',
    userData: '/home/u/.config/eCDN Appliance',
    platform: 'linux' as NodeJS.Platform,
    env: {},
    exists: () => true,
  };

  it('puts the data directory under userData', () => {
    expect(shellDefaults({ ...base, isPackaged: false })).toEqual({
      dataDir: path.join(base.userData, 'data'),
    });
  });

  it('passes the bundled ffmpeg when packaged', () => {
    expect(shellDefaults({ ...base, isPackaged: true }).ffmpeg).toBe(path.join(base.resourcesPath, 'ffmpeg'));
    expect(bundledFfmpegPath('C:\\eCDN\\resources', 'win32')).toMatch(/ffmpeg\.exe$/);
  });

  it('leaves ffmpeg to FFMPEG_PATH when set, and to the usual search when the binary is missing', () => {
    expect(
      shellDefaults({ ...base, isPackaged: true, env: { FFMPEG_PATH: '/usr/bin/ffmpeg' } }).ffmpeg,
    ).toBeUndefined();
    expect(shellDefaults({ ...base, isPackaged: true, exists: () => false }).ffmpeg).toBeUndefined();
  });

  it('sits below flags and environment in the options', () => {
    const defaults = shellDefaults({ ...base, isPackaged: true });
    const o = loadOptions([], {}, { shellDefaults: defaults });
    expect(o.dataDir).toBe(path.join(base.userData, 'data'));
    expect(o.ffmpeg).toBe(path.join(base.resourcesPath, 'ffmpeg'));
    expect(loadOptions(['--data-dir', '/srv/x'], {}, { shellDefaults: defaults }).dataDir).toBe(
      path.resolve('/srv/x'),
    );
  });
});

/** Width and height from a PNG's IHDR. */
function pngSize(file: string): [number, number] {
  const b = fs.readFileSync(path.join(ROOT, file));
  expect(b.subarray(1, 4).toString()).toBe('PNG');
  return [b.readUInt32BE(16), b.readUInt32BE(20)];
}

describe('build paths agree', () => {
  const paths = shellPaths(ROOT);

  it('the preload path is where tsconfig.build.json compiles preload/preload.cts', () => {
    const build = JSON.parse(read('tsconfig.build.json')) as {
      extends: string;
      include: string[];
      compilerOptions?: { outDir?: string; rootDir?: string };
    };
    const base = JSON.parse(read(build.extends)) as { compilerOptions: { outDir: string; rootDir: string } };
    const outDir = build.compilerOptions?.outDir ?? base.compilerOptions.outDir;
    const rootDir = build.compilerOptions?.rootDir ?? base.compilerOptions.rootDir;
    expect(build.include).toContain('preload');
    const compiled = path
      .join(ROOT, outDir, path.relative(path.join(ROOT, rootDir), 'preload/preload.cts'))
      .replace(/\.cts$/, '.cjs');
    expect(paths.preload).toBe(compiled);
    // package.json's main is the compiled main/electron/main.ts
    const pkg = JSON.parse(read('package.json')) as { main: string };
    expect(path.join(ROOT, pkg.main)).toBe(path.join(ROOT, outDir, 'main/electron/main.js'));
  });

  it('the renderer path is vite’s output', () => {
    const vite = read('renderer/vite.config.ts');
    expect(vite).toMatch(/root: 'renderer'/);
    expect(vite).toMatch(/outDir: 'dist'/);
    expect(paths.indexHtml).toBe(path.join(ROOT, 'renderer/dist/index.html'));
  });

  it('electron-builder packs those paths, unpacks better-sqlite3 and ships ffmpeg as a resource', () => {
    const yml = read('electron-builder.yml');
    for (const pattern of [
      'dist/main/**',
      'dist/preload/**',
      'renderer/dist/**',
      'resources/**',
      'package.json',
    ])
      expect(yml).toContain(`  - ${pattern}\n`);
    expect(yml).toMatch(/asarUnpack:\n {2}- node_modules\/better-sqlite3\/\*\*/);
    expect(yml).toMatch(/npmRebuild: true/);
    expect(yml).toMatch(
      /extraResources:\n {2}- from: node_modules\/ffmpeg-static\n {4}to: \.\n {4}filter:\n {6}- ffmpeg\n {6}- ffmpeg\.exe/,
    );
    expect(yml).toMatch(/target: \[AppImage, deb\]/);
    expect(yml).toMatch(/target: \[nsis\]/);
    expect(yml).toMatch(/target: \[dmg\]/);
  });

  it('the icons exist with the sizes packaging and the tray need', () => {
    expect(pngSize('build/icon.png')).toEqual([512, 512]);
    expect(pngSize(path.relative(ROOT, paths.appIcon))).toEqual([256, 256]);
    for (const icon of [paths.trayIcons.idle, paths.trayIcons.live]) {
      expect(pngSize(path.relative(ROOT, icon))).toEqual([16, 16]);
      expect(pngSize(path.relative(ROOT, icon).replace(/\.png$/, '@2x.png'))).toEqual([32, 32]);
    }
  });

  it('the npm scripts switch native modules: Electron before start and dist, Node before test and serve', () => {
    const { scripts } = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    expect(scripts.prestart).toBe('node scripts/native-modules.mjs electron');
    expect(scripts.predist).toBe('node scripts/native-modules.mjs electron');
    expect(scripts['pretest:unit']).toBe('node scripts/native-modules.mjs node');
    expect(scripts['pretest:e2e']).toBe('node scripts/native-modules.mjs node');
    expect(scripts.preserve).toBe('node scripts/native-modules.mjs node');
  });
});

describe('electron-builder.yml', () => {
  it('matches the schema of the installed electron-builder', async () => {
    // app-builder-lib and js-yaml come with electron-builder; resolve them from there, not from the root.
    const { createRequire } = await import('node:module');
    const fromBuilder = createRequire(
      createRequire(path.join(ROOT, 'package.json')).resolve('electron-builder'),
    );
    const fromLib = createRequire(fromBuilder.resolve('app-builder-lib'));
    const { validateConfiguration } = fromBuilder('app-builder-lib/out/util/config/config.js') as {
      validateConfiguration(config: unknown, debug: unknown): Promise<void>;
    };
    const { DebugLogger } = fromLib('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };
    const yaml = fromLib('js-yaml') as { load(text: string): unknown };
    await expect(
      validateConfiguration(yaml.load(read('electron-builder.yml')), new DebugLogger(false)),
    ).resolves.toBeUndefined();
    await expect(validateConfiguration({ bogusKey: 1 }, new DebugLogger(false))).rejects.toThrow(/bogusKey/);
    // The hardening fuses are set (runAsNode stays on for the forked ingest child).
    const config = yaml.load(read('electron-builder.yml')) as { electronFuses?: Record<string, boolean> };
    expect(config.electronFuses).toMatchObject({
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      enableCookieEncryption: true,
      runAsNode: true,
    });
  });
});
