import type { ChannelEventView } from '@contract';

/** m:ss */
function clock(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/**
 * A restart's progress as one compact line: the step under way ("3/5 deleting the publishing point"), then
 * "Waiting for the encoder… 0:23" while an encoder that was live has not published again, or "restart complete".
 * The parent clears it once the encoder is back (or shortly after a restart with none). A failure stays, as an
 * alert. The steps so far are listed under "Steps".
 */
export function RestartSteps({
  steps,
  running,
  waitingSince,
  now,
}: {
  steps: ChannelEventView[];
  running: boolean;
  /** When the restart finished, if an encoder was live before it and is not back yet. */
  waitingSince: number | null;
  now: number;
}) {
  const done = steps.find((s) => s.code === 'RESTART_DONE');
  const failed = steps.find((s) => s.code === 'RESTART_FAILED');
  const list = steps.filter((s) => s.code === 'RESTART_STEP');
  const last = list.at(-1);
  return (
    <div className="restart-line" data-testid="restart-steps">
      <p role="status" aria-live="polite" className="restart-line-text">
        {failed ? null : done ? (
          waitingSince !== null ? (
            <span data-testid="restart-waiting">
              <span className="spinner" aria-hidden="true" /> Restarted. Waiting for the encoder…{' '}
              {clock(now - waitingSince)}
            </span>
          ) : (
            <span className="success" data-testid="restart-result">
              ✓ {done.message}
            </span>
          )
        ) : running || last ? (
          <span>
            <span className="spinner" aria-hidden="true" /> Restarting: {last?.message ?? 'starting…'}
          </span>
        ) : null}
      </p>
      {failed ? (
        <p className="alert" role="alert" data-testid="restart-result">
          {failed.message}
        </p>
      ) : null}
      {list.length ? (
        <details className="restart-details">
          <summary>Steps</summary>
          <ol>
            {list.map((s) => (
              <li key={s.id} data-testid="restart-step">
                {s.message}
              </li>
            ))}
          </ol>
        </details>
      ) : null}
    </div>
  );
}
