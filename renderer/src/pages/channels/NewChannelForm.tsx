import { useId, useState, type FormEvent } from 'react';
import type { ChannelView } from '@contract';
import { useAction } from '../../api/hooks.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { Progress } from '../../components/Progress.js';
import { hrefOf, navigate } from '../../routing.js';
import {
  parseRecordingDraft,
  RECORDING_DEFAULTS,
  RecordingFields,
  type RecordingDraft,
} from '../channel/RecordingFields.js';

function EcdnExplanation() {
  return (
    <p className="notice" data-testid="ecdn-channels-note">
      This appliance is bound to a Kaltura partner (eCDN mode): channels are the partner’s live entries,
      created in Kaltura (KMC). They appear here when their encoder first publishes.
    </p>
  );
}

/** What "Record this event" starts with on a new channel. */
const NEW_RECORDING: RecordingDraft = {
  record: false,
  dvrWindowMinutes: String(RECORDING_DEFAULTS.dvrWindowMinutes),
  keepDays: String(RECORDING_DEFAULTS.keepDays),
};

/**
 * Creates a channel (standalone mode), recording from the start when asked, and opens it at once (its encoder
 * set-up comes first there); in eCDN mode, explains where channels come from.
 */
export function NewChannelForm({
  mode,
  onCreated,
}: {
  mode: 'standalone' | 'ecdn' | undefined;
  onCreated: (c: ChannelView) => void;
}) {
  const id = useId();
  const [name, setName] = useState('');
  const [recording, setRecording] = useState<RecordingDraft>(NEW_RECORDING);
  const create = useAction('channels.create');
  const [created, setCreated] = useState<ChannelView | null>(null);
  if (mode === 'ecdn' || create.error?.code === 'MODE_ECDN') {
    return (
      <section className="card" aria-labelledby={`${id}-h`}>
        <h2 id={`${id}-h`}>New channel</h2>
        <EcdnExplanation />
      </section>
    );
  }
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setCreated(null);
    const parsed = parseRecordingDraft(recording);
    if (recording.record && !parsed.ok) return;
    const c = await create.run({
      name: name.trim(),
      ...(recording.record && parsed.ok
        ? { recording: { dvrWindowMinutes: parsed.dvrWindowMinutes, keepDays: parsed.keepDays } }
        : {}),
    });
    if (c) {
      setName('');
      setRecording(NEW_RECORDING);
      setCreated(c);
      onCreated(c);
      navigate({ page: 'channel', entryId: c.entryId });
    }
  };
  return (
    <section className="card" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>New channel</h2>
      <form className="inline-form" onSubmit={submit}>
        <div className="field">
          <label htmlFor={id}>Channel name</label>
          <input
            id={id}
            value={name}
            required
            maxLength={200}
            placeholder="Town hall"
            onChange={(e) => setName(e.target.value)}
          />
        </div>
        <button
          type="submit"
          className="primary"
          disabled={
            create.busy || name.trim() === '' || (recording.record && !parseRecordingDraft(recording).ok)
          }
        >
          Create channel
        </button>
      </form>
      <div className="new-channel-recording">
        <RecordingFields draft={recording} onChange={setRecording} disabled={create.busy} onlyWhenRecording />
      </div>
      <Progress text={create.busy ? 'Creating the channel…' : null} />
      {created ? (
        <p className="success" role="status">
          Created <a href={hrefOf({ page: 'channel', entryId: created.entryId })}>{created.name}</a>: open it
          for the encoder settings.
        </p>
      ) : null}
      <ErrorAlert error={create.error} action="Could not create the channel" />
    </section>
  );
}
