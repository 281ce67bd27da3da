import { useEffect, useId, useRef, useState } from 'react';
import type { ChannelView } from '@contract';
import { useAction } from '../../api/hooks.js';
import { ConfirmDialog } from '../../components/ConfirmDialog.js';
import { CopyField } from '../../components/CopyField.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { Progress } from '../../components/Progress.js';
import { useChannelSamples } from '../../state/statistics-context.js';
import { SignedLinkForm } from './SignedLinkForm.js';

/**
 * Viewer access (open or secure) and signed links for secure channels. Making a watched channel secure asks
 * first: its viewers on the open URL are cut, so a signed link to hand them is offered before the switch.
 */
export function AccessPanel({ channel, onChanged }: { channel: ChannelView; onChanged: () => void }) {
  const id = useId();
  const update = useAction('channels.update');
  const viewers = useChannelSamples(channel.entryId).at(-1)?.viewers ?? 0;
  const [warning, setWarning] = useState(false);
  const [linkFirst, setLinkFirst] = useState(false);
  const linkForm = useRef<HTMLDivElement>(null);
  // The choice shows at once; it falls back to the channel's access if the change fails.
  const [chosen, setChosen] = useState<'open' | 'secure' | null>(null);
  const shown = chosen ?? channel.access;
  useEffect(() => {
    if (chosen === channel.access) setChosen(null);
  }, [chosen, channel.access]);
  const set = async (access: 'open' | 'secure', confirmed = false) => {
    if (access === channel.access) return;
    if (access === 'secure' && viewers > 0 && !confirmed) {
      setWarning(true);
      return;
    }
    setLinkFirst(false);
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
      <ConfirmDialog
        open={warning}
        title={`Make “${channel.name}” secure while ${viewers === 1 ? '1 viewer watches' : `${viewers} viewers watch`}?`}
        confirmLabel="Switch to secure now"
        secondary={{
          label: 'Make a signed link first',
          onClick: () => {
            setWarning(false);
            setLinkFirst(true);
            setTimeout(() => linkForm.current?.querySelector<HTMLInputElement>('input')?.focus(), 0);
          },
        }}
        onCancel={() => setWarning(false)}
        onConfirm={() => {
          setWarning(false);
          void set('secure', true);
        }}
      >
        <p data-testid="secure-warning">
          {viewers === 1 ? '1 viewer is' : `${viewers} viewers are`} watching on the open URL. Once the
          channel is secure, only signed links play: current viewers are cut at their next request, within
          seconds.
        </p>
        <p>Make a signed link first and hand it out, then switch.</p>
      </ConfirmDialog>
      {linkFirst ? (
        <p className="notice" role="status" data-testid="link-first">
          Make a signed link below and hand it out; then choose Secure. The channel stays open until then.
        </p>
      ) : null}
      <Progress text={update.busy ? 'Changing viewer access…' : null} />
      <ErrorAlert error={update.error} action="Could not change viewer access" />
      {channel.access === 'open' ? (
        <>
          <CopyField label="HLS URL" value={channel.playback.hls} testId="hls-url" />
          <CopyField label="DASH URL" value={channel.playback.dash} testId="dash-url" />
        </>
      ) : null}
      <div ref={linkForm}>
        <SignedLinkForm entryId={channel.entryId} secure={channel.access === 'secure'} />
      </div>
    </div>
  );
}
