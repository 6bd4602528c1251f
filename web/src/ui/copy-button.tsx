import { useState } from 'react';
import { useTranslation } from 'react-i18next';

/** Copies a text (a public URL) to the clipboard and says so. */
export function CopyButton({ text, label }: { text: string; label: string }) {
  const { t } = useTranslation();
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  return (
    <span className="copy">
      <button
        type="button"
        onClick={() => {
          navigator.clipboard
            .writeText(text)
            .then(() => setState('copied'))
            .catch(() => setState('failed'));
        }}
      >
        {label}
      </button>
      <span role="status" className={state === 'failed' ? 'field-error' : 'success'}>
        {state === 'copied' ? t('mk.copied') : state === 'failed' ? t('mk.copyFailed') : ''}
      </span>
    </span>
  );
}
