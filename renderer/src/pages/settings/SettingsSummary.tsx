import { LIVE_SETTING_KEYS, type SettingKey, type SettingsInput, type SettingsView } from '@contract';
import { describeChanges } from './settings-draft.js';

/**
 * What saving will change, and whether the appliance restarts for it (the admin token and webhook URLs apply at
 * once); fixed settings listed with where they come from.
 */
export function SettingsSummary({ input, current }: { input: SettingsInput; current: SettingsView }) {
  const lines = describeChanges(input, current);
  const changed = (Object.keys(input) as SettingKey[]).filter((k) => {
    const before = (current as unknown as Record<string, unknown>)[k];
    return k === 'adminToken' || k === 'partnerSecret' || before !== input[k];
  });
  const restarts = changed.some((k) => !LIVE_SETTING_KEYS.includes(k));
  const fixed = Object.entries(current.fixed);
  return (
    <div className="summary" data-testid="settings-summary">
      {lines.length ? (
        <ul>
          {lines.map((l) => (
            <li key={l}>{l}</li>
          ))}
        </ul>
      ) : (
        <p>Nothing changes: the current settings are kept.</p>
      )}
      {changed.length ? (
        <p className="muted small" data-testid="restart-needed">
          {restarts
            ? 'Saving restarts the appliance: encoders and viewers are disconnected for a few seconds.'
            : 'These apply at once, without a restart.'}
        </p>
      ) : null}
      {fixed.length ? (
        <>
          <p className="muted small">Fixed, not changed here:</p>
          <ul className="muted small">
            {fixed.map(([k, by]) => (
              <li key={k}>
                {k}: fixed by {by}
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </div>
  );
}
