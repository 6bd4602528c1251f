import { useTranslation } from 'react-i18next';
import type { ImportRecord } from '../../api/imports';

/** Running / Done / Failed, in words and colour. */
export function ImportStatus({ status }: { status: ImportRecord['status'] }) {
  const { t } = useTranslation();
  const tone = status === 'done' ? 'accepted' : status === 'failed' ? 'refused' : 'unanswered';
  return <span className={`badge ${tone}`}>{t(`imports.status.${status}`)}</span>;
}
