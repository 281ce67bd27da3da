import { useEffect, useId, useRef, type ReactNode } from 'react';

/**
 * Asks before a destructive action: a modal <dialog> (focus stays inside, Escape cancels), Cancel focused
 * first so Enter never destroys by accident. A `secondary` choice (the safer way: "Save, apply later", "Make a
 * signed link first") sits between Cancel and the destructive one.
 */
export function ConfirmDialog({
  open,
  title,
  children,
  confirmLabel,
  onConfirm,
  onCancel,
  cancelLabel = 'Cancel',
  secondary,
}: {
  open: boolean;
  title: string;
  children?: ReactNode;
  confirmLabel: string;
  onConfirm: () => void;
  onCancel: () => void;
  cancelLabel?: string;
  secondary?: { label: string; onClick: () => void };
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const cancel = useRef<HTMLButtonElement>(null);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) {
      d.showModal();
      cancel.current?.focus();
    } else if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby={titleId}
      onCancel={(e) => {
        e.preventDefault();
        onCancel();
      }}
    >
      {open ? (
        <>
          <h2 id={titleId}>{title}</h2>
          <div className="dialog-body">{children}</div>
          <div className="dialog-buttons">
            <button type="button" ref={cancel} onClick={onCancel}>
              {cancelLabel}
            </button>
            {secondary ? (
              <button type="button" className="primary" onClick={secondary.onClick}>
                {secondary.label}
              </button>
            ) : null}
            <button type="button" className="danger" onClick={onConfirm}>
              {confirmLabel}
            </button>
          </div>
        </>
      ) : null}
    </dialog>
  );
}
