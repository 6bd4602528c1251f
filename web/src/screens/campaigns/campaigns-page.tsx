import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { useCampaigns } from '../../api/campaigns';
import { useMay } from '../../auth/permissions';
import { usePageTitle } from '../../ui/page-title';
import { ErrorMessage, Loading } from '../../ui/status';
import { useFormat } from '../../ui/use-format';
import '../../ui/marketing.css';

/** The project's campaigns. */
export default function CampaignsPage() {
  const { t } = useTranslation();
  const { pid = '' } = useParams();
  usePageTitle(t('campaigns.title'));
  const campaigns = useCampaigns(pid);
  const may = useMay();
  const format = useFormat();
  return (
    <>
      <div className="page-head">
        <h1>{t('campaigns.title')}</h1>
        {may('POST', '/api/v1/projects/:pid/campaigns') ? (
          <Link className="button primary" to={`/projects/${pid}/campaigns/new`}>
            {t('campaigns.new')}
          </Link>
        ) : null}
      </div>
      <p className="hint">{t('campaigns.intro')}</p>
      {campaigns.isPending ? <Loading /> : null}
      <ErrorMessage error={campaigns.error} />
      {campaigns.data?.length === 0 ? <p className="empty">{t('campaigns.none')}</p> : null}
      {campaigns.data && campaigns.data.length > 0 ? (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">{t('campaigns.title')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('campaigns.name')}</th>
                <th scope="col">{t('campaigns.statusLabel')}</th>
                <th scope="col" className="num">
                  {t('campaigns.steps')}
                </th>
                <th scope="col">{t('campaigns.started')}</th>
              </tr>
            </thead>
            <tbody>
              {campaigns.data.map((c) => (
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
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </>
  );
}
