import { useEffect, useState, type FormEvent } from 'react';
import { useResource } from '../../api/hooks.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { Progress } from '../../components/Progress.js';
import { AdminTokenFields } from './AdminTokenFields.js';
import { DataDirField } from './DataDirField.js';
import { ModeFields } from './ModeFields.js';
import { PortFields } from './PortFields.js';
import { draftFrom, inputFrom, type SettingsDraft } from './settings-draft.js';
import { SettingsSummary } from './SettingsSummary.js';
import { useSaveSettings } from './useSaveSettings.js';
import { WebhookTest } from './WebhookTest.js';

/** Every setting on one page; flags' settings disabled with their reason; saving may restart the core. */
export function SettingsPage({
  onSaved,
  onRestarting,
}: {
  onSaved: () => void;
  onRestarting: (adminUrl: string | null) => void;
}) {
  const settings = useResource('settings.get', undefined, 'settings');
  const [draft, setDraft] = useState<SettingsDraft | null>(null);
  const [problems, setProblems] = useState<string[]>([]);
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
  const set = (patch: Partial<SettingsDraft>) => setDraft((d) => (d ? { ...d, ...patch } : d));
  const { input, problems: found } = inputFrom(draft, current);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setNote(null);
    setProblems(found);
    if (found.length) return;
    const r = await save.run(input);
    if (!r) return;
    setDraft(draftFrom(r.settings));
    setNote(
      r.restarting
        ? 'Saved. The appliance is restarting to apply them.'
        : r.restartRequired
          ? 'Saved. Some changes apply after the appliance is restarted.'
          : 'Saved.',
    );
    onSaved();
    settings.reload();
  };
  return (
    <form className="page settings-page" onSubmit={submit}>
      <h1>Settings</h1>
      <div className="grid-2">
        <section className="card" aria-label="Mode and partner">
          <ModeFields draft={draft} set={set} current={current} />
        </section>
        <section className="card" aria-label="Ports">
          <PortFields draft={draft} set={set} current={current} />
        </section>
        <section className="card" aria-label="Data directory">
          <DataDirField draft={draft} set={set} current={current} />
        </section>
        <section className="card" aria-label="Admin credentials">
          <AdminTokenFields draft={draft} set={set} current={current} />
        </section>
        <section className="card" aria-label="Alert webhooks">
          <WebhookTest />
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
          <p className="success" role="status">
            {note}
          </p>
        ) : null}
        <ErrorAlert error={problems.length ? problems.join(' ') : null} action="Check the settings" />
        <ErrorAlert error={save.error} action="Could not save the settings" />
      </section>
    </form>
  );
}
