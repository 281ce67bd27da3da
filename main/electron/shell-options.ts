/**
 * What the desktop shell feeds the host: the appliance's own flags out of Electron's command line, the
 * shell's defaults (data directory under userData, the bundled ffmpeg of a packaged app), and where the
 * preload, the renderer and the icons are.
 */
import path from 'node:path';
import { OPTION_SPECS } from '../app/options.js';

const KNOWN_FLAGS = new Set(OPTION_SPECS.map((s) => s.flag).filter((f) => f !== ''));

/**
 * The appliance's flags (`--http-port 8090`, `--http-port=8090`) from Electron's argv; everything else
 * (the executable, the app path, Chromium switches) is left out, since the host parses its flags strictly.
 */
export function applianceArgs(argv: readonly string[]): { args: string[]; ignored: string[] } {
  const args: string[] = [];
  const ignored: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const eq = a.indexOf('=');
    const flag = eq > 0 ? a.slice(0, eq) : a;
    if (!KNOWN_FLAGS.has(flag)) {
      ignored.push(a);
    } else if (eq > 0) {
      args.push(a);
    } else if (i + 1 < argv.length) {
      args.push(a, argv[++i] as string);
    } else {
      ignored.push(a);
    }
  }
  return { args, ignored };
}

/** Where electron-builder puts the bundled ffmpeg (extraResources: ffmpeg-static's binary). */
export function bundledFfmpegPath(resourcesPath: string, platform: NodeJS.Platform): string {
  return path.join(resourcesPath, platform === 'win32' ? 'ffmpeg.exe' : 'ffmpeg');
}

export interface ShellDefaultsInput {
  isPackaged: boolean;
  /** process.resourcesPath */
  resourcesPath: string;
  /** app.getPath('userData') */
  userData: string;
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
  exists(file: string): boolean;
}

/**
 * The desktop app's defaults, below flags, environment and stored settings: the data directory in userData;
 * in a packaged app, the bundled ffmpeg (unless FFMPEG_PATH names one: the documented order keeps it first).
 */
export function shellDefaults(o: ShellDefaultsInput): Record<string, string> {
  const out: Record<string, string> = { dataDir: path.join(o.userData, 'data') };
  if (o.isPackaged && !o.env.FFMPEG_PATH) {
    const ffmpeg = bundledFfmpegPath(o.resourcesPath, o.platform);
    if (o.exists(ffmpeg)) out.ffmpeg = ffmpeg;
  }
  return out;
}

export interface ShellPaths {
  /** The compiled preload (tsconfig.build.json: preload/preload.cts -> dist/preload/preload.cjs). */
  preload: string;
  /** The dashboard (vite: renderer/ -> renderer/dist/). */
  indexHtml: string;
  appIcon: string;
  trayIcons: { idle: string; live: string };
}

/** Paths under the application root (the directory of package.json; inside app.asar when packaged). */
export function shellPaths(root: string): ShellPaths {
  const icons = path.join(root, 'resources', 'icons');
  return {
    preload: path.join(root, 'dist', 'preload', 'preload.cjs'),
    indexHtml: path.join(root, 'renderer', 'dist', 'index.html'),
    appIcon: path.join(icons, 'app.png'),
    trayIcons: { idle: path.join(icons, 'tray-idle.png'), live: path.join(icons, 'tray-live.png') },
  };
}
