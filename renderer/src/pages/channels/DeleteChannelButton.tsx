import { useState } from 'react';
import type { ChannelView } from '@contract';
import { useAction } from '../../api/hooks.js';
import { ConfirmDialog } from '../../components/ConfirmDialog.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { Progress } from '../../components/Progress.js';

/** Deletes a channel after asking; shows progress and the reason of a failure. */
export function DeleteChannelButton({
  channel,
  onDeleted,
}: {
  channel: Pick<ChannelView, 'entryId' | 'name'>;
  onDeleted: () => void;
}) {
  const [asking, setAsking] = useState(false);
  const del = useAction('channels.delete');
  return (
    <div className="inline-action">
      <button
        type="button"
        className="danger"
        aria-label={`Delete channel ${channel.name}`}
        disabled={del.busy}
        onClick={() => setAsking(true)}
      >
        Delete
      </button>
      <ConfirmDialog
        open={asking}
        title={`Delete channel “${channel.name}”?`}
        confirmLabel="Delete now"
        onCancel={() => setAsking(false)}
        onConfirm={async () => {
          setAsking(false);
          if (await del.run({ entryId: channel.entryId })) onDeleted();
        }}
      >
        <p>
          Its encoders are disconnected, and its publishing point, archive and files are deleted. This cannot
          be undone.
        </p>
      </ConfirmDialog>
      <Progress text={del.busy ? `Deleting ${channel.name}…` : null} />
      <ErrorAlert error={del.error} action="Could not delete the channel" />
    </div>
  );
}
