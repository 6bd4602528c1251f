import { useTranslation } from 'react-i18next';

const LOCALES: Record<string, string> = { en: 'en-CA', fr: 'fr-CA' };

/** Dates and numbers in the interface language (`2026-03-04 14:05` / `12 345`). */
export function useFormat() {
  const { i18n } = useTranslation();
  const locale = LOCALES[i18n.language] ?? 'en-CA';
  const dateTime = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' });
  const number = new Intl.NumberFormat(locale);
  return {
    dateTime: (iso: string | null | undefined) => (iso ? dateTime.format(new Date(iso)) : ''),
    number: (n: number) => number.format(n),
  };
}
