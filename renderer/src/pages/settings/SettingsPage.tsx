import { useEffect, useState, type FormEvent } from 'react';
import type { SettingsApply } from '@contract';
import { useResource } from '../../api/hooks.js';
import { ConfirmDialog } from '../../components/ConfirmDialog.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { Progress } from '../../components/Progress.js';
import { AddressFields } from './AddressFields.js';
import { AdminTokenFields } from './AdminTokenFields.js';
import { DataDirField } from './DataDirField.js';
import { ModeFields } from './ModeFields.js';
import { PortFields } from './PortFields.js';
import {
  draftFrom,
  fieldProblems,
  inputFrom,
  problemsAfter,
  type FieldProblems,
  type SettingsDraft,
} from './settings-draft.js';
import { SettingsSummary } from './SettingsSummary.js';
import { useSaveSettings } from './useSaveSettings.js';
import { SlateImage } from './SlateImage.js';
import { WebhookFields } from './WebhookFields.js';

/**
 * Every setting on one page; flags' settings disabled with their reason. The admin token and webhook URLs apply
 * at once; other changes restart the core, and while a channel is live the page asks first (save for later, or
 * interrupt and save), naming how many channels and viewers would be cut.
 */
export function SettingsPage({
  onSaved,
  onRestarting,
}: {
  onSaved: () => void;
  onRestarting: (adminUrl: string | null) => void;
}) {
  const settings = useResource('settings.get', undefined, 'settings');
  const [draft, setDraft] = useState<SettingsDraft | null>(null);
  const [errors, setErrors] = useState<FieldProblems>({});
  const [note, setNote] = useState<string | null>(null);
  const save = useSaveSettings(onRestarting);
  useEffect(() => {
    if (settings.data) setDraft(draftFrom(settings.data));
  }, [settings.data]);

  const current = settings.data;
  if (!current || !draft)
    return (
      <div className="page">
        <h1>Settings</h1>
        <Progress text={settings.loading ? 'Loading the settings…' : null} />
        <ErrorAlert error={settings.error} action="Could not load the settings" />
      </div>
    );
  const set = (patch: Partial<SettingsDraft>) => {
    setDraft((d) => (d ? { ...d, ...patch } : d));
    setErrors((e) => problemsAfter(e, patch));
  };
  const { input } = inputFrom(draft, current);
  const store = async (apply?: SettingsApply) => {
    setNote(null);
    const found = fieldProblems(draft, current);
    setErrors(found);
    if (Object.keys(found).length) return;
    const r = await save.run(input, apply);
    if (!r) return;
    setDraft(draftFrom(r.settings));
    setNote(
      r.restarting
        ? 'Saved. The appliance is restarting to apply them.'
        : [
            r.applied?.length ? 'Saved and applied at once, no restart needed.' : 'Saved.',
            r.restartRequired ? 'The other changes apply the next time the appliance restarts.' : '',
          ]
            .filter(Boolean)
            .join(' '),
    );
    onSaved();
    settings.reload();
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void store();
  };
  const groupProps = { draft, set, current, errors };
  return (
    <form className="page settings-page" onSubmit={submit} noValidate>
      <h1>Settings</h1>
      <div className="grid-2">
        <section className="card" aria-label="Mode and partner">
          <ModeFields {...groupProps} />
        </section>
        <section className="card" aria-label="Ports and address">
          <PortFields {...groupProps} />
          <AddressFields {...groupProps} />
        </section>
        <section className="card" aria-label="Data directory">
          <DataDirField {...groupProps} />
        </section>
        <section className="card" aria-label="Admin credentials">
          <AdminTokenFields {...groupProps} />
        </section>
        <section className="card" aria-label="Alert webhooks">
          <WebhookFields {...groupProps} />
        </section>
        <section className="card" aria-label="Slate">
          <SlateImage />
        </section>
      </div>
      <section className="card" aria-labelledby="settings-summary-h">
        <h2 id="settings-summary-h">Changes</h2>
        <SettingsSummary input={input} current={current} />
        <button type="submit" className="primary" disabled={save.busy}>
          Save settings
        </button>
        <Progress text={save.busy ? 'Saving the settings…' : null} />
        {note ? (
          <p className="success" role="status" data-testid="settings-note">
            {note}
          </p>
        ) : null}
        <ErrorAlert
          error={Object.keys(errors).length ? 'See the fields marked above.' : null}
          action="Check the settings"
        />
        <ErrorAlert error={save.liveRefusal ? null : save.error} action="Could not save the settings" />
      </section>
      <ConfirmDialog
        open={save.liveRefusal !== null}
        title="Channels are live: restart now?"
        confirmLabel="Interrupt and save"
        cancelLabel="Keep editing"
        secondary={{ label: 'Save, apply later', onClick: () => void store('later') }}
        onCancel={save.reset}
        onConfirm={() => void store('now')}
      >
        <p data-testid="live-refusal">{save.liveRefusal}</p>
        <p>
          Interrupting disconnects their encoders; viewers lose the stream until the encoders publish again
          (each channel’s events say it stopped because the settings were saved). “Save, apply later” keeps
          them live and applies the changes the next time the appliance restarts.
        </p>
      </ConfirmDialog>
    </form>
  );
}
