import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { useMessages } from '../../api/messages';
import { useSendings } from '../../api/sendings';
import { usePageTitle } from '../../ui/page-title';
import { ErrorMessage, Loading } from '../../ui/status';
import { useFormat } from '../../ui/use-format';
import '../../ui/marketing.css';

/** Every sending of the project, newest first, with its recipients. */
export default function SendingsPage() {
  const { t } = useTranslation();
  const { pid = '' } = useParams();
  usePageTitle(t('sendings.title'));
  const sendings = useSendings(pid);
  const messages = useMessages(pid);
  const format = useFormat();
  const nameOf = (mid: string) => messages.data?.find((m) => m.id === mid)?.name ?? t('sendings.messageN', { id: mid });
  return (
    <>
      <h1>{t('sendings.title')}</h1>
      {sendings.isPending ? <Loading /> : null}
      <ErrorMessage error={sendings.error} />
      {sendings.data?.length === 0 ? (
        <p className="empty">
          {t('sendings.none')} <Link to={`/projects/${pid}/messages`}>{t('sendings.toMessages')}</Link>
        </p>
      ) : null}
      {sendings.data && sendings.data.length > 0 ? (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">{t('sendings.title')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('sendings.message')}</th>
                <th scope="col">{t('sendings.statusLabel')}</th>
                <th scope="col">{t('sendings.date')}</th>
                <th scope="col" className="num">
                  {t('sending.targeted')}
                </th>
                <th scope="col" className="num">
                  {t('sending.tracked')}
                </th>
                <th scope="col" className="num">
                  {t('sending.untracked')}
                </th>
                <th scope="col" className="num">
                  {t('sending.delivered')}
                </th>
              </tr>
            </thead>
            <tbody>
              {sendings.data.map((s) => (
                <tr key={s.id}>
                  <td>
                    <Link to={`/projects/${pid}/sendings/${s.id}`}>{nameOf(s.messageId)}</Link>
                  </td>
                  <td>
                    <span className={`badge status-${s.status}`}>{t(`sendings.status.${s.status}`)}</span>
                  </td>
                  <td>{format.dateTime(s.createdAt)}</td>
                  <td className="num">{format.number(s.targeted)}</td>
                  <td className="num">{format.number(s.tracked)}</td>
                  <td className="num">{format.number(s.untracked)}</td>
                  <td className="num">{format.number(s.delivered)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </>
  );
}
