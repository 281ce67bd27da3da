import { useId, type InputHTMLAttributes } from 'react';

/**
 * One labelled input; disabled with the reason when a flag or environment variable fixes it; a problem found on
 * Next or Save shown on it (and announced), until the value changes.
 */
export function SettingField({
  label,
  value,
  onChange,
  fixedBy,
  hint,
  error,
  ...rest
}: {
  label: string;
  value: string;
  onChange: (v: string) => void;
  fixedBy?: string;
  hint?: string;
  error?: string | undefined;
} & Omit<InputHTMLAttributes<HTMLInputElement>, 'value' | 'onChange'>) {
  const id = useId();
  const describedBy = fixedBy || hint ? `${id}-note` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  return (
    <div className={error ? 'field field-invalid' : 'field'}>
      <label htmlFor={id}>{label}</label>
      <input
        {...rest}
        id={id}
        value={value}
        disabled={fixedBy !== undefined || rest.disabled}
        aria-invalid={error ? true : undefined}
        aria-describedby={[errorId, describedBy].filter(Boolean).join(' ') || undefined}
        onChange={(e) => onChange(e.target.value)}
      />
      {error ? (
        <p id={errorId} className="field-error" role="alert" data-testid="field-error">
          {error}
        </p>
      ) : null}
      {describedBy ? (
        <p id={describedBy} className="muted small" data-testid={fixedBy ? 'fixed-reason' : undefined}>
          {fixedBy ? `Fixed by ${fixedBy}; change it there.` : hint}
        </p>
      ) : null}
    </div>
  );
}
