import { useId } from 'react';
import { SettingField } from './SettingField.js';
import type { SettingsGroupProps } from './settings-draft.js';
import { TestConnection } from './TestConnection.js';

/** Standalone, or eCDN bound to a Kaltura partner (service URL, partner id and secret, tested). */
export function ModeFields({ draft, set, current, errors = {} }: SettingsGroupProps) {
  const id = useId();
  const fixed = current.fixed;
  return (
    <div className="settings-group">
      <fieldset disabled={fixed.mode !== undefined}>
        <legend>Mode</legend>
        <label className="radio">
          <input
            type="radio"
            name={`${id}-mode`}
            checked={draft.mode === 'standalone'}
            onChange={() => set({ mode: 'standalone', partnerId: String(current.partnerId) })}
          />
          Standalone: channels are created here
        </label>
        <label className="radio">
          <input
            type="radio"
            name={`${id}-mode`}
            checked={draft.mode === 'ecdn'}
            onChange={() => set({ mode: 'ecdn', partnerId: String(current.partnerId) })}
          />
          eCDN: bound to a Kaltura partner, every publish checked by its service
        </label>
        {fixed.mode ? <p className="muted small">Fixed by {fixed.mode}; change it there.</p> : null}
      </fieldset>
      {draft.mode === 'ecdn' ? (
        <>
          <SettingField
            label="Service URL"
            type="url"
            placeholder="https://www.kaltura.com"
            value={draft.serviceUrl}
            onChange={(v) => set({ serviceUrl: v })}
            fixedBy={fixed.serviceUrl}
            error={errors.serviceUrl}
          />
          <SettingField
            label="Partner id"
            type="number"
            value={draft.partnerId}
            onChange={(v) => set({ partnerId: v })}
            fixedBy={fixed.partnerId}
            error={errors.partnerId}
          />
          <SettingField
            label="Partner secret"
            type="password"
            autoComplete="off"
            value={draft.partnerSecret}
            onChange={(v) => set({ partnerSecret: v })}
            fixedBy={fixed.partnerSecret}
            error={errors.partnerSecret}
            hint={
              current.hasPartnerSecret
                ? 'A secret is stored; leave empty to keep it.'
                : 'The partner’s admin secret (KMC → Settings → Integration Settings).'
            }
          />
          <SettingField
            label="Server node name"
            value={draft.serverNodeName}
            onChange={(v) => set({ serverNodeName: v })}
            fixedBy={fixed.serverNodeName}
            error={errors.serverNodeName}
            hint="This appliance’s media server node at Kaltura (sent with every publish); the appliance creates it when the partner has server nodes, else create a Wowza media server node of this host name in Kaltura’s admin console."
          />
          <TestConnection
            serviceUrl={draft.serviceUrl}
            partnerId={draft.partnerId}
            partnerSecret={draft.partnerSecret}
          />
        </>
      ) : (
        <SettingField
          label="Partner id"
          type="number"
          value={draft.partnerId}
          onChange={(v) => set({ partnerId: v })}
          fixedBy={fixed.partnerId}
          error={errors.partnerId}
          hint="The p of broadcast URLs for local channels."
        />
      )}
    </div>
  );
}
