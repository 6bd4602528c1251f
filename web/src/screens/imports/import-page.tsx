import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { type ImportRecord, useDownloadRejected, useImport } from '../../api/imports';
import { useFormat } from '../../ui/format';
import { usePageTitle } from '../../ui/page-title';
import { ErrorMessage, Loading } from '../../ui/status';
import '../consent.css';
import { ImportStatus } from './import-status';

/** `/projects/{pid}/imports/{iid}`: live progress while the import runs (polled), then its report. */
export default function ImportPage() {
  const { t } = useTranslation();
  const { pid = '', iid = '' } = useParams();
  const record = useImport(pid, iid);
  usePageTitle(t('imports.oneTitle', { id: iid }));
  return (
    <>
      <p className="breadcrumb">
        <Link to={`/projects/${pid}/imports`}>{t('imports.back')}</Link>
      </p>
      <h1>{t('imports.oneTitle', { id: iid })}</h1>
      {record.isPending ? <Loading /> : null}
      <ErrorMessage error={record.error} />
      {record.data ? <ImportReport pid={pid} record={record.data} /> : null}
      {record.data && record.isRefetchError ? <ErrorMessage error={record.error} /> : null}
    </>
  );
}

function ImportReport({ pid, record }: { pid: string; record: ImportRecord }) {
  const { t } = useTranslation();
  const format = useFormat();
  const download = useDownloadRejected(pid, record.id);
  const { counts } = record;
  const figures: [string, number][] = [
    ['imports.counts.rows', counts.rows],
    ['imports.counts.created', counts.created],
    ['imports.counts.updated', counts.updated],
    ['imports.counts.unchanged', counts.unchanged],
    ['imports.counts.consentApplied', counts.consentApplied],
    ['imports.counts.consentStale', counts.consentStale],
    ['imports.counts.rejected', counts.rejected],
  ];
  return (
    <>
      <section className="panel" aria-labelledby="import-facts-h">
        <h2 id="import-facts-h">{record.fileName ?? t('imports.noName')}</h2>
        <p className="status-line">
          <ImportStatus status={record.status} />
        </p>
        <dl className="facts">
          <dt>{t('imports.type')}</dt>
          <dd>{t(`imports.types.${record.type}`, { defaultValue: record.type })}</dd>
          <dt>{t('imports.by')}</dt>
          <dd className="mono">{record.actor}</dd>
          <dt>{t('imports.started')}</dt>
          <dd>{format.dateTime(record.startedAt)}</dd>
          {record.finishedAt ? (
            <>
              <dt>{t('imports.finished')}</dt>
              <dd>{format.dateTime(record.finishedAt)}</dd>
            </>
          ) : null}
          <dt>{t('imports.mapping')}</dt>
          <dd>
            {record.mapping.length === 0 ? (
              '—'
            ) : (
              <ul className="plain">
                {record.mapping.map((m) => (
                  <li key={`${m.column}-${m.target}`}>
                    {m.column} → <span className="mono">{m.target}</span>
                  </li>
                ))}
              </ul>
            )}
          </dd>
        </dl>
      </section>

      {record.status === 'running' ? (
        <section className="panel" aria-labelledby="import-progress-h">
          <h2 id="import-progress-h">{t('imports.progress')}</h2>
          <progress aria-labelledby="import-progress-h" />
          <p role="status" className="progress-line">
            {t('imports.rowsDone', { rows: format.number(counts.rows) })} · {t('imports.pace', { pace: format.number(Math.round(record.rowsPerSecond)) })}
          </p>
        </section>
      ) : (
        <section className="panel" aria-labelledby="import-report-h">
          <h2 id="import-report-h">{t('imports.report')}</h2>
          {record.status === 'failed' ? (
            <p className="error" role="alert">
              {t('imports.failed', { error: record.error ?? '' })}
            </p>
          ) : (
            <p role="status" className="success">
              {t('imports.finishedLine', { rows: format.number(counts.rows), pace: format.number(Math.round(record.rowsPerSecond)) })}
            </p>
          )}
          <ul className="figures">
            {figures.map(([key, value]) => (
              <li key={key}>
                <span className="figure">{format.number(value)}</span> <span className="label">{t(key)}</span>
              </li>
            ))}
          </ul>
          {counts.rejected > 0 ? (
            <div className="actions">
              <button type="button" onClick={() => download.mutate()} disabled={download.isPending}>
                {t('imports.downloadRejected')}
              </button>
              {download.isPending ? <Loading /> : null}
              <ErrorMessage error={download.error} />
            </div>
          ) : null}
        </section>
      )}
    </>
  );
}
