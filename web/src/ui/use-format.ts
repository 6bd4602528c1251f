import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';

/** Numbers, shares and dates in the interface language. */
export function useFormat() {
  const { i18n } = useTranslation();
  const lang = i18n.language === 'fr' ? 'fr-CA' : 'en-CA';
  return useMemo(() => {
    const integer = new Intl.NumberFormat(lang, { maximumFractionDigits: 0 });
    const decimal = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });
    const percent = new Intl.NumberFormat(lang, { style: 'percent', maximumFractionDigits: 0 });
    const dateTime = new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' });
    const date = new Intl.DateTimeFormat(lang, { dateStyle: 'medium' });
    const hour = new Intl.DateTimeFormat(lang, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
    return {
      number: (n: number) => integer.format(n),
      decimal: (n: number) => decimal.format(n),
      /** A share from 0 to 1. */
      percent: (share: number) => percent.format(share),
      dateTime: (iso: string) => dateTime.format(new Date(iso)),
      date: (iso: string) => date.format(new Date(iso)),
      hour: (iso: string) => hour.format(new Date(iso)),
    };
  }, [lang]);
}
