import type { ChannelEventView } from '@contract';

/** A restart's steps as they happen ("2/5 purging the archive completely"), then done or failed. */
export function RestartSteps({ steps, running }: { steps: ChannelEventView[]; running: boolean }) {
  const done = steps.find((s) => s.code === 'RESTART_DONE');
  const failed = steps.find((s) => s.code === 'RESTART_FAILED');
  return (
    <div className="restart-steps" role="status" aria-live="polite" data-testid="restart-steps">
      <h3>Restart</h3>
      <ol>
        {steps
          .filter((s) => s.code === 'RESTART_STEP')
          .map((s) => (
            <li key={s.id} data-testid="restart-step">
              {s.message}
            </li>
          ))}
      </ol>
      {done ? (
        <p className="success" data-testid="restart-result">
          {done.message}
        </p>
      ) : failed ? (
        <p className="alert" role="alert" data-testid="restart-result">
          {failed.message}
        </p>
      ) : running ? (
        <p>
          <span className="spinner" aria-hidden="true" /> working…
        </p>
      ) : null}
    </div>
  );
}
