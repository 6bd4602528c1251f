import i18n from 'i18next';
import { initReactI18next } from 'react-i18next';

export const LANGUAGES = ['en', 'fr'] as const;
export type Language = (typeof LANGUAGES)[number];

export const isLanguage = (value: unknown): value is Language => (LANGUAGES as readonly unknown[]).includes(value);

/** Before the user has chosen, the browser's preferred language (Accept-Language), or English. */
export function browserLanguage(): Language {
  for (const tag of navigator.languages ?? [navigator.language]) {
    const base = tag.slice(0, 2).toLowerCase();
    if (isLanguage(base)) return base;
  }
  return 'en';
}

/** Switches the interface language and keeps `<html lang>` in step (screen readers read by it). */
export async function applyLanguage(language: Language): Promise<void> {
  document.documentElement.lang = language;
  if (i18n.language !== language) await i18n.changeLanguage(language);
}

type Tree = { [key: string]: string | Tree };

/**
 * Translations live in one file per area and language (`shell.en.json`, `consent.fr.json`, …) so that
 * screens of different areas never edit the same file; each area owns its top-level keys.
 */
const files = import.meta.glob<Tree>('./*.json', { eager: true, import: 'default' });
function translations(language: Language): Tree {
  const merged: Tree = {};
  for (const [path, tree] of Object.entries(files)) if (path.endsWith(`.${language}.json`)) Object.assign(merged, tree);
  return merged;
}

const initial = browserLanguage();
document.documentElement.lang = initial;
void i18n.use(initReactI18next).init({
  resources: { en: { translation: translations('en') }, fr: { translation: translations('fr') } },
  lng: initial,
  fallbackLng: 'en',
  interpolation: { escapeValue: false },
});

export default i18n;
