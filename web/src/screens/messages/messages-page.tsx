import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { useMessages } from '../../api/messages';
import { useMay } from '../../auth/permissions';
import { ListPage } from '../../ui/list-page';
import { useFormat } from '../../ui/use-format';
import '../../ui/marketing.css';

/** The project's messages, newest first. */
export default function MessagesPage() {
  const { t } = useTranslation();
  const { pid = '' } = useParams();
  const may = useMay();
  const format = useFormat();
  return (
    <ListPage
      title={t('messages.title')}
      empty={t('messages.none')}
      create={{ allowed: may('POST', '/api/v1/projects/:pid/messages'), to: `/projects/${pid}/messages/new`, label: t('messages.new') }}
      list={useMessages(pid)}
      columns={[
        { header: t('messages.name') },
        { header: t('messages.channel') },
        { header: t('messages.communicationType') },
        { header: t('messages.subjectOrText') },
        { header: t('messages.created') },
      ]}
      row={(m) => (
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
      )}
    />
  );
}
