import { useId, useState, type FormEvent } from 'react';
import { useAction } from '../../api/hooks.js';
import { ConfirmDialog } from '../../components/ConfirmDialog.js';
import { CopyField } from '../../components/CopyField.js';
import { ErrorAlert } from '../../components/ErrorAlert.js';
import { Progress } from '../../components/Progress.js';
import { formatDateTime } from '../../format.js';

/**
 * "Make a signed link": an expiry in hours (default 8) and an optional IP address or range; and "Revoke all signed
 * links" for a link that leaked (asked first: viewers on a signed link lose the stream at their next request).
 */
export function SignedLinkForm({ entryId, secure }: { entryId: string; secure: boolean }) {
  const id = useId();
  const [hours, setHours] = useState('8');
  const [ip, setIp] = useState('');
  const [invalid, setInvalid] = useState<string | null>(null);
  const sign = useAction('channels.signedUrl');
  const revoke = useAction('channels.revokeSignedUrls');
  const [asking, setAsking] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const h = Number(hours);
    if (!Number.isFinite(h) || h <= 0 || h > 366 * 24) {
      setInvalid('The expiry is a number of hours, more than 0 and at most a year.');
      return;
    }
    setInvalid(null);
    await sign.run({
      entryId,
      expiresIn: Math.max(1, Math.round(h * 3600)),
      ...(ip.trim() ? { ipRange: ip.trim() } : {}),
    });
  };
  return (
    <form className="signed-link" onSubmit={submit} aria-labelledby={`${id}-h`}>
      <h3 id={`${id}-h`}>Make a signed link</h3>
      {!secure ? (
        <p className="muted small">The channel is open: signed links are only needed once it is secure.</p>
      ) : null}
      <div className="inline-form">
        <div className="field">
          <label htmlFor={`${id}-hours`}>Expires in (hours)</label>
          <input
            id={`${id}-hours`}
            type="number"
            min={0}
            step="any"
            value={hours}
            onChange={(e) => setHours(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-ip`}>IP address or range (optional)</label>
          <input
            id={`${id}-ip`}
            value={ip}
            placeholder="10.0.0.0/24"
            onChange={(e) => setIp(e.target.value)}
          />
        </div>
        <button type="submit" disabled={sign.busy}>
          Make signed link
        </button>
      </div>
      <Progress text={sign.busy ? 'Signing…' : null} />
      <ErrorAlert error={invalid} />
      <ErrorAlert error={sign.error} action="Could not make a signed link" />
      <div className="inline-action">
        <button type="button" disabled={revoke.busy} onClick={() => setAsking(true)}>
          Revoke all signed links
        </button>
        <ConfirmDialog
          open={asking}
          title="Revoke every signed link of this channel?"
          confirmLabel="Revoke all links"
          onCancel={() => setAsking(false)}
          onConfirm={async () => {
            setAsking(false);
            sign.reset();
            await revoke.run({ entryId });
          }}
        >
          <p>
            Every signed link handed out so far stops working now, before it expires: viewers watching with
            one lose the stream at their next request and need a new link. Links made afterwards work.
          </p>
        </ConfirmDialog>
        <ErrorAlert error={revoke.error} action="Could not revoke the signed links" />
        {revoke.result ? (
          <p className="muted small" role="status">
            Every earlier signed link was revoked.
          </p>
        ) : null}
      </div>
      {sign.result ? (
        <div data-testid="signed-link">
          <CopyField label="Signed HLS link" value={sign.result.url} />
          <CopyField label="Signed DASH link" value={sign.result.dash} />
          <p className="muted small">
            Valid until {formatDateTime(sign.result.expiresAt)}
            {sign.result.ipRange ? `, only from ${sign.result.ipRange}` : ''}.
          </p>
        </div>
      ) : null}
    </form>
  );
}
