import { SettingField } from './SettingField.js';
import type { SettingsGroupProps } from './settings-draft.js';

const PORTS = [
  { key: 'rtmpPort', label: 'RTMP port', hint: 'Encoders publish here (usually 1935).' },
  { key: 'httpPort', label: 'Origin (HTTP) port', hint: 'Viewers and caches fetch the streams here.' },
  { key: 'adminPort', label: 'Admin port', hint: 'This dashboard and the APIs.' },
] as const;

/** The three listeners' ports. */
export function PortFields({ draft, set, current, errors = {} }: SettingsGroupProps) {
  return (
    <fieldset className="settings-group">
      <legend>Ports</legend>
      {PORTS.map(({ key, label, hint }) => (
        <SettingField
          key={key}
          label={label}
          type="number"
          min={1}
          max={65535}
          value={draft[key]}
          onChange={(v) => set({ [key]: v })}
          fixedBy={current.fixed[key]}
          error={errors[key]}
          hint={hint}
        />
      ))}
    </fieldset>
  );
}
