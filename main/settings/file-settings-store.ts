/**
 * Headless settings: `settings.json` in the data directory, written atomically with mode 0600. There is no OS
 * keychain headless, so the partner secret and admin token are protected by the file's permissions only (the
 * desktop app keeps them encrypted with safeStorage instead).
 */
import fs from 'node:fs';
import path from 'node:path';
import { SETTING_KEYS } from '../contract/contract.js';
import type { SettingsStore, StoredSettings } from './settings-store.js';

export const SETTINGS_FILE = 'settings.json';

export class FileSettingsStore implements SettingsStore {
  readonly file: string;

  constructor(dataDir: string) {
    this.file = path.join(dataDir, SETTINGS_FILE);
  }

  load(): StoredSettings | undefined {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      throw new Error(`${this.file} is not valid JSON: fix or delete it`);
    }
    const out: StoredSettings = {};
    if (raw && typeof raw === 'object') {
      for (const k of SETTING_KEYS) {
        const v = (raw as Record<string, unknown>)[k];
        if (typeof v === 'string' || typeof v === 'number') out[k] = String(v);
      }
    }
    return out;
  }

  save(settings: StoredSettings): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
    fs.renameSync(tmp, this.file);
  }

  describe(): string {
    return `${this.file} (mode 0600; no OS keychain headless)`;
  }
}
