import { useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useLocation, useNavigate, useParams } from 'react-router';
import { ApiError } from '../../api/client';
import { useCriteriaCount, useDeleteGroup, useGroup, useGroupMembers, useSaveGroup } from '../../api/groups';
import { useMay } from '../../auth/permissions';
import { RadioGroup } from '../../ui/controls';
import { Field } from '../../ui/field';
import { usePageTitle } from '../../ui/page-title';
import { fieldError } from '../../ui/problem';
import { ErrorMessage, Loading } from '../../ui/status';
import { useDebounced } from '../../ui/use-debounced';
import { CursorPager } from '../../ui/cursor-pager';
import { useFormat } from '../../ui/use-format';
import { CriteriaBuilder } from './criteria-builder';
import { type CNode, fromCriteria, newGroup, toCriteria } from './criteria-model';
import '../../ui/marketing.css';

/** A group: its criteria built as a tree with a live count, and its members. */
export default function GroupPage() {
  const { t } = useTranslation();
  const { pid = '', gid } = useParams();
  const navigate = useNavigate();
  const location = useLocation();
  const may = useMay();
  const format = useFormat();
  const group = useGroup(pid, gid);
  const save = useSaveGroup(pid, gid);
  const remove = useDeleteGroup(pid);
  const [name, setName] = useState('');
  const [type, setType] = useState<'dynamic' | 'static'>('dynamic');
  const [root, setRoot] = useState<CNode>(() => newGroup());
  const [loaded, setLoaded] = useState<string | undefined>();
  const [saved, setSaved] = useState(Boolean((location.state as { created?: boolean } | null)?.created));
  const canEdit = may(gid ? 'PATCH' : 'POST', gid ? '/api/v1/projects/:pid/groups/:gid' : '/api/v1/projects/:pid/groups');

  useEffect(() => {
    if (group.data && loaded !== group.data.id) {
      setName(group.data.name);
      setType(group.data.type);
      setRoot(fromCriteria(group.data.criteria));
      setLoaded(group.data.id);
    }
  }, [group.data, loaded]);

  const criteria = useMemo(() => toCriteria(root), [root]);
  const settled = useDebounced(criteria, 400);
  const count = useCriteriaCount(pid, settled);
  const problemSource = save.error ?? count.error;
  const problems = problemSource instanceof ApiError ? problemSource.errors : [];
  const title = gid ? (group.data?.name ?? t('groups.title')) : t('groups.new');
  usePageTitle(title);

  if (gid && group.isPending) return <Loading />;
  if (gid && group.error) return <ErrorMessage error={group.error} />;

  const change = (next: CNode) => {
    setSaved(false);
    setRoot(next);
  };

  return (
    <>
      <p className="breadcrumb">
        <Link to={`/projects/${pid}/groups`}>{t('groups.title')}</Link>
      </p>
      <h1>{title}</h1>
      <form
        className="panel"
        aria-labelledby="group-form-title"
        onSubmit={(event) => {
          event.preventDefault();
          save.mutate(
            { name: name.trim(), type, criteria },
            {
              onSuccess: (g) => {
                setSaved(true);
                if (!gid) navigate(`/projects/${pid}/groups/${g.id}`, { replace: true, state: { created: true } });
              },
            },
          );
        }}
      >
        <h2 id="group-form-title">{t('groups.definition')}</h2>
        <Field label={t('groups.name')} value={name} onChange={(e) => {
            setSaved(false);
            setName(e.target.value);
          }} error={fieldError(save.error, 'name')} required readOnly={!canEdit} />
        <RadioGroup
          legend={t('groups.type')}
          name="type"
          inline
          value={type}
          disabled={!canEdit}
          onChange={(v) => {
            setSaved(false);
            setType(v);
          }}
          options={[
            { value: 'dynamic', label: t('groups.types.dynamic'), hint: t('groups.dynamicHint') },
            { value: 'static', label: t('groups.types.static'), hint: t('groups.staticHint') },
          ]}
        />
        <div className="live-count" aria-live="polite">
          {count.data ? (
            <p>
              <strong>{t('groups.matchNow', { count: format.number(count.data.count) })}</strong>
              {count.isFetching ? <span className="hint"> {t('groups.counting')}</span> : null}
            </p>
          ) : null}
          {count.error && problems.length === 0 ? <ErrorMessage error={count.error} /> : null}
          {count.error && problems.length > 0 ? <p className="field-error">{t('groups.fixProblems')}</p> : null}
        </div>
        <CriteriaBuilder root={root} onChange={change} problems={problems} readOnly={!canEdit} />
        {save.error && problems.length === 0 && !fieldError(save.error, 'name') ? <ErrorMessage error={save.error} /> : null}
        {canEdit ? (
          <div className="actions">
            <button type="submit" className="primary" disabled={save.isPending}>
              {gid ? t('mk.save') : t('groups.create')}
            </button>
            {gid && may('DELETE', '/api/v1/projects/:pid/groups/:gid') ? (
              <button
                type="button"
                className="danger"
                disabled={remove.isPending}
                onClick={() => {
                  if (window.confirm(t('groups.confirmDelete', { name }))) remove.mutate(gid, { onSuccess: () => navigate(`/projects/${pid}/groups`) });
                }}
              >
                {t('mk.delete')}
              </button>
            ) : null}
            <span role="status" className="success">
              {saved ? t('mk.saved') : ''}
            </span>
          </div>
        ) : null}
        <ErrorMessage error={remove.error} />
      </form>
      {gid && group.data ? <Members pid={pid} gid={gid} version={group.data.updatedAt} /> : null}
    </>
  );
}

function Members({ pid, gid, version }: { pid: string; gid: string; version: string }) {
  const { t } = useTranslation();
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  // A saved change gives new members: back to the first page.
  // biome-ignore lint/correctness/useExhaustiveDependencies: reset on a new version only
  useEffect(() => setCursors([undefined]), [version]);
  const cursor = cursors[cursors.length - 1];
  const page = useGroupMembers(pid, gid, cursor);
  return (
    <section className="panel" aria-labelledby="members-title">
      <h2 id="members-title">{t('groups.membersTitle')}</h2>
      <p className="hint">{t('groups.membersHint')}</p>
      {page.isPending ? <Loading /> : null}
      <ErrorMessage error={page.error} />
      {page.data && page.data.items.length === 0 && cursors.length === 1 ? <p className="empty">{t('groups.noMembers')}</p> : null}
      {page.data && page.data.items.length > 0 ? (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">{t('groups.membersTitle')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('groups.email')}</th>
                <th scope="col">{t('groups.status')}</th>
                <th scope="col">{t('groups.trackingStatus')}</th>
              </tr>
            </thead>
            <tbody>
              {page.data.items.map((c) => (
                <tr key={c.id}>
                  <td>
                    <Link to={`/projects/${pid}/contacts/${c.id}`}>{c.email ?? c.externalId ?? c.id}</Link>
                  </td>
                  <td>{t(`criteria.enum.${c.status}`)}</td>
                  <td>
                    <span className={`badge ${c.trackingStatus}`}>{t(`mk.status.${c.trackingStatus}`)}</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <CursorPager cursors={cursors} setCursors={setCursors} next={page.data?.nextCursor} />
    </section>
  );
}
