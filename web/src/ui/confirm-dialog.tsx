import { type ReactNode, useEffect, useId, useRef } from 'react';
import { useTranslation } from 'react-i18next';

interface ConfirmDialogProps {
  open: boolean;
  title: string;
  children?: ReactNode;
  /** Label of the confirming button (default: Confirm). */
  confirmLabel?: string;
  danger?: boolean;
  /** The confirming button stays disabled until this is true (a typed confirmation). */
  canConfirm?: boolean;
  busy?: boolean;
  onConfirm(): void;
  onCancel(): void;
}

/** A modal confirmation (native <dialog>: focus kept inside, Escape cancels, the page behind is inert). */
export function ConfirmDialog({ open, title, children, confirmLabel, danger, canConfirm = true, busy, onConfirm, onCancel }: ConfirmDialogProps) {
  const { t } = useTranslation();
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog
      ref={ref}
      aria-labelledby={titleId}
      onCancel={(event) => {
        event.preventDefault();
        onCancel();
      }}
    >
      <h2 id={titleId}>{title}</h2>
      {open ? children : null}
      <div className="actions">
        <button type="button" className={danger ? 'danger' : 'primary'} disabled={!canConfirm || busy} onClick={onConfirm}>
          {confirmLabel ?? t('confirmDialog.confirm')}
        </button>
        <button type="button" onClick={onCancel} disabled={busy}>
          {t('confirmDialog.cancel')}
        </button>
      </div>
    </dialog>
  );
}
