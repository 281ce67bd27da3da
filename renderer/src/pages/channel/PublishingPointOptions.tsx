import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import type { PublishingPointView } from '@contract';
import { useAction, useControlEvents, useDebounced, useResource, useResync } from '../../api/hooks.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { Progress } from '../../components/Progress.js';

interface Row {
  id: number;
  key: string;
  value: string;
}

let nextRowId = 1;
const toRows = (options: Record<string, string>): Row[] =>
  Object.entries(options).map(([key, value]) => ({ id: nextRowId++, key, value }));

/** The publishing point's options as a key/value editor: editable only while it is idle and purged. */
export function PublishingPointOptions({ entryId, state }: { entryId: string; state: string }) {
  const id = useId();
  const resync = useResync();
  const pp = useResource('publishingPoints.get', { entryId }, `${entryId}-${state}-${resync}`);
  const reloadSoon = useDebounced(pp.reload, 300);
  useControlEvents((e) => {
    if (
      e.type === 'channel.event' &&
      e.entryId === entryId &&
      /^(RESTART_DONE|PURGE_DONE)$/.test(e.event.code)
    )
      reloadSoon();
  });
  const [rows, setRows] = useState<Row[]>([]);
  const dirty = useRef(false);
  const save = useAction('publishingPoints.update');
  const [saved, setSaved] = useState<PublishingPointView | null>(null);
  const view = saved ?? pp.data;

  useEffect(() => {
    if (pp.data && !dirty.current) setRows(toRows(pp.data.options));
  }, [pp.data]);

  if (pp.error?.status === 404)
    return <p className="empty">No publishing point yet: it is created when the encoder first publishes.</p>;
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
          Read-only: {view.reason ?? 'the publishing point is in use'}
        </p>
      ) : null}
      <fieldset disabled={!view.editable || save.busy}>
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
