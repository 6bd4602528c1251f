import { useEffect } from 'react';

/** Keeps the document title in step with the screen (it is what a screen reader announces first). */
export function usePageTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · trackguard`;
  }, [title]);
}
