import type { ControlErrorValue } from '@contract';

/** A failure and its reason, announced to screen readers (role="alert"). */
export function ErrorAlert({
  error,
  action,
}: {
  error: ControlErrorValue | string | null | undefined;
  /** What was being attempted ("Could not start the channel"). */
  action?: string;
}) {
  if (!error) return null;
  const message = typeof error === 'string' ? error : error.message;
  const code = typeof error === 'string' ? undefined : error.code;
  return (
    <div className="alert" role="alert">
      {action ? <strong>{action}: </strong> : null}
      <span>{message}</span>
      {code ? <span className="alert-code"> ({code})</span> : null}
    </div>
  );
}
