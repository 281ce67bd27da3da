import { useEffect, useRef, useState } from 'react';
import type { ChannelEventView, ChannelView } from '@contract';
import { useAction, useBridge, useControlEvents } from '../../api/hooks.js';
import { ConfirmDialog } from '../../components/ConfirmDialog.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { Progress } from '../../components/Progress.js';
import { useNow } from '../../components/useNow.js';
import { RestartSteps } from './RestartSteps.js';

const RESTART_CODES = new Set(['RESTART_STEP', 'RESTART_DONE', 'RESTART_FAILED']);
/** How long "restart complete" stays when no encoder is awaited. */
const DONE_SHOWN_MS = 6000;

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
 * watch; "Stop" (refuse encoders) when nothing is live; "Start" only when stopped. Restart asks first (saying
 * which encoders come back by themselves), then shows its progress as one line: the step under way, then
 * "Waiting for the encoder… 0:23" until the encoder that was live publishes again; the line clears itself then.
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
  // The ingests live when the restart began (then the line waits for a new one: the encoder back).
  const [before, setBefore] = useState<Set<string> | null>(null);
  const awaitEncoder = before !== null && before.size > 0;
  const [doneAt, setDoneAt] = useState<number | null>(null);
  const encoderBack = channel.ingests.some((i) => !before?.has(i.sessionId));
  const restartDone = steps?.some((s) => s.code === 'RESTART_DONE') ?? false;
  const restartFailed = steps?.some((s) => s.code === 'RESTART_FAILED') ?? false;
  const now = useNow(restartDone && awaitEncoder ? 1000 : 60_000);
  useEffect(() => {
    if (restartDone) setDoneAt((t) => t ?? Date.now());
  }, [restartDone]);
  // The line clears itself on success: once the encoder is back, or a moment after a restart with none.
  useEffect(() => {
    if (!restartDone || restartFailed || restart.busy) return;
    if (awaitEncoder && !encoderBack) return;
    const t = setTimeout(
      () => {
        watching.current = false;
        setSteps(null);
        setDoneAt(null);
      },
      awaitEncoder ? 0 : DONE_SHOWN_MS,
    );
    return () => clearTimeout(t);
  }, [restartDone, restartFailed, restart.busy, awaitEncoder, encoderBack]);

  useControlEvents((e) => {
    if (!watching.current || e.type !== 'channel.event' || e.entryId !== entryId) return;
    if (RESTART_CODES.has(e.event.code)) setSteps((s) => mergeById(s ?? [], [e.event]));
  });

  const busy = start.busy || stop.busy || restart.busy;
  const doRestart = async () => {
    setAsking(false);
    setBefore(new Set(channel.ingests.map((i) => i.sessionId)));
    setDoneAt(null);
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
          The whole archive of this channel is lost, and its encoder is disconnected. What comes back by
          itself: OBS, when its automatic reconnect is on (Settings → Advanced → Automatically Reconnect), and
          hardware encoders set to reconnect. ffmpeg, and encoders without automatic reconnect, must be
          started again by hand. This page then waits for the encoder, with the time since the restart.
        </p>
      </ConfirmDialog>
      <Progress text={progress} testId="control-progress" />
      {steps ? (
        <RestartSteps
          steps={steps}
          running={restart.busy}
          waitingSince={awaitEncoder && !encoderBack && doneAt !== null ? doneAt : null}
          now={Math.max(now, doneAt ?? 0)}
        />
      ) : null}
      <ErrorAlert error={start.error} action="Could not start the channel" />
      <ErrorAlert error={stop.error} action="Could not stop the channel" />
      <ErrorAlert error={restart.error} action="Could not restart the channel" />
    </div>
  );
}
