import { SettingField } from './SettingField.js';
import type { SettingsGroupProps } from './settings-draft.js';
import { WebhookTest } from './WebhookTest.js';

/** Where alerts go (applied at once, no restart); the signing secret stays in the environment. */
export function WebhookFields({ draft, set, current, errors = {} }: SettingsGroupProps) {
  return (
    <div className="settings-group">
      <SettingField
        label="Webhook URLs"
        type="text"
        inputMode="url"
        placeholder="https://alerts.example/ecdn, https://…"
        value={draft.webhookUrl}
        onChange={(v) => set({ webhookUrl: v })}
        fixedBy={current.fixed.webhookUrl}
        error={errors.webhookUrl}
        hint={
          current.hasWebhookSecret
            ? 'http(s) URLs, comma-separated; applied at once, no restart. Signed with ECDN_WEBHOOK_SECRET.'
            : 'http(s) URLs, comma-separated. Webhooks are signed: start the appliance with ECDN_WEBHOOK_SECRET set first (never stored here).'
        }
      />
      <WebhookTest />
    </div>
  );
}
