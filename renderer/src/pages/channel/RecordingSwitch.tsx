import { useEffect, useState } from 'react';
import type { ChannelView } from '@contract';
import { useAction } from '../../api/hooks.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import {
  parseRecordingDraft,
  RECORDING_DEFAULTS,
  RecordingFields,
  type RecordingDraft,
} from './RecordingFields.js';
import { usePublishingPoint } from './use-recording.js';

/** The draft a recording view (or, before the publishing point exists, the defaults) gives. */
export function draftOf(
  rec: { record: boolean; dvrWindowMinutes: number; keepDays: number } | undefined,
): RecordingDraft {
  return {
    record: rec?.record ?? false,
    dvrWindowMinutes: String(rec?.dvrWindowMinutes ?? 0.5),
    // Not recording yet: switching on keeps recordings as the new-channel form does (not "until purged").
    keepDays: String(rec?.record ? rec.keepDays : rec?.keepDays || RECORDING_DEFAULTS.keepDays),
  };
}

/**
 * "Record this event" in the channel's header: one switch, and its settings (DVR window, days kept) next to it.
 * Turning recording on needs no purge while the channel is idle; turning it off drops what would be kept, so the
 * archive must be purged first (the switch says why when it cannot move).
 */
export function RecordingSwitch({ channel }: { channel: ChannelView }) {
  const pp = usePublishingPoint(channel.entryId, channel.state);
  const save = useAction('publishingPoints.record');
  const rec = pp.data?.recording;
  const on = rec?.record ?? false;
  const canMove = rec ? (on ? rec.canStop : rec.canStart) : pp.error?.status === 404;
  const reason = rec && !canMove ? rec.reason : undefined;
  const [draft, setDraft] = useState<RecordingDraft>(() => draftOf(rec));
  const [editing, setEditing] = useState(false);
  useEffect(() => {
    if (!editing) setDraft(draftOf(rec));
  }, [rec, editing]);

  const apply = async (d: RecordingDraft) => {
    const parsed = parseRecordingDraft(d);
    if (!parsed.ok) return;
    const r = await save.run({
      entryId: channel.entryId,
      record: d.record,
      dvrWindowMinutes: parsed.dvrWindowMinutes,
      keepDays: parsed.keepDays,
    });
    if (r) {
      setEditing(false);
      pp.reload();
    }
  };
  const summary = on
    ? `DVR ${rec?.dvrWindowMinutes ?? '?'} min · kept ${rec?.keepDays ? `${rec.keepDays} days` : 'until purged'}`
    : 'Not recording: only the DVR window is kept';
  return (
    <div className="recording-switch" data-testid="recording-switch" data-recording={on}>
      <button
        type="button"
        role="switch"
        aria-checked={on}
        className="switch"
        disabled={save.busy || !canMove || pp.loading}
        aria-describedby={reason ? `${channel.entryId}-recording-why` : undefined}
        onClick={() => void apply({ ...draft, record: !on })}
      >
        <span className="switch-track" aria-hidden="true" />
        Record this event
      </button>
      <span className="muted small" data-testid="recording-summary">
        {summary}
      </span>
      {reason ? (
        <span id={`${channel.entryId}-recording-why`} className="muted small" data-testid="recording-reason">
          {reason}
        </span>
      ) : null}
      <details
        className="recording-settings"
        open={editing}
        onToggle={(e) => setEditing((e.currentTarget as HTMLDetailsElement).open)}
      >
        <summary>Recording settings</summary>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void apply(draft);
          }}
        >
          <RecordingFields draft={draft} onChange={setDraft} disabled={save.busy} />
          <button type="submit" className="primary" disabled={save.busy || !parseRecordingDraft(draft).ok}>
            Save recording
          </button>
        </form>
      </details>
      <ErrorAlert error={save.error} action="Could not change recording" />
    </div>
  );
}
