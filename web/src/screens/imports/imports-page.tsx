import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { useImports } from '../../api/imports';
import { useMay } from '../../auth/permissions';
import { useFormat } from '../../ui/format';
import { usePageTitle } from '../../ui/page-title';
import { TableScroll } from '../../ui/table-scroll';
import { ErrorMessage, Loading } from '../../ui/status';
import '../consent.css';
import { ImportStatus } from './import-status';

/** `/projects/{pid}/imports`: the project's imports, newest first. */
export default function ImportsPage() {
  const { t } = useTranslation();
  usePageTitle(t('imports.title'));
  const { pid = '' } = useParams();
  const may = useMay();
  const format = useFormat();
  const [cursors, setCursors] = useState<string[]>([]);
  const imports = useImports(pid, cursors[cursors.length - 1]);
  return (
    <>
      <h1>{t('imports.title')}</h1>
      {may('POST', '/api/v1/projects/:pid/imports') ? (
        <p>
          <Link className="button-link primary" to={`/projects/${pid}/imports/new`}>
            {t('imports.new')}
          </Link>
        </p>
      ) : null}
      {imports.isPending ? <Loading /> : null}
      <ErrorMessage error={imports.error} />
      {imports.data?.items.length === 0 ? <p>{t('imports.none')}</p> : null}
      {imports.data && imports.data.items.length > 0 ? (
        <TableScroll label={t('imports.title')}>
          <table>
            <caption className="visually-hidden">{t('imports.title')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('imports.fileColumn')}</th>
                <th scope="col">{t('imports.statusColumn')}</th>
                <th scope="col" className="num">
                  {t('imports.counts.rows')}
                </th>
                <th scope="col" className="num wide-only">
                  {t('imports.counts.created')}
                </th>
                <th scope="col" className="num wide-only">
                  {t('imports.counts.updated')}
                </th>
                <th scope="col" className="num">
                  {t('imports.counts.rejected')}
                </th>
                <th scope="col" className="wide-only">
                  {t('imports.started')}
                </th>
                <th scope="col" className="wide-only">
                  {t('imports.by')}
                </th>
              </tr>
            </thead>
            <tbody>
              {imports.data.items.map((record) => (
                <tr key={record.id}>
                  <td>
                    <Link to={`/projects/${pid}/imports/${record.id}`}>{record.fileName ?? t('imports.oneTitle', { id: record.id })}</Link>
                  </td>
                  <td>
                    <ImportStatus status={record.status} />
                  </td>
                  <td className="num">{format.number(record.counts.rows)}</td>
                  <td className="num wide-only">{format.number(record.counts.created)}</td>
                  <td className="num wide-only">{format.number(record.counts.updated)}</td>
                  <td className="num">{format.number(record.counts.rejected)}</td>
                  <td className="wide-only">{format.dateTime(record.startedAt)}</td>
                  <td className="mono wide-only">{record.actor}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      ) : null}
      <nav className="actions" aria-label={t('imports.pages')}>
        <button type="button" disabled={cursors.length === 0 || imports.isFetching} onClick={() => setCursors((c) => c.slice(0, -1))}>
          {t('imports.newer')}
        </button>
        <button
          type="button"
          disabled={!imports.data?.nextCursor || imports.isFetching}
          onClick={() => {
            const next = imports.data?.nextCursor;
            if (next) setCursors((c) => [...c, next]);
          }}
        >
          {t('imports.older')}
        </button>
      </nav>
    </>
  );
}
