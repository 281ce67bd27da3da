import { useId, type InputHTMLAttributes } from 'react';

/** One labelled input; disabled with the reason when a flag or environment variable fixes it. */
export function SettingField({
  label,
  value,
  onChange,
  fixedBy,
  hint,
  ...rest
}: {
  label: string;
  value: string;
  onChange: (v: string) => void;
  fixedBy?: string;
  hint?: string;
} & Omit<InputHTMLAttributes<HTMLInputElement>, 'value' | 'onChange'>) {
  const id = useId();
  const describedBy = fixedBy || hint ? `${id}-note` : undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        {...rest}
        id={id}
        value={value}
        disabled={fixedBy !== undefined || rest.disabled}
        aria-describedby={describedBy}
        onChange={(e) => onChange(e.target.value)}
      />
      {describedBy ? (
        <p id={describedBy} className="muted small" data-testid={fixedBy ? 'fixed-reason' : undefined}>
          {fixedBy ? `Fixed by ${fixedBy}; change it there.` : hint}
        </p>
      ) : null}
    </div>
  );
}
