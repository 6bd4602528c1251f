import type { Dispatch, SetStateAction } from 'react';
import { useTranslation } from 'react-i18next';

/**
 * Previous / next buttons over a cursor-paged list: `cursors` is the stack of
 * cursors of the pages seen so far (the first is `undefined`), `next` the
 * cursor the current page's answer gave. Hidden while there is one page only.
 */
export function CursorPager({ cursors, setCursors, next }: { cursors: (string | undefined)[]; setCursors: Dispatch<SetStateAction<(string | undefined)[]>>; next: string | null | undefined }) {
  const { t } = useTranslation();
  if (cursors.length <= 1 && !next) return null;
  return (
    <div className="actions">
      <button type="button" disabled={cursors.length === 1} onClick={() => setCursors((c) => c.slice(0, -1))}>
        {t('mk.previousPage')}
      </button>
      <button type="button" disabled={!next} onClick={() => next && setCursors((c) => [...c, next])}>
        {t('mk.nextPage')}
      </button>
    </div>
  );
}
