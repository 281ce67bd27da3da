import { SettingField } from './SettingField.js';
import type { SettingsGroupProps } from './settings-draft.js';

/** A new admin token (optional; at least 16 characters), typed twice. */
export function AdminTokenFields({ draft, set, current }: SettingsGroupProps) {
  return (
    <fieldset className="settings-group">
      <legend>Admin credentials</legend>
      <p className="muted small">
        Leave empty to keep the current admin token. Browsers and scripts on the admin port need the new one
        afterwards.
      </p>
      <SettingField
        label="New admin token"
        type="password"
        autoComplete="new-password"
        minLength={16}
        value={draft.adminToken}
        onChange={(v) => set({ adminToken: v })}
        fixedBy={current.fixed.adminToken}
        hint="At least 16 characters."
      />
      <SettingField
        label="Repeat the new admin token"
        type="password"
        autoComplete="new-password"
        value={draft.adminTokenRepeat}
        onChange={(v) => set({ adminTokenRepeat: v })}
        fixedBy={current.fixed.adminToken}
      />
    </fieldset>
  );
}
