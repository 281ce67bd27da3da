import type { SettingsInput, SettingsView } from '@contract';
import { describeChanges } from './settings-draft.js';

/** What saving will change; fixed settings listed with where they come from. */
export function SettingsSummary({ input, current }: { input: SettingsInput; current: SettingsView }) {
  const lines = describeChanges(input, current);
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
