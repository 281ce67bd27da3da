import { useId, useRef, useState } from 'react';
import { copyText } from './copy-text.js';

/**
 * A read-only value with a "Copy" button (named "Copy <label>"). `secret`: parts of the value shown masked until
 * "Show" is pressed (Copy copies the whole value either way).
 */
export function CopyField({
  label,
  value,
  testId,
  secret,
}: {
  label: string;
  value: string;
  testId?: string;
  secret?: string | string[];
}) {
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  const [note, setNote] = useState('');
  const [revealed, setRevealed] = useState(false);
  const secrets = (Array.isArray(secret) ? secret : [secret]).filter((s): s is string => Boolean(s));
  const masked = revealed ? value : secrets.reduce((v, s) => v.split(s).join('••••••'), value);
  return (
    <div className="field copy-field">
      <label htmlFor={id}>{label}</label>
      <div className="copy-row">
        <input
          id={id}
          ref={input}
          readOnly
          value={masked}
          data-testid={testId}
          onFocus={(e) => e.currentTarget.select()}
        />
        <button
          type="button"
          aria-label={`Copy ${label}`}
          onClick={async () => {
            const ok = await copyText(value, input.current);
            setNote(ok ? 'Copied' : 'Select the text and press Ctrl+C to copy');
            setTimeout(() => setNote(''), 3000);
          }}
        >
          Copy
        </button>
        {secrets.length > 0 ? (
          <button type="button" aria-pressed={revealed} onClick={() => setRevealed((r) => !r)}>
            {revealed ? 'Hide' : 'Show'}
          </button>
        ) : null}
        <span className="copy-note" role="status">
          {note}
        </span>
      </div>
    </div>
  );
}
