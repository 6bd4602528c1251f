import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { useScoreModels } from '../../api/score-models';
import { useMay } from '../../auth/permissions';
import { ListPage } from '../../ui/list-page';
import { useFormat } from '../../ui/use-format';
import '../../ui/marketing.css';

/** The project's score models. */
export default function ScoreModelsPage() {
  const { t } = useTranslation();
  const { pid = '' } = useParams();
  const may = useMay();
  const format = useFormat();
  return (
    <ListPage
      title={t('scoring.title')}
      intro={t('scoring.intro')}
      empty={t('scoring.none')}
      create={{ allowed: may('POST', '/api/v1/projects/:pid/score-models'), to: `/projects/${pid}/score-models/new`, label: t('scoring.new') }}
      list={useScoreModels(pid)}
      columns={[{ header: t('scoring.name') }, { header: t('scoring.rules'), numeric: true }, { header: t('scoring.updated') }]}
      row={(m) => (
        <tr key={m.id}>
          <td>
            <Link to={`/projects/${pid}/score-models/${m.id}`}>{m.name}</Link>
          </td>
          <td className="num">{Array.isArray(m.rules) ? m.rules.length : 0}</td>
          <td>{format.dateTime(m.updatedAt)}</td>
        </tr>
      )}
    />
  );
}
