import { useId } from 'react';
import { useTranslation } from 'react-i18next';
import { useChooseLanguage } from '../auth/session';
import { isLanguage, LANGUAGES } from '../i18n';

/** English / French, on every page; kept as the user's choice once signed in. */
export function LanguageSwitch() {
  const { t, i18n } = useTranslation();
  const choose = useChooseLanguage();
  const id = useId();
  return (
    <div className="language-switch">
      <label htmlFor={id}>{t('shell.language')}</label>
      <select
        id={id}
        value={i18n.language}
        onChange={(event) => {
          if (isLanguage(event.target.value)) choose.mutate(event.target.value);
        }}
      >
        {LANGUAGES.map((language) => (
          <option key={language} value={language} lang={language}>
            {t(`languages.${language}`)}
          </option>
        ))}
      </select>
      {choose.isError ? (
        <span className="field-error" role="alert">
          {t('shell.languageNotSaved')}
        </span>
      ) : null}
    </div>
  );
}
