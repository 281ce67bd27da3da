/**
 * Where the appliance's settings persist: a file in the data directory when headless, electron-store (with the
 * partner secret and admin token encrypted by the OS keychain through safeStorage) in the desktop app.
 * Settings fill in what flags and environment variables leave unset.
 */
import type { SettingKey } from '../contract/contract.js';

/** The stored settings: every key optional (unset = the option's default). Values as strings, like flags. */
export type StoredSettings = Partial<Record<SettingKey, string>>;

export interface SettingsStore {
  /** The stored settings, or undefined when none were ever saved (first run). */
  load(): StoredSettings | undefined;
  /** Replaces the stored settings. */
  save(settings: StoredSettings): void;
  /** Where they are kept, for the settings page (no secrets). */
  describe(): string;
}
