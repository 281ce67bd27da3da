import { useEffect, useRef, useState } from 'react';
import { useResource } from '../../api/hooks.js';
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

const STEPS = ['Mode', 'Ports and address', 'Data directory', 'Admin credentials', 'Summary'] as const;
type Step = (typeof STEPS)[number];

/** The fields each step asks for: Next checks these, and shows their problems on them. */
const STEP_FIELDS: Record<Step, Array<keyof SettingsDraft>> = {
  Mode: ['serviceUrl', 'partnerId', 'partnerSecret', 'serverNodeName'],
  'Ports and address': ['rtmpPort', 'httpPort', 'adminPort', 'publicHost'],
  'Data directory': ['dataDir'],
  'Admin credentials': ['adminToken', 'adminTokenRepeat'],
  Summary: [],
};

/**
 * First run: mode (and partner), ports and the address encoders and viewers use (with the URLs they make), data
 * directory, admin credentials, summary, save. Next checks the step's fields and shows their problems on them;
 * changing the mode clears problems found before. `onDone` leads to the screen with the appliance's URLs.
 */
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
  const [errors, setErrors] = useState<FieldProblems>({});
  const heading = useRef<HTMLHeadingElement>(null);
  const body = useRef<HTMLDivElement>(null);
  const save = useSaveSettings(onRestarting);
  useEffect(() => {
    if (settings.data) setDraft((d) => d ?? draftFrom(settings.data as NonNullable<typeof settings.data>));
  }, [settings.data]);
  useEffect(() => {
    heading.current?.focus();
  }, [step]);

  const current = settings.data;
  const set = (patch: Partial<SettingsDraft>) => {
    setDraft((d) => (d ? { ...d, ...patch } : d));
    setErrors((e) => problemsAfter(e, patch));
  };
  const computed = current && draft ? inputFrom(draft, current) : null;
  const stepName: Step = STEPS[step] ?? 'Summary';

  /** The problems of these steps' fields (all of them on Save). */
  const problemsOf = (steps: readonly Step[]): FieldProblems => {
    if (!current || !draft) return {};
    const all = fieldProblems(draft, current);
    const fields = new Set(steps.flatMap((s) => STEP_FIELDS[s]));
    return Object.fromEntries(Object.entries(all).filter(([k]) => fields.has(k as keyof SettingsDraft)));
  };
  const showProblems = (found: FieldProblems): boolean => {
    setErrors(found);
    if (Object.keys(found).length === 0) return false;
    // Focus the first field with a problem (after it renders).
    setTimeout(() => body.current?.querySelector<HTMLInputElement>('[aria-invalid="true"]')?.focus(), 0);
    return true;
  };
  const next = () => {
    if (showProblems(problemsOf([stepName]))) return;
    setStep((s) => Math.min(STEPS.length - 1, s + 1));
  };
  const finish = async () => {
    if (!computed) return;
    const found = problemsOf(STEPS);
    if (Object.keys(found).length) {
      // Back to the first step with a problem, shown on its fields.
      const first = STEPS.findIndex((s) => STEP_FIELDS[s].some((f) => found[f] !== undefined));
      if (first >= 0) setStep(first);
      showProblems(found);
      return;
    }
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
          <div className="wizard-body" ref={body}>
            {stepName === 'Mode' ? (
              <ModeFields draft={draft} set={set} current={current} errors={errors} />
            ) : null}
            {stepName === 'Ports and address' ? (
              <>
                <PortFields draft={draft} set={set} current={current} errors={errors} />
                <AddressFields draft={draft} set={set} current={current} errors={errors} />
              </>
            ) : null}
            {stepName === 'Data directory' ? (
              <DataDirField draft={draft} set={set} current={current} errors={errors} />
            ) : null}
            {stepName === 'Admin credentials' ? (
              <AdminTokenFields draft={draft} set={set} current={current} errors={errors} />
            ) : null}
            {stepName === 'Summary' && computed ? (
              <SettingsSummary input={computed.input} current={current} />
            ) : null}
          </div>
        ) : null}
        <ErrorAlert error={save.error} action="Could not save the settings" />
        <Progress text={save.busy ? 'Saving the settings…' : null} />
        <div className="button-row wizard-buttons">
          <button
            type="button"
            disabled={step === 0}
            onClick={() => {
              setErrors({});
              setStep((s) => Math.max(0, s - 1));
            }}
          >
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
