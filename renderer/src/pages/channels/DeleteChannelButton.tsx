import { useEffect, useId, useRef, useState } from 'react';
import type { ChannelView } from '@contract';
import { useAction } from '../../api/hooks.js';
import { ConfirmDialog } from '../../components/ConfirmDialog.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { Progress } from '../../components/Progress.js';
import { useChannelSamples } from '../../state/statistics-context.js';

/**
 * Delete lives in the channel's "More actions" menu, out of the way of a click meant for something else; it asks
 * first, and says so when the channel is live (with how many watch). Shows progress and the reason of a failure.
 */
export function DeleteChannelButton({
  channel,
  onDeleted,
}: {
  channel: Pick<ChannelView, 'entryId' | 'name'> & Partial<Pick<ChannelView, 'state' | 'ingests'>>;
  onDeleted: () => void;
}) {
  const id = useId();
  const [open, setOpen] = useState(false);
  const [asking, setAsking] = useState(false);
  const del = useAction('channels.delete');
  const samples = useChannelSamples(channel.entryId);
  const viewers = samples.at(-1)?.viewers ?? 0;
  const live =
    channel.state === 'started' || channel.state === 'starting' || (channel.ingests?.length ?? 0) > 0;
  const menu = useRef<HTMLDivElement>(null);
  const item = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (!open) return;
    item.current?.focus();
    const close = (e: MouseEvent) => {
      if (!menu.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('mousedown', close);
    return () => document.removeEventListener('mousedown', close);
  }, [open]);
  return (
    <div className="inline-action action-menu" ref={menu}>
      <button
        type="button"
        className="menu-button"
        aria-label={`More actions for ${channel.name}`}
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={`${id}-menu`}
        disabled={del.busy}
        onClick={() => setOpen((o) => !o)}
      >
        ⋯
      </button>
      {open ? (
        <div
          className="menu"
          role="menu"
          id={`${id}-menu`}
          onKeyDown={(e) => {
            if (e.key === 'Escape') setOpen(false);
          }}
        >
          <button
            type="button"
            role="menuitem"
            ref={item}
            className="danger"
            aria-label={`Delete channel ${channel.name}`}
            onClick={() => {
              setOpen(false);
              setAsking(true);
            }}
          >
            Delete…
          </button>
        </div>
      ) : null}
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
        {live ? (
          <p className="alert" data-testid="delete-live-warning">
            <strong>It is live now</strong>
            {viewers > 0 ? ` and ${viewers === 1 ? '1 viewer is' : `${viewers} viewers are`} watching` : ''}:
            deleting it disconnects its encoder and ends the stream at once.
          </p>
        ) : null}
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
