import { useEffect, useRef, useState } from 'react';
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

const STEPS = ['Mode', 'Ports', 'Data directory', 'Admin credentials', 'Summary'] as const;

/** First run: mode (and partner), ports, data directory, admin credentials, summary, save. */
export function FirstRunWizard({
  onDone,
  onSkip,
  onRestarting,
}: {
  onDone: () => void;
  onSkip: () => void;
  onRestarting: (adminUrl: string | null) => void;
}) {
  const settings = useResource('settings.get', undefined, 'wizard-settings');
  const [draft, setDraft] = useState<SettingsDraft | null>(null);
  const [step, setStep] = useState(0);
  const [problems, setProblems] = useState<string[]>([]);
  const heading = useRef<HTMLHeadingElement>(null);
  const save = useSaveSettings(onRestarting);
  useEffect(() => {
    if (settings.data) setDraft((d) => d ?? draftFrom(settings.data as NonNullable<typeof settings.data>));
  }, [settings.data]);
  useEffect(() => {
    heading.current?.focus();
  }, [step]);

  const current = settings.data;
  const set = (patch: Partial<SettingsDraft>) => setDraft((d) => (d ? { ...d, ...patch } : d));
  const computed = current && draft ? inputFrom(draft, current) : null;
  const stepName = STEPS[step] ?? 'Summary';

  const next = () => {
    setProblems([]);
    if (stepName === 'Mode' && draft?.mode === 'ecdn' && computed) {
      const modeProblems = computed.problems.filter((p) => /eCDN|Service URL|Partner/.test(p));
      if (modeProblems.length) {
        setProblems(modeProblems);
        return;
      }
    }
    setStep((s) => Math.min(STEPS.length - 1, s + 1));
  };
  const finish = async () => {
    if (!computed) return;
    setProblems(computed.problems);
    if (computed.problems.length) return;
    const r = await save.run(computed.input);
    if (r && !r.restarting) onDone();
  };

  return (
    <main className="wizard" id="main">
      <div className="card wizard-card">
        <div className="wizard-top">
          <h1>First-run setup</h1>
          <button type="button" onClick={onSkip}>
            Skip setup
          </button>
        </div>
        <ol className="wizard-steps" aria-label="Steps">
          {STEPS.map((s, i) => (
            <li
              key={s}
              aria-current={i === step ? 'step' : undefined}
              className={i < step ? 'done' : undefined}
            >
              {i + 1}. {s}
            </li>
          ))}
        </ol>
        <h2 ref={heading} tabIndex={-1} data-testid="wizard-step">
          Step {step + 1} of {STEPS.length}: {stepName}
        </h2>
        <Progress text={settings.loading && !current ? 'Loading the settings…' : null} />
        <ErrorAlert error={settings.error} action="Could not load the settings" />
        {current && draft ? (
          <div className="wizard-body">
            {stepName === 'Mode' ? <ModeFields draft={draft} set={set} current={current} /> : null}
            {stepName === 'Ports' ? <PortFields draft={draft} set={set} current={current} /> : null}
            {stepName === 'Data directory' ? (
              <DataDirField draft={draft} set={set} current={current} />
            ) : null}
            {stepName === 'Admin credentials' ? (
              <AdminTokenFields draft={draft} set={set} current={current} />
            ) : null}
            {stepName === 'Summary' && computed ? (
              <SettingsSummary input={computed.input} current={current} />
            ) : null}
          </div>
        ) : null}
        <ErrorAlert error={problems.length ? problems.join(' ') : null} action="Check these settings" />
        <ErrorAlert error={save.error} action="Could not save the settings" />
        <Progress text={save.busy ? 'Saving the settings…' : null} />
        <div className="button-row wizard-buttons">
          <button type="button" disabled={step === 0} onClick={() => setStep((s) => Math.max(0, s - 1))}>
            Back
          </button>
          {stepName === 'Summary' ? (
            <button
              type="button"
              className="primary"
              disabled={save.busy || !computed}
              onClick={() => void finish()}
            >
              Save settings
            </button>
          ) : (
            <button type="button" className="primary" onClick={next}>
              Next
            </button>
          )}
        </div>
      </div>
    </main>
  );
}
