import { useAction } from '../../api/hooks.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { Progress } from '../../components/Progress.js';

/** Alerts as webhooks: where they go is set with `--webhook-url` / `ECDN_WEBHOOK_URL`; this sends a test. */
export function WebhookTest() {
  const test = useAction('alerts.testWebhooks');
  const r = test.result;
  return (
    <div className="webhook-test" data-testid="webhook-test">
      <h2>Alert webhooks</h2>
      <p className="muted small">
        Alerts (black picture, frozen picture, silence, ingest lost, backup took over, transcoder failed) are
        POSTed as JSON signed with HMAC-SHA256 (<code>X-Ecdn-Signature</code>) to these URLs (or those of{' '}
        <code>--webhook-url</code>; the secret is <code>ECDN_WEBHOOK_SECRET</code>), at most once a minute per
        condition. The test uses the saved URLs.
      </p>
      <button type="button" disabled={test.busy} onClick={() => void test.run(undefined)}>
        Send a test notification
      </button>
      <Progress text={test.busy ? 'Sending…' : null} />
      <ErrorAlert error={test.error} action="Could not send the test" />
      {r && !r.configured ? <p role="status">No webhook URL is set.</p> : null}
      {r && r.configured ? (
        <ul role="status">
          {r.results.map((x) => (
            <li key={x.url}>
              <code>{x.url}</code>:{' '}
              {x.ok ? `delivered (${x.status})` : `failed (${x.status ?? x.error ?? 'no answer'})`}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
