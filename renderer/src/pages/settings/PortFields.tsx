import type { SettingsView } from '../../../../main/api/contract.js';
import { SettingField } from './SettingField.js';
import type { SetDraft, SettingsDraft } from './settings-draft.js';

/** The three listeners' ports. */
export function PortFields({
  draft,
  set,
  current,
}: {
  draft: SettingsDraft;
  set: SetDraft;
  current: SettingsView;
}) {
  return (
    <fieldset className="settings-group">
      <legend>Ports</legend>
      <SettingField
        label="RTMP port"
        type="number"
        min={1}
        max={65535}
        value={draft.rtmpPort}
        onChange={(v) => set({ rtmpPort: v })}
        fixedBy={current.fixed.rtmpPort}
        hint="Encoders publish here (usually 1935)."
      />
      <SettingField
        label="Origin (HTTP) port"
        type="number"
        min={1}
        max={65535}
        value={draft.httpPort}
        onChange={(v) => set({ httpPort: v })}
        fixedBy={current.fixed.httpPort}
        hint="Viewers and caches fetch the streams here."
      />
      <SettingField
        label="Admin port"
        type="number"
        min={1}
        max={65535}
        value={draft.adminPort}
        onChange={(v) => set({ adminPort: v })}
        fixedBy={current.fixed.adminPort}
        hint="This dashboard and the APIs."
      />
    </fieldset>
  );
}
