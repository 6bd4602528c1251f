import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { api } from '../../api/client';
import { data } from '../../api/data';
import { useGroups } from '../../api/groups';
import { useMay } from '../../auth/permissions';
import { ListPage } from '../../ui/list-page';
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
  const may = useMay();
  const format = useFormat();
  return (
    <ListPage
      title={t('groups.title')}
      intro={t('groups.intro')}
      empty={t('groups.none')}
      create={{ allowed: may('POST', '/api/v1/projects/:pid/groups'), to: `/projects/${pid}/groups/new`, label: t('groups.new') }}
      list={useGroups(pid)}
      columns={[{ header: t('groups.name') }, { header: t('groups.type') }, { header: t('groups.members'), numeric: true }, { header: t('groups.updated') }]}
      row={(g) => (
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
      )}
    />
  );
}
