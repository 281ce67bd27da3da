import { useId } from 'react';

/** What the recording form edits: whether to record, the DVR window in minutes, the days recordings are kept. */
/** What "Record this event" proposes where nothing was chosen yet: the new-channel form and the header switch agree. */
export const RECORDING_DEFAULTS = { dvrWindowMinutes: 5, keepDays: 30 } as const;

export interface RecordingDraft {
  record: boolean;
  dvrWindowMinutes: string;
  keepDays: string;
}

/** The draft's numbers, or the first problem with them (in the user's words). */
export function parseRecordingDraft(
  d: RecordingDraft,
): { ok: true; dvrWindowMinutes: number; keepDays: number } | { ok: false; problem: string } {
  const dvr = Number(d.dvrWindowMinutes);
  const keep = Number(d.keepDays);
  if (d.dvrWindowMinutes.trim() === '' || !Number.isFinite(dvr) || dvr < 0.1 || dvr > 1440)
    return { ok: false, problem: 'DVR window: between 0.1 and 1440 minutes' };
  if (d.keepDays.trim() === '' || !Number.isFinite(keep) || keep < 0 || keep > 3650)
    return { ok: false, problem: 'Keep recordings: 0 (until purged) to 3650 days' };
  return { ok: true, dvrWindowMinutes: dvr, keepDays: keep };
}

/**
 * The friendly recording form: "Record this event", the DVR window viewers can seek in (minutes) and how many
 * days recordings are kept (0: until purged). Controlled; the caller saves.
 */
export function RecordingFields({
  draft,
  onChange,
  disabled = false,
  recordLabel = 'Record this event',
  onlyWhenRecording = false,
}: {
  draft: RecordingDraft;
  onChange: (d: RecordingDraft) => void;
  disabled?: boolean;
  recordLabel?: string;
  /** Show the DVR window and the days kept only while "Record this event" is checked. */
  onlyWhenRecording?: boolean;
}) {
  const id = useId();
  const parsed = parseRecordingDraft(draft);
  const details = draft.record || !onlyWhenRecording;
  return (
    <fieldset className="recording-fields" disabled={disabled}>
      <legend className="visually-hidden">Recording</legend>
      <label className="check">
        <input
          type="checkbox"
          checked={draft.record}
          onChange={(e) => onChange({ ...draft, record: e.target.checked })}
        />{' '}
        {recordLabel}
      </label>
      {details ? (
        <>
          <div className="field">
            <label htmlFor={`${id}-dvr`}>DVR window (minutes)</label>
            <input
              id={`${id}-dvr`}
              type="number"
              min={0.1}
              max={1440}
              step="any"
              inputMode="decimal"
              value={draft.dvrWindowMinutes}
              aria-describedby={`${id}-dvr-help`}
              onChange={(e) => onChange({ ...draft, dvrWindowMinutes: e.target.value })}
            />
            <span id={`${id}-dvr-help`} className="muted small">
              how far back viewers can seek while live
            </span>
          </div>
          <div className="field">
            <label htmlFor={`${id}-keep`}>Keep recordings (days)</label>
            <input
              id={`${id}-keep`}
              type="number"
              min={0}
              max={3650}
              step="any"
              inputMode="decimal"
              value={draft.keepDays}
              disabled={!draft.record}
              aria-describedby={`${id}-keep-help`}
              onChange={(e) => onChange({ ...draft, keepDays: e.target.value })}
            />
            <span id={`${id}-keep-help`} className="muted small">
              0 keeps them until you purge
            </span>
          </div>
        </>
      ) : null}
      {details && !parsed.ok ? (
        <p className="recording-problem" role="alert">
          {parsed.problem}
        </p>
      ) : null}
    </fieldset>
  );
}
