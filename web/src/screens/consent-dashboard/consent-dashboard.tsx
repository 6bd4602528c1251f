import { useMemo, useState } from 'react';
import { Figures } from '../../ui/figures';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { type ConsentDashboard as Data, useConsentDashboard } from '../../api/dashboards';
import { Chart } from '../../ui/chart';
import { SelectField } from '../../ui/controls';
import { ErrorMessage, Loading } from '../../ui/status';
import { useFormat } from '../../ui/use-format';
import '../../ui/marketing.css';

const GRID = { left: 8, right: 16, top: 36, bottom: 8, containLabel: true };
const STATUS_COLORS = ['#047857', '#b91c1c', '#a16207'];

/**
 * The consent dashboard of the Privacy screen, charts first: accepted / refused / unanswered over time
 * (from the consent history), the refusals and opt-outs that followed each sending, where consent
 * changes came from, and the tracked share of the last sendings. Counts only, never a contact.
 */
export function ConsentDashboard({ pid }: { pid: string }) {
  const { t } = useTranslation();
  const [days, setDays] = useState(90);
  const dashboard = useConsentDashboard(pid, days);
  return (
    <section className="consent-dashboard" aria-labelledby="consent-dashboard-title">
      <div className="page-head">
        <h2 id="consent-dashboard-title">{t('consentDashboard.title')}</h2>
        <SelectField label={t('consentDashboard.period')} value={String(days)} onChange={(e) => setDays(Number(e.target.value))}>
          {[30, 90, 365].map((d) => (
            <option key={d} value={d}>
              {t('consentDashboard.lastDays', { days: d })}
            </option>
          ))}
        </SelectField>
      </div>
      {dashboard.isPending ? <Loading /> : null}
      <ErrorMessage error={dashboard.error} />
      {dashboard.data ? <Charts pid={pid} data={dashboard.data} /> : null}
    </section>
  );
}

