import { CopyField } from '../../components/CopyField.js';
import { maskIn, splitUrl } from './url-parts.js';

/**
 * A long URL to copy, with the part that tells it apart shown in full under it (the rest cut short): the
 * parameter where it differs from `compareTo` (a backup server's `i=1`), else its query. The token stays masked
 * there; "Show" in the field reveals it.
 */
export function UrlField({
  label,
  value,
  testId,
  secret,
  compareTo,
}: {
  label: string;
  value: string;
  testId?: string;
  secret?: string;
  compareTo?: string;
}) {
  const { head, tail } = splitUrl(value, compareTo);
  return (
    <div className="url-field">
      <CopyField label={label} value={value} testId={testId} secret={secret} />
      <p
        className="url-parts muted small"
        data-testid={testId ? `${testId}-part` : undefined}
        aria-hidden="true"
      >
        <span className="url-head">{maskIn(head, secret)}</span>
        <span className="url-tail">{maskIn(tail, secret)}</span>
      </p>
    </div>
  );
}
