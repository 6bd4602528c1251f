import { useState } from 'react';
import { Trans, useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { useMessage } from '../../api/messages';
import { isRunning, type Report, useReport, useSending, useTrackedContacts } from '../../api/sendings';
import { usePageTitle } from '../../ui/page-title';
import { ErrorMessage, Loading } from '../../ui/status';
import { downloadFile } from '../../ui/download';
import { CursorPager } from '../../ui/cursor-pager';
import { useFormat } from '../../ui/use-format';
import { ResultCharts } from './result-charts';
import '../../ui/marketing.css';

const PAGE = 25;

/** "N untracked contacts" (SPEC §13), singular for one. */
export function UntrackedLegend({ count }: { count: number }) {
  const { t } = useTranslation();
  return <p className="legend-count">{t(count === 1 ? 'sending.legendOne' : 'sending.legendMany', { count })}</p>;
}

/** Sending results: live progress, figures, charts, the tracked contacts and the untracked legend, exports. */
export default function SendingPage() {
  const { t } = useTranslation();
  const { pid = '', sid = '' } = useParams();
  const format = useFormat();
  const sending = useSending(pid, sid);
  const running = isRunning(sending.data?.status);
  const report = useReport(pid, sid, running);
  const message = useMessage(pid, sending.data?.messageId);
  const name = message.data?.name ?? '';
  usePageTitle(name ? t('sending.titleOf', { name }) : t('sending.title'));

  if (sending.isPending) return <Loading />;
  if (sending.error) return <ErrorMessage error={sending.error} />;
  const s = sending.data;
  const done = s.delivered + s.failed;

  return (
    <>
      <p className="breadcrumb">
        <Link to={`/projects/${pid}/sendings`}>{t('sendings.title')}</Link>
        {message.data ? (
          <>
            {' · '}
            <Link to={`/projects/${pid}/messages/${s.messageId}`}>{message.data.name}</Link>
          </>
        ) : null}
      </p>
      <div className="page-head">
        <h1>{name ? t('sending.titleOf', { name }) : t('sending.title')}</h1>
        <span className={`badge status-${s.status}`}>{t(`sendings.status.${s.status}`)}</span>
      </div>
      <p className="hint">
        {t('sending.createdAt', { date: format.dateTime(s.createdAt) })}
        {s.finishedAt ? ` · ${t('sending.finishedAt', { date: format.dateTime(s.finishedAt) })}` : ''}
      </p>
      {running ? (
        <section className="panel" aria-labelledby="progress-title">
          <h2 id="progress-title">{t('sending.progress')}</h2>
          <progress max={Math.max(1, s.targeted)} value={done} aria-labelledby="progress-title" />
          <p aria-live="polite">{t('sending.progressText', { done: format.number(done), targeted: format.number(s.targeted) })}</p>
        </section>
      ) : null}
      {s.status === 'failed' ? <p className="error">{t('sending.failed', { error: s.error ?? '' })}</p> : null}
      {report.isPending ? <Loading /> : null}
      <ErrorMessage error={report.error} />
      {report.data ? <Results pid={pid} sid={sid} report={report.data} /> : null}
    </>
  );
}

function Figure({ label, value, detail }: { label: string; value: string; detail?: string | undefined }) {
  return (
    <div>
      <dt>{label}</dt>
      <dd>
        {value}
        {detail ? <span className="detail">{detail}</span> : null}
      </dd>
    </div>
  );
}

/**
 * Untracked recipients, read two ways: when the message left (`recipients.untracked`) and now (`untrackedNow`, the
 * legend's count): a withdrawal since the sending moves a contact from tracked to untracked.
 */
function UntrackedFigure({ atSending, now }: { atSending: string; now: string }) {
  const { t } = useTranslation();
  const unit = <span className="unit" />;
  return (
    <div>
      <dt>{t('sending.untracked')}</dt>
      <dd>
        <Trans i18nKey="sending.atSending" values={{ count: atSending }} components={{ unit }} />
        {/* One phrase when read aloud or copied: "12 at sending · 14 now". */}
        <span className="visually-hidden"> · </span>
        <span className="then">
          <Trans i18nKey="sending.now" values={{ count: now }} components={{ unit }} />
        </span>
      </dd>
    </div>
  );
}

/** The target's contacts the sending left out, per reason: why it reaches fewer than its group's count. */
function ExcludedFigures({ excluded }: { excluded: NonNullable<Report['excluded']> }) {
  const { t } = useTranslation();
  const n = useFormat().number;
  return (
    <div className="excluded">
      <h3 id="excluded-title">{t('sending.excluded.title')}</h3>
      <dl className="figures tiny" aria-labelledby="excluded-title">
        <Figure label={t('sending.excluded.unsubscribed')} value={n(excluded.unsubscribed)} />
        <Figure label={t('sending.excluded.quarantined')} value={n(excluded.quarantined)} />
        <Figure label={t('sending.excluded.noAddress')} value={n(excluded.noAddress)} />
      </dl>
      <p className="hint">{t('sending.excluded.note')}</p>
    </div>
  );
}

function Results({ pid, sid, report }: { pid: string; sid: string; report: Report }) {
  const { t } = useTranslation();
  const format = useFormat();
  const r = report.recipients;
  const n = format.number;
  const [exportError, setExportError] = useState<unknown>(null);
  const exportAs = (fmt: 'csv' | 'ndjson') => {
    setExportError(null);
    downloadFile(`/api/v1/projects/${pid}/sendings/${sid}/events?format=${fmt}`, `sending-${sid}-events.${fmt}`).catch(setExportError);
  };
  return (
    <>
      {report.suppressed ? (
        <div className="notice" role="note">
          <p>
            <strong>{t('sending.suppressedTitle')}</strong> {t('sending.suppressedText', { k: report.suppressed.k })}
          </p>
        </div>
      ) : null}
      <section className="panel" aria-labelledby="figures-title">
        <h2 id="figures-title">{t('sending.figures')}</h2>
        <dl className="figures">
          <Figure label={t('sending.targeted')} value={n(r.targeted)} />
          <Figure label={t('sending.delivered')} value={n(r.delivered)} detail={r.failed > 0 ? t('sending.failedCount', { count: n(r.failed) }) : undefined} />
          <Figure label={t('sending.tracked')} value={n(r.tracked)} />
          <UntrackedFigure atSending={n(r.untracked)} now={n(r.untrackedNow)} />
        </dl>
        <p className="hint">{t('sending.atSendingNote')}</p>
        {report.excluded ? <ExcludedFigures excluded={report.excluded} /> : null}
        <div className="figure-pair">
          <div>
            <h3>{t('sending.opens')}</h3>
            <dl className="figures small">
              <Figure label={t('sending.total')} value={n(report.opens.total)} />
              <Figure label={t('sending.unique')} value={n(report.opens.unique)} />
              <Figure label={t('sending.human')} value={n(report.opens.human)} />
              <Figure label={t('sending.machine')} value={n(report.opens.machine)} />
            </dl>
          </div>
          <div>
            <h3>{t('sending.clicks')}</h3>
            <dl className="figures small">
              <Figure label={t('sending.total')} value={n(report.clicks.total)} />
              <Figure label={t('sending.unique')} value={n(report.clicks.unique)} />
              <Figure label={t('sending.human')} value={n(report.clicks.human)} />
              <Figure label={t('sending.machine')} value={n(report.clicks.machine)} />
            </dl>
          </div>
        </div>
        <p className="hint">{t('sending.figuresNote')}</p>
      </section>
      <section className="panel" aria-labelledby="charts-title">
        <h2 id="charts-title">{t('sending.charts.title')}</h2>
        {report.opens.total + report.clicks.total === 0 ? <p className="hint">{t('sending.noActivity')}</p> : null}
        <ResultCharts report={report} />
      </section>
      <TrackedContacts pid={pid} sid={sid} untracked={report.legend.untrackedContacts} />
      <section className="panel" aria-labelledby="export-title">
        <h2 id="export-title">{t('sending.export')}</h2>
        <p className="hint">{t('sending.exportNote')}</p>
        <div className="actions">
          <button type="button" onClick={() => exportAs('csv')}>
            {t('sending.exportCsv')}
          </button>
          <button type="button" onClick={() => exportAs('ndjson')}>
            {t('sending.exportNdjson')}
          </button>
        </div>
        <ErrorMessage error={exportError} />
      </section>
    </>
  );
}

function TrackedContacts({ pid, sid, untracked }: { pid: string; sid: string; untracked: number }) {
  const { t } = useTranslation();
  const format = useFormat();
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const cursor = cursors[cursors.length - 1];
  const page = useTrackedContacts(pid, sid, cursor, PAGE);
  return (
    <section className="panel" aria-labelledby="contacts-title">
      <h2 id="contacts-title">{t('sending.contacts')}</h2>
      <div className="legend">
        <UntrackedLegend count={untracked} />
        <p className="hint">{t('sending.legendNote')}</p>
      </div>
      {page.isPending ? <Loading /> : null}
      <ErrorMessage error={page.error} />
      {page.data && page.data.items.length === 0 && cursors.length === 1 ? <p className="empty">{t('sending.noContacts')}</p> : null}
      {page.data && page.data.items.length > 0 ? (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">{t('sending.contacts')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('sending.contact')}</th>
                <th scope="col" className="num">
                  {t('sending.opens')}
                </th>
                <th scope="col" className="num">
                  {t('sending.clicks')}
                </th>
              </tr>
            </thead>
            <tbody>
              {page.data.items.map((c) => (
                <tr key={c.contactId}>
                  <td>
                    <Link to={`/projects/${pid}/contacts/${c.contactId}`}>{c.email ?? c.contactId}</Link>
                  </td>
                  <td className="num">{format.number(c.opens)}</td>
                  <td className="num">{format.number(c.clicks)}</td>
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
