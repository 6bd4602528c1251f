import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { useCampaigns } from '../../api/campaigns';
import { useMay } from '../../auth/permissions';
import { ListPage } from '../../ui/list-page';
import { useFormat } from '../../ui/use-format';
import '../../ui/marketing.css';

/** The project's campaigns. */
export default function CampaignsPage() {
  const { t } = useTranslation();
  const { pid = '' } = useParams();
  const may = useMay();
  const format = useFormat();
  return (
    <ListPage
      title={t('campaigns.title')}
      intro={t('campaigns.intro')}
      empty={t('campaigns.none')}
      create={{ allowed: may('POST', '/api/v1/projects/:pid/campaigns'), to: `/projects/${pid}/campaigns/new`, label: t('campaigns.new') }}
      list={useCampaigns(pid)}
      columns={[{ header: t('campaigns.name') }, { header: t('campaigns.statusLabel') }, { header: t('campaigns.steps'), numeric: true }, { header: t('campaigns.started') }]}
      row={(c) => (
        <tr key={c.id}>
          <td>
            <Link to={`/projects/${pid}/campaigns/${c.id}`}>{c.name}</Link>
          </td>
          <td>
            <span className={`badge status-${c.status}`}>{t(`campaigns.status.${c.status}`)}</span>
          </td>
          <td className="num">{c.nodes.length}</td>
          <td>{c.startedAt ? format.dateTime(c.startedAt) : '—'}</td>
        </tr>
      )}
    />
  );
}
