import { useTranslation } from 'react-i18next';
import { ApiError } from '../api/client';

/** Shown while a request runs. */
export function Loading() {
  const { t } = useTranslation();
  return (
    <p className="loading" role="status">
      {t('common.loading')}
    </p>
  );
}

/** A failed request, in words: the server's own detail when it sent problem+json. */
export function ErrorMessage({ error }: { error: unknown }) {
  const { t } = useTranslation();
  if (!error) return null;
  let text = t('common.error');
  if (error instanceof ApiError) {
    if (error.status === 403) text = t('common.forbidden');
    else if (error.status === 404) text = t('common.notFound');
    else text = error.message || text;
  }
  return (
    <p className="error" role="alert">
      {text}
    </p>
  );
}
