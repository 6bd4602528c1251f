import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { useScoreModels } from '../../api/score-models';
import { useMay } from '../../auth/permissions';
import { usePageTitle } from '../../ui/page-title';
import { ErrorMessage, Loading } from '../../ui/status';
import { useFormat } from '../../ui/use-format';
import '../../ui/marketing.css';

/** The project's score models. */
export default function ScoreModelsPage() {
  const { t } = useTranslation();
  const { pid = '' } = useParams();
  usePageTitle(t('scoring.title'));
  const models = useScoreModels(pid);
  const may = useMay();
  const format = useFormat();
  return (
    <>
      <div className="page-head">
        <h1>{t('scoring.title')}</h1>
        {may('POST', '/api/v1/projects/:pid/score-models') ? (
          <Link className="button primary" to={`/projects/${pid}/score-models/new`}>
            {t('scoring.new')}
          </Link>
        ) : null}
      </div>
      <p className="hint">{t('scoring.intro')}</p>
      {models.isPending ? <Loading /> : null}
      <ErrorMessage error={models.error} />
      {models.data?.length === 0 ? <p className="empty">{t('scoring.none')}</p> : null}
      {models.data && models.data.length > 0 ? (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">{t('scoring.title')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('scoring.name')}</th>
                <th scope="col" className="num">
                  {t('scoring.rules')}
                </th>
                <th scope="col">{t('scoring.updated')}</th>
              </tr>
            </thead>
            <tbody>
              {models.data.map((m) => (
                <tr key={m.id}>
                  <td>
                    <Link to={`/projects/${pid}/score-models/${m.id}`}>{m.name}</Link>
                  </td>
                  <td className="num">{Array.isArray(m.rules) ? m.rules.length : 0}</td>
                  <td>{format.dateTime(m.updatedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </>
  );
}
