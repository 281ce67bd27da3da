import { SettingField } from './SettingField.js';
import type { SettingsGroupProps } from './settings-draft.js';

/** A new admin token (optional; at least 16 characters), typed twice. */
export function AdminTokenFields({ draft, set, current, errors = {} }: SettingsGroupProps) {
  return (
    <fieldset className="settings-group">
      <legend>Admin credentials</legend>
      <p className="muted small">
        Leave empty to keep the current admin token. It applies at once, without a restart: this browser stays
        signed in with it; other browsers and scripts on the admin port need the new one.
      </p>
      <p className="muted small" data-testid="admin-token-source">
        The token in use now comes from {current.adminTokenSource}.
      </p>
      <SettingField
        label="New admin token"
        type="password"
        autoComplete="new-password"
        minLength={16}
        value={draft.adminToken}
        onChange={(v) => set({ adminToken: v })}
        fixedBy={current.fixed.adminToken}
        error={errors.adminToken}
        hint="At least 16 characters."
      />
      <SettingField
        label="Repeat the new admin token"
        type="password"
        autoComplete="new-password"
        value={draft.adminTokenRepeat}
        onChange={(v) => set({ adminTokenRepeat: v })}
        fixedBy={current.fixed.adminToken}
        error={errors.adminTokenRepeat}
      />
    </fieldset>
  );
}
