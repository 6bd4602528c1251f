import { useTranslation } from 'react-i18next';
import { useFormat } from './use-format';

/** One horizontal bar split into parts (e.g. accepted / refused / unanswered), with its legend in words. */
export function SplitBar({ label, parts }: { label: string; parts: { key: string; label: string; value: number; className: string }[] }) {
  const { t } = useTranslation();
  const format = useFormat();
  const total = parts.reduce((sum, p) => sum + p.value, 0);
  return (
    <figure className="split-bar">
      <figcaption>{label}</figcaption>
      <div className="split-bar-track" aria-hidden="true">
        {parts.map((p) =>
          p.value > 0 ? <span key={p.key} className={`split-bar-part ${p.className}`} style={{ width: `${(p.value / Math.max(1, total)) * 100}%` }} /> : null,
        )}
      </div>
      <ul className="split-bar-legend">
        {parts.map((p) => (
          <li key={p.key}>
            <span className={`swatch ${p.className}`} aria-hidden="true" />{' '}
            {t('mk.legendItem', { label: p.label, value: format.number(p.value), share: format.percent(total === 0 ? 0 : p.value / total) })}
          </li>
        ))}
      </ul>
    </figure>
  );
}
