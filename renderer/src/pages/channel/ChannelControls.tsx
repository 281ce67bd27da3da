import { useRef, useState } from 'react';
import type { ChannelEventView, ChannelView } from '@contract';
import { useAction, useBridge, useControlEvents } from '../../api/hooks.js';
import { ConfirmDialog } from '../../components/ConfirmDialog.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { Progress } from '../../components/Progress.js';
import { RestartSteps } from './RestartSteps.js';

const RESTART_CODES = new Set(['RESTART_STEP', 'RESTART_DONE', 'RESTART_FAILED']);

/** The events of the latest restart in a channel's log (after the last "1/…" step). */
function lastRestart(events: ChannelEventView[]): ChannelEventView[] {
  const sorted = [...events].sort((a, b) => a.id - b.id);
  let from = -1;
  sorted.forEach((e, i) => {
    if (e.code === 'RESTART_STEP' && e.message.startsWith('1/')) from = i;
  });
  return from < 0 ? [] : sorted.slice(from).filter((e) => RESTART_CODES.has(e.code));
}

function mergeById(a: ChannelEventView[], b: ChannelEventView[]): ChannelEventView[] {
  const m = new Map<number, ChannelEventView>();
  for (const e of [...a, ...b]) m.set(e.id, e);
  return [...m.values()].sort((x, y) => x.id - y.id);
}

/**
 * The actions follow the state: while live, one primary "End event…" that asks first and names how many viewers
 * watch; "Stop" (refuse encoders) when nothing is live; "Start" only when stopped. Restart asks first, then shows
 * each step as it happens.
 */
export function ChannelControls({
  channel,
  viewers = 0,
  onChanged,
}: {
  channel: ChannelView;
  /** Viewers now (the latest statistics sample). */
  viewers?: number;
  onChanged: () => void;
}) {
  const bridge = useBridge();
  const start = useAction('channels.start');
  const stop = useAction('channels.stop');
  const restart = useAction('channels.restart');
  const [asking, setAsking] = useState(false);
  const [ending, setEnding] = useState(false);
  const live = channel.state === 'started' || channel.state === 'starting';
  const [steps, setSteps] = useState<ChannelEventView[] | null>(null);
  const watching = useRef(false);
  const entryId = channel.entryId;

  useControlEvents((e) => {
    if (!watching.current || e.type !== 'channel.event' || e.entryId !== entryId) return;
    if (RESTART_CODES.has(e.event.code)) setSteps((s) => mergeById(s ?? [], [e.event]));
  });

  const busy = start.busy || stop.busy || restart.busy;
  const doRestart = async () => {
    setAsking(false);
    setSteps([]);
    watching.current = true;
    await restart.run({ entryId });
    // Steps that the event connection missed (or that arrived before the answer) come from the log.
    const log = await bridge.invoke('channels.events', { entryId });
    if (log.ok) setSteps((s) => mergeById(s ?? [], lastRestart(log.value.events)));
    onChanged();
  };
  const progress = start.busy
    ? 'Starting the channel…'
    : stop.busy
      ? 'Stopping the channel: disconnecting the encoders…'
      : restart.busy
        ? 'Restarting the channel…'
        : null;

  return (
    <div className="controls">
      <div className="button-row" role="group" aria-label="Channel control">
        {!channel.accepting ? (
          <button
            type="button"
            className="primary"
            disabled={busy}
            onClick={async () => {
              if (await start.run({ entryId })) onChanged();
            }}
          >
            Start
          </button>
        ) : live ? (
          <button type="button" className="primary danger" disabled={busy} onClick={() => setEnding(true)}>
            End event…
          </button>
        ) : (
          <button
            type="button"
            disabled={busy}
            onClick={async () => {
              if (await stop.run({ entryId })) onChanged();
            }}
          >
            Stop
          </button>
        )}
        <button type="button" className="danger" disabled={busy} onClick={() => setAsking(true)}>
          Restart
        </button>
      </div>
      <p className="muted" data-testid="accepting">
        {channel.accepting ? 'Accepting encoders.' : 'Stopped: encoders are refused until you press Start.'}
      </p>
      <ConfirmDialog
        open={ending}
        title={`End “${channel.name}” now?`}
        confirmLabel="End the event"
        onCancel={() => setEnding(false)}
        onConfirm={async () => {
          setEnding(false);
          if (await stop.run({ entryId })) onChanged();
        }}
      >
        <p>
          {viewers === 1 ? '1 viewer is' : `${viewers} viewers are`} watching. The encoder is disconnected and
          the stream ends for them; encoders are refused until you press Start. The recording so far is kept.
        </p>
      </ConfirmDialog>
      <ConfirmDialog
        open={asking}
        title={`Restart “${channel.name}” completely?`}
        confirmLabel="Restart now"
        onCancel={() => setAsking(false)}
        onConfirm={() => void doRestart()}
      >
        <p>The restart runs these steps:</p>
        <ol>
          <li>stop the encoder,</li>
          <li>purge the archive completely,</li>
          <li>delete the publishing point,</li>
          <li>create it again with the same options,</li>
          <li>accept the encoder again.</li>
        </ol>
        <p>
          The whole archive of this channel is lost. OBS reconnects by itself when its automatic reconnect is
          on (Settings → Advanced → Automatically Reconnect); ffmpeg and most hardware encoders must be
          started again.
        </p>
      </ConfirmDialog>
      <Progress text={progress} testId="control-progress" />
      {steps ? <RestartSteps steps={steps} running={restart.busy} /> : null}
      <ErrorAlert error={start.error} action="Could not start the channel" />
      <ErrorAlert error={stop.error} action="Could not stop the channel" />
      <ErrorAlert error={restart.error} action="Could not restart the channel" />
    </div>
  );
}
