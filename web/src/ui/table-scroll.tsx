import type { ReactNode } from 'react';

/**
 * A wide table's horizontal scroller: focusable so a keyboard can scroll it (axe
 * scrollable-region-focusable), named after the table it holds.
 */
export function TableScroll({ label, children }: { label: string; children: ReactNode }) {
  return (
    // A group, not a region: the section around it is already the landmark of that name (and no fieldset: no form control here).
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling container must be reachable by keyboard to scroll it
    // biome-ignore lint/a11y/useSemanticElements: see above
    <div className="table-wrap" role="group" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}
