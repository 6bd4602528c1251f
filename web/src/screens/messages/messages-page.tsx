import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { useMessages } from '../../api/messages';
import { useMay } from '../../auth/permissions';
import { usePageTitle } from '../../ui/page-title';
import { ErrorMessage, Loading } from '../../ui/status';
import { useFormat } from '../../ui/use-format';
import '../../ui/marketing.css';

/** The project's messages, newest first. */
export default function MessagesPage() {
  const { t } = useTranslation();
  const { pid = '' } = useParams();
  usePageTitle(t('messages.title'));
  const messages = useMessages(pid);
  const may = useMay();
  const format = useFormat();
  return (
    <>
      <div className="page-head">
        <h1>{t('messages.title')}</h1>
        {may('POST', '/api/v1/projects/:pid/messages') ? (
          <Link className="button primary" to={`/projects/${pid}/messages/new`}>
            {t('messages.new')}
          </Link>
        ) : null}
      </div>
      {messages.isPending ? <Loading /> : null}
      <ErrorMessage error={messages.error} />
      {messages.data?.length === 0 ? <p className="empty">{t('messages.none')}</p> : null}
      {messages.data && messages.data.length > 0 ? (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">{t('messages.title')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('messages.name')}</th>
                <th scope="col">{t('messages.channel')}</th>
                <th scope="col">{t('messages.communicationType')}</th>
                <th scope="col">{t('messages.subjectOrText')}</th>
                <th scope="col">{t('messages.created')}</th>
              </tr>
            </thead>
            <tbody>
              {messages.data.map((m) => (
                <tr key={m.id}>
                  <td>
                    <Link to={`/projects/${pid}/messages/${m.id}`}>{m.name}</Link>
                  </td>
                  <td>
                    <span className={`badge channel-${m.channel}`}>{t(`messages.channels.${m.channel}`)}</span>
                  </td>
                  <td>{m.communicationType}</td>
                  <td className="clip">{m.subject ?? m.title ?? m.text ?? ''}</td>
                  <td>{format.dateTime(m.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </>
  );
}
