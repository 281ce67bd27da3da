import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import type { PublishingPointView } from '@contract';
import { useAction } from '../../api/hooks.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { Progress } from '../../components/Progress.js';
import { parseRecordingDraft, RecordingFields, type RecordingDraft } from './RecordingFields.js';
import { draftOf } from './RecordingSwitch.js';
import { usePublishingPoint } from './use-recording.js';

interface Row {
  id: number;
  key: string;
  value: string;
}

let nextRowId = 1;
const toRows = (options: Record<string, string>): Row[] =>
  Object.entries(options).map(([key, value]) => ({ id: nextRowId++, key, value }));

/**
 * Recording as a friendly form (record or not, DVR window in minutes, days kept), and the publishing point's raw
 * options under "Advanced" as a key/value editor. Turning recording on works whenever the channel is idle; other
 * changes only while it is idle and purged. Kept current by the channel's events, like the header's switch.
 */
export function PublishingPointOptions({ entryId, state }: { entryId: string; state: string }) {
  const pp = usePublishingPoint(entryId, state);
  return (
    <div className="pp-panel">
      <RecordingForm
        entryId={entryId}
        view={pp.data}
        notFound={pp.error?.status === 404}
        onSaved={pp.reload}
      />
      {pp.error?.status === 404 ? (
        <p className="empty">
          No publishing point yet: it is created when the encoder first publishes (or when recording is set
          above).
        </p>
      ) : (
        <details className="pp-advanced" data-testid="pp-advanced">
          <summary>Advanced: publishing point options</summary>
          <RawOptions entryId={entryId} pp={pp} />
        </details>
      )}
    </div>
  );
}

/** The friendly recording form of the options panel. */
function RecordingForm({
  entryId,
  view,
  notFound,
  onSaved,
}: {
  entryId: string;
  view: PublishingPointView | null;
  notFound: boolean;
  onSaved: () => void;
}) {
  const save = useAction('publishingPoints.record');
  const rec = view?.recording;
  const [draft, setDraft] = useState<RecordingDraft>(() => draftOf(rec));
  const dirty = useRef(false);
  useEffect(() => {
    if (!dirty.current) setDraft(draftOf(rec));
  }, [rec]);
  const parsed = parseRecordingDraft(draft);
  // Recording on (or kept longer) needs only an idle channel; anything else, an idle and purged one.
  const allowed = rec ? (draft.record ? rec.canStart : rec.canStop) : notFound;
  return (
    <form
      className="recording-form"
      data-testid="recording-form"
      onSubmit={async (e) => {
        e.preventDefault();
        if (!parsed.ok) return;
        const r = await save.run({
          entryId,
          record: draft.record,
          dvrWindowMinutes: parsed.dvrWindowMinutes,
          keepDays: parsed.keepDays,
        });
        if (r) {
          dirty.current = false;
          onSaved();
        }
      }}
    >
      <RecordingFields
        draft={draft}
        disabled={save.busy || (!rec && !notFound)}
        onChange={(d) => {
          dirty.current = true;
          setDraft(d);
        }}
      />
      {rec && !allowed && rec.reason ? <p className="notice">{rec.reason}</p> : null}
      <button type="submit" className="primary" disabled={save.busy || !parsed.ok || !allowed}>
        Save recording
      </button>
      <ErrorAlert error={save.error} action="Could not change recording" />
    </form>
  );
}

/** The raw options as a key/value editor (Unified Streaming's names). */
function RawOptions({ entryId, pp }: { entryId: string; pp: ReturnType<typeof usePublishingPoint> }) {
  const id = useId();
  const [rows, setRows] = useState<Row[]>([]);
  const dirty = useRef(false);
  const save = useAction('publishingPoints.update');
  const [saved, setSaved] = useState<PublishingPointView | null>(null);
  const view = pp.data ?? saved;

  useEffect(() => {
    if (pp.data && !dirty.current) setRows(toRows(pp.data.options));
  }, [pp.data]);

  if (!view) return <Progress text={pp.loading ? 'Loading the options…' : null} />;

  const edit = (rowId: number, patch: Partial<Row>) => {
    dirty.current = true;
    setRows((rs) => rs.map((r) => (r.id === rowId ? { ...r, ...patch } : r)));
  };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const options: Record<string, string> = {};
    for (const r of rows) if (r.key.trim()) options[r.key.trim()] = r.value;
    const r = await save.run({ entryId, options });
    if (r) {
      dirty.current = false;
      setSaved(r);
      setRows(toRows(r.options));
      pp.reload();
    }
  };
  return (
    <form className="pp-options" onSubmit={submit} aria-describedby={`${id}-why`}>
      <p className="muted small">
        {view.name} · state {view.state} · DVR window {view.resolved.dvrWindow} s · archiving{' '}
        {view.resolved.archiving ? `on (${view.resolved.archiveLength} s)` : 'off'} · fragments{' '}
        {view.resolved.fragmentDuration} s
      </p>
      {!view.editable ? (
        <p id={`${id}-why`} className="notice" data-testid="pp-options-reason">
          {view.recording?.canStart
            ? `Only changes that turn recording on (or keep recordings longer) can be saved now: ${view.reason ?? 'the publishing point is in use'}`
            : `Read-only: ${view.reason ?? 'the publishing point is in use'}`}
        </p>
      ) : null}
      <fieldset disabled={!(view.editable || view.recording?.canStart) || save.busy}>
        <legend>Options</legend>
        <table className="table kv">
          <thead>
            <tr>
              <th scope="col">Option</th>
              <th scope="col">Value</th>
              <th scope="col">
                <span className="visually-hidden">Remove</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => (
              <tr key={r.id}>
                <td>
                  <input
                    aria-label={`Option ${i + 1} name`}
                    value={r.key}
                    onChange={(e) => edit(r.id, { key: e.target.value })}
                  />
                </td>
                <td>
                  <input
                    aria-label={`Option ${i + 1} value`}
                    value={r.value}
                    onChange={(e) => edit(r.id, { value: e.target.value })}
                  />
                </td>
                <td>
                  <button
                    type="button"
                    aria-label={`Remove option ${r.key || i + 1}`}
                    onClick={() => {
                      dirty.current = true;
                      setRows((rs) => rs.filter((x) => x.id !== r.id));
                    }}
                  >
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <div className="button-row">
          <button
            type="button"
            onClick={() => {
              dirty.current = true;
              setRows((rs) => [...rs, { id: nextRowId++, key: '', value: '' }]);
            }}
          >
            Add option
          </button>
          <button type="submit" className="primary">
            Save options
          </button>
        </div>
      </fieldset>
      <Progress text={save.busy ? 'Saving the options…' : null} />
      {saved && !save.busy ? (
        <p className="success" role="status">
          Options saved.
        </p>
      ) : null}
      <ErrorAlert error={save.error} action="Could not save the options" />
      <ErrorAlert error={pp.error} action="Could not load the publishing point" />
    </form>
  );
}
