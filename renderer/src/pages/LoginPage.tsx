import { useId, useState, type FormEvent } from 'react';
import { ErrorAlert } from '../components/ErrorAlert.js';
import { Progress } from '../components/Progress.js';

/** Asks a browser for the admin token (the Electron window never needs it). */
export function LoginPage({
  onSubmit,
  notice,
}: {
  /** Resolves with an error message when the token is refused. */
  onSubmit: (token: string) => Promise<string | null>;
  notice?: string | null;
}) {
  const id = useId();
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!token.trim()) {
      setError('Enter the admin token.');
      return;
    }
    setBusy(true);
    setError(null);
    const failure = await onSubmit(token.trim());
    setBusy(false);
    if (failure) setError(failure);
  };
  return (
    <main className="login">
      <form className="card login-card" onSubmit={submit} aria-labelledby={`${id}-title`}>
        <h1 id={`${id}-title`}>eCDN Appliance</h1>
        <p>
          Sign in with the admin token. It was printed when the appliance first started, and is kept in its
          data directory: <code>cat &lt;data dir&gt;/admin-token</code> shows the token in use, also after it
          was changed in Settings.
        </p>
        <p className="muted small" data-testid="token-hint">
          Started with <code>--admin-token</code> or <code>ECDN_ADMIN_TOKEN</code>? Then that is the token. In
          the desktop app, set one under Settings → Admin credentials to sign in from a browser.
        </p>
        {notice ? <p className="notice">{notice}</p> : null}
        <div className="field">
          <label htmlFor={id}>Admin token</label>
          <input
            id={id}
            type="password"
            autoComplete="current-password"
            autoFocus
            value={token}
            onChange={(e) => setToken(e.target.value)}
          />
        </div>
        <button type="submit" className="primary" disabled={busy}>
          Sign in
        </button>
        <Progress text={busy ? 'Checking the token…' : null} />
        <ErrorAlert error={error} />
      </form>
    </main>
  );
}
