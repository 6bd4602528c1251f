import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { api } from '../../api/client';
import { data } from '../../api/data';
import { useGroups } from '../../api/groups';
import { useMay } from '../../auth/permissions';
import { usePageTitle } from '../../ui/page-title';
import { ErrorMessage, Loading } from '../../ui/status';
import { useFormat } from '../../ui/use-format';
import '../../ui/marketing.css';

function MemberCount({ pid, gid }: { pid: string; gid: string }) {
  const format = useFormat();
  const count = useQuery({
    queryKey: ['projects', pid, 'groups', gid, 'count'] as const,
    queryFn: () => data(api.GET('/api/v1/projects/{pid}/groups/{gid}/count', { params: { path: { pid, gid } } })),
  });
  return <>{count.data ? format.number(count.data.count) : '…'}</>;
}

/** The project's groups with how many contacts each holds now. */
export default function GroupsPage() {
  const { t } = useTranslation();
  const { pid = '' } = useParams();
  usePageTitle(t('groups.title'));
  const groups = useGroups(pid);
  const may = useMay();
  const format = useFormat();
  return (
    <>
      <div className="page-head">
        <h1>{t('groups.title')}</h1>
        {may('POST', '/api/v1/projects/:pid/groups') ? (
          <Link className="button primary" to={`/projects/${pid}/groups/new`}>
            {t('groups.new')}
          </Link>
        ) : null}
      </div>
      <p className="hint">{t('groups.intro')}</p>
      {groups.isPending ? <Loading /> : null}
      <ErrorMessage error={groups.error} />
      {groups.data?.length === 0 ? <p className="empty">{t('groups.none')}</p> : null}
      {groups.data && groups.data.length > 0 ? (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">{t('groups.title')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('groups.name')}</th>
                <th scope="col">{t('groups.type')}</th>
                <th scope="col" className="num">
                  {t('groups.members')}
                </th>
                <th scope="col">{t('groups.updated')}</th>
              </tr>
            </thead>
            <tbody>
              {groups.data.map((g) => (
                <tr key={g.id}>
                  <td>
                    <Link to={`/projects/${pid}/groups/${g.id}`}>{g.name}</Link>
                  </td>
                  <td>{t(`groups.types.${g.type}`)}</td>
                  <td className="num">
                    <MemberCount pid={pid} gid={g.id} />
                  </td>
                  <td>{format.dateTime(g.updatedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </>
  );
}
