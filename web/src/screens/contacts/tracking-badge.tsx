import { useTranslation } from 'react-i18next';
import type { TrackingStatus } from '../../api/contacts';

/** Accepted / Refused / Unanswered, in words and colour. */
export function TrackingBadge({ status }: { status: TrackingStatus }) {
  const { t } = useTranslation();
  return <span className={`badge ${status}`}>{t(`trackingStatus.${status}`)}</span>;
}
