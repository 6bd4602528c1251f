import type { ReactNode } from 'react';

/** One labelled figure; `key` when the label is not a unique string. */
export interface Figure {
  label: string;
  value: ReactNode;
  key?: string;
}

/**
 * A row of labelled figures as a description list (a screen reader reads
 * "label, value"); `size` is the CSS variant (`small`, `tiny`).
 */
export function Figures({ items, size, label, className }: { items: Figure[]; size?: 'small' | 'tiny'; label?: string; className?: string }) {
  const classes = ['figures', size, className].filter(Boolean).join(' ');
  return (
    <dl className={classes} aria-label={label}>
      {items.map((f) => (
        <div key={f.key ?? f.label}>
          <dt>{f.label}</dt>
          <dd>{f.value}</dd>
        </div>
      ))}
    </dl>
  );
}
