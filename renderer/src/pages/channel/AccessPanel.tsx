import { useEffect, useId, useState } from 'react';
import type { ChannelView } from '@contract';
import { useAction } from '../../api/hooks.js';
import { CopyField } from '../../components/CopyField.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { Progress } from '../../components/Progress.js';
import { SignedLinkForm } from './SignedLinkForm.js';

/** Viewer access (open or secure) and signed links for secure channels. */
export function AccessPanel({ channel, onChanged }: { channel: ChannelView; onChanged: () => void }) {
  const id = useId();
  const update = useAction('channels.update');
  // The choice shows at once; it falls back to the channel's access if the change fails.
  const [chosen, setChosen] = useState<'open' | 'secure' | null>(null);
  const shown = chosen ?? channel.access;
  useEffect(() => {
    if (chosen === channel.access) setChosen(null);
  }, [chosen, channel.access]);
  const set = async (access: 'open' | 'secure') => {
    if (access === channel.access) return;
    setChosen(access);
    if (await update.run({ entryId: channel.entryId, access })) onChanged();
    else setChosen(null);
  };
  return (
    <div className="access">
      <fieldset>
        <legend>Viewer access</legend>
        {(['open', 'secure'] as const).map((a) => (
          <label key={a} className="radio">
            <input
              type="radio"
              name={`${id}-access`}
              value={a}
              checked={shown === a}
              onChange={() => void set(a)}
            />
            {a === 'open' ? 'Open: anyone with the URL watches' : 'Secure: only signed links play'}
          </label>
        ))}
      </fieldset>
      <Progress text={update.busy ? 'Changing viewer access…' : null} />
      <ErrorAlert error={update.error} action="Could not change viewer access" />
      {channel.access === 'open' ? (
        <>
          <CopyField label="HLS URL" value={channel.playback.hls} testId="hls-url" />
          <CopyField label="DASH URL" value={channel.playback.dash} testId="dash-url" />
        </>
      ) : null}
      <SignedLinkForm entryId={channel.entryId} secure={channel.access === 'secure'} />
    </div>
  );
}