function Charts({ pid, data }: { pid: string; data: Data }) {
  const { t } = useTranslation();
  const format = useFormat();
  const accepted = t('mk.status.accepted');
  const refused = t('mk.status.refused');
  const unanswered = t('mk.status.unanswered');

  const overTime = useMemo(() => {
    const labels = data.overTime.map((d) => format.date(d.date));
    const series = (name: string, values: number[]) => ({ name, type: 'line', stack: 'contacts', areaStyle: { opacity: 0.35 }, symbol: 'none', data: values });
    return {
      option: {
        color: STATUS_COLORS,
        tooltip: { trigger: 'axis' },
        legend: { top: 0 },
        grid: GRID,
        xAxis: { type: 'category', boundaryGap: false, data: labels },
        yAxis: { type: 'value', minInterval: 1 },
        series: [
          series(
            accepted,
            data.overTime.map((d) => d.accepted),
          ),
          series(
            refused,
            data.overTime.map((d) => d.refused),
          ),
          series(
            unanswered,
            data.overTime.map((d) => d.unanswered),
          ),
        ],
      },
      table: { columns: [t('consentDashboard.date'), accepted, refused, unanswered], rows: data.overTime.map((d, i) => [labels[i] ?? d.date, d.accepted, d.refused, d.unanswered]) },
    };
  }, [data.overTime, format, accepted, refused, unanswered, t]);

  const sendings = useMemo(() => [...data.sendings].reverse(), [data.sendings]);
  const perSending = useMemo(() => {
    const labels = sendings.map((s) => `${s.messageName} · ${format.date(s.at)}`);
    return {
      option: {
        tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
        legend: { top: 0 },
        grid: GRID,
        xAxis: { type: 'category', data: labels, axisLabel: { width: 110, overflow: 'truncate', interval: 0 } },
        yAxis: { type: 'value', minInterval: 1 },
        series: [
          { name: t('consentDashboard.refusals'), type: 'bar', data: sendings.map((s) => s.refusals), itemStyle: { color: '#b91c1c' } },
          { name: t('consentDashboard.optOuts'), type: 'bar', data: sendings.map((s) => s.optOuts), itemStyle: { color: '#c2410c' } },
        ],
      },
      table: {
        columns: [t('consentDashboard.sending'), t('consentDashboard.refusals'), t('consentDashboard.optOuts')],
        rows: sendings.map((s, i) => [labels[i] ?? s.sendingId, s.refusals, s.optOuts]),
      },
    };
  }, [sendings, format, t]);

  const sources = useMemo(() => {
    const labels = data.sources.map((s) => t(`consentDashboard.sources.${s.source}`));
    return {
      option: {
        tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
        legend: { top: 0 },
        grid: GRID,
        xAxis: { type: 'value', minInterval: 1 },
        yAxis: { type: 'category', data: labels },
        series: [
          { name: t('consentDashboard.acceptances'), type: 'bar', stack: 'source', data: data.sources.map((s) => s.accepted), itemStyle: { color: '#047857' } },
          { name: t('consentDashboard.refusalsAll'), type: 'bar', stack: 'source', data: data.sources.map((s) => s.refused), itemStyle: { color: '#b91c1c' } },
          { name: t('consentDashboard.resets'), type: 'bar', stack: 'source', data: data.sources.map((s) => s.reset), itemStyle: { color: '#4b5563' } },
        ],
      },
      table: {
        columns: [t('consentDashboard.source'), t('consentDashboard.acceptances'), t('consentDashboard.refusalsAll'), t('consentDashboard.resets')],
        rows: data.sources.map((s, i) => [labels[i] ?? s.source, s.accepted, s.refused, s.reset]),
      },
      height: Math.max(180, 70 + data.sources.length * 40),
    };
  }, [data.sources, t]);

  const share = useMemo(() => {
    const labels = sendings.map((s) => `${s.messageName} · ${format.date(s.at)}`);
    return {
      option: {
        tooltip: { trigger: 'axis', valueFormatter: (v: number) => `${v} %` },
        grid: GRID,
        xAxis: { type: 'category', data: labels, axisLabel: { width: 110, overflow: 'truncate', interval: 0 } },
        yAxis: { type: 'value', max: 100, axisLabel: { formatter: '{value} %' } },
        series: [{ name: t('consentDashboard.trackedShare'), type: 'bar', data: sendings.map((s) => Math.round(s.trackedShare * 1000) / 10), itemStyle: { color: '#1d4ed8' } }],
      },
      table: {
        columns: [t('consentDashboard.sending'), t('sending.targeted'), t('sending.tracked'), t('sending.untracked'), t('consentDashboard.trackedShare')],
        rows: sendings.map((s, i) => [labels[i] ?? s.sendingId, s.targeted, s.tracked, s.untracked, format.percent(s.trackedShare)]),
      },
    };
  }, [sendings, format, t]);

  const n = data.now;
  return (
    <>
      {!data.tracking.enabled ? <p className="note untracked">{t('consentDashboard.moduleOff')}</p> : null}
      <Figures
        size="small"
        items={[
          { label: t('dashboard.contacts'), value: format.number(n.contacts) },
          { label: accepted, value: format.number(n.accepted) },
          { label: refused, value: format.number(n.refused) },
          { label: unanswered, value: format.number(n.unanswered) },
          { label: t('sending.tracked'), value: format.number(n.tracked) },
          { label: t('sending.untracked'), value: format.number(n.untracked) },
        ]}
      />
      <div className="chart-grid">
        <Chart label={t('consentDashboard.overTime')} option={overTime.option} table={overTime.table} />
        {sendings.length > 0 ? (
          <Chart label={t('consentDashboard.perSending')} option={perSending.option} table={perSending.table} />
        ) : (
          <p className="empty">{t('dashboard.noSendings')}</p>
        )}
        {data.sources.length > 0 ? <Chart label={t('consentDashboard.bySource')} option={sources.option} table={sources.table} height={sources.height} /> : <p className="empty">{t('consentDashboard.noChanges')}</p>}
        {sendings.length > 0 ? <Chart label={t('consentDashboard.shareOfSendings')} option={share.option} table={share.table} /> : null}
      </div>
      {data.sendings.length > 0 ? (
        <p className="hint">
          {t('consentDashboard.sendingsNote')}{' '}
          <Link to={`/projects/${pid}/sendings`}>{t('sendings.title')}</Link>
        </p>
      ) : null}
    </>
  );
}
