import { useAction } from '../../api/hooks.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { Progress } from '../../components/Progress.js';

/** "Test connection": asks the core to open a session with the partner (settings.testConnection). */
export function TestConnection({
  serviceUrl,
  partnerId,
  partnerSecret,
}: {
  serviceUrl: string;
  partnerId: string;
  partnerSecret: string;
}) {
  const test = useAction('settings.testConnection');
  return (
    <div className="test-connection">
      <button
        type="button"
        disabled={test.busy}
        onClick={() =>
          void test.run({
            serviceUrl: serviceUrl.trim(),
            partnerId: Number(partnerId),
            ...(partnerSecret ? { partnerSecret } : {}),
          })
        }
      >
        Test connection
      </button>
      <Progress text={test.busy ? 'Connecting to the service…' : null} />
      <div data-testid="test-connection-result">
        {test.result ? (
          <p className="success" role="status">
            ✓ {test.result.message}
            {test.result.partnerName ? ` (partner ${test.result.partnerId}: ${test.result.partnerName})` : ''}
          </p>
        ) : null}
        <ErrorAlert error={test.error} action="Connection failed" />
      </div>
    </div>
  );
}
