import { SettingField } from './SettingField.js';
import { urlsFor, type SettingsGroupProps } from './settings-draft.js';

/**
 * The address encoders and viewers use (`--public-host`), defaulting to the detected LAN address, and the URLs it
 * makes with the ports: where encoders publish, where viewers watch, where this dashboard answers.
 */
export function AddressFields({ draft, set, current, errors = {} }: SettingsGroupProps) {
  const urls = urlsFor(draft, current);
  return (
    <fieldset className="settings-group">
      <legend>Address</legend>
      <SettingField
        label="Address for encoders and viewers"
        value={draft.publicHost}
        placeholder={current.detectedPublicHost}
        onChange={(v) => set({ publicHost: v })}
        fixedBy={current.fixed.publicHost}
        error={errors.publicHost}
        hint={`A host name or address they reach this machine at (detected: ${current.detectedPublicHost}). Use a DNS name if it has one.`}
      />
      <dl className="url-preview" data-testid="url-preview">
        <dt>Encoders publish to</dt>
        <dd>
          <code>{urls.rtmp}</code>
        </dd>
        <dt>Viewers watch at</dt>
        <dd>
          <code>{urls.origin}</code>
        </dd>
        <dt>This dashboard</dt>
        <dd>
          <code>{urls.admin}</code>
        </dd>
      </dl>
    </fieldset>
  );
}
