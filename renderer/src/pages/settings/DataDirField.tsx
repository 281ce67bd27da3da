import { SettingField } from './SettingField.js';
import type { SettingsGroupProps } from './settings-draft.js';

/** Where the database, fragments and settings live. */
export function DataDirField({ draft, set, current, errors = {} }: SettingsGroupProps) {
  return (
    <fieldset className="settings-group">
      <legend>Data directory</legend>
      <SettingField
        label="Data directory"
        value={draft.dataDir}
        onChange={(v) => set({ dataDir: v })}
        fixedBy={current.fixed.dataDir}
        error={errors.dataDir}
        hint="The database, the archive’s fragments and the settings file. Needs room for the archive."
      />
      <p className="muted small">Settings are kept in: {current.storage}</p>
    </fieldset>
  );
}
