import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import type { Report } from '../../api/sendings';
import { Chart } from '../../ui/chart';
import { useFormat } from '../../ui/use-format';

/** A long URL shortened for an axis label (the table under the chart keeps it whole). */
const shortUrl = (url: string) => {
  const bare = url.replace(/^https?:\/\//, '');
  return bare.length > 40 ? `${bare.slice(0, 38)}…` : bare;
};

const GRID = { left: 8, right: 16, top: 36, bottom: 8, containLabel: true };

/** The four result charts: over time, per link, human vs machine, tracked vs anonymous. Counts only. */
export function ResultCharts({ report }: { report: Report }) {
  const { t } = useTranslation();
  const format = useFormat();
  const opens = t('sending.opens');
  const clicks = t('sending.clicks');

  const timeline = useMemo(() => {
    const labels = report.timeline.map((p) => format.hour(p.at));
    return {
      option: {
        tooltip: { trigger: 'axis' },
        legend: { top: 0 },
        grid: GRID,
        xAxis: { type: 'category', data: labels },
        yAxis: { type: 'value', minInterval: 1 },
        series: [
          { name: opens, type: 'bar', data: report.timeline.map((p) => p.opens) },
          { name: clicks, type: 'bar', data: report.timeline.map((p) => p.clicks) },
        ],
      },
      table: { columns: [t('sending.hour'), opens, clicks], rows: report.timeline.map((p, i) => [labels[i] ?? p.at, p.opens, p.clicks]) },
    };
  }, [report.timeline, format, opens, clicks, t]);

  const links = useMemo(() => {
    const rows = [...report.links].reverse();
    return {
      option: {
        tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
        legend: { top: 0 },
        grid: GRID,
        xAxis: { type: 'value', minInterval: 1 },
        yAxis: { type: 'category', data: rows.map((l) => shortUrl(l.url)), axisLabel: { width: 180, overflow: 'truncate' } },
        series: [
          { name: t('sending.uniqueClicks'), type: 'bar', data: rows.map((l) => l.unique) },
          { name: t('sending.totalClicks'), type: 'bar', data: rows.map((l) => l.total) },
        ],
      },
      table: { columns: [t('sending.link'), t('sending.uniqueClicks'), t('sending.totalClicks'), t('sending.machine')], rows: report.links.map((l) => [l.url, l.unique, l.total, l.machine]) },
      height: Math.max(160, 60 + report.links.length * 44),
    };
  }, [report.links, t]);

  const machine = useMemo(
    () => ({
      option: {
        tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
        legend: { top: 0 },
        grid: GRID,
        xAxis: { type: 'category', data: [opens, clicks] },
        yAxis: { type: 'value', minInterval: 1 },
        series: [
          { name: t('sending.human'), type: 'bar', stack: 'who', data: [report.opens.human, report.clicks.human] },
          { name: t('sending.machine'), type: 'bar', stack: 'who', data: [report.opens.machine, report.clicks.machine] },
        ],
      },
      table: {
        columns: ['', t('sending.human'), t('sending.machine')],
        rows: [
          [opens, report.opens.human, report.opens.machine],
          [clicks, report.clicks.human, report.clicks.machine],
        ],
      },
    }),
    [report.opens, report.clicks, opens, clicks, t],
  );

  const share = useMemo(() => {
    const recipients = t('sending.recipients');
    const categories = [recipients, opens, clicks];
    const tracked = [report.recipients.tracked, report.tracking.opens.tracked, report.tracking.clicks.tracked];
    const anonymous = [report.recipients.untracked, report.tracking.opens.anonymous, report.tracking.clicks.anonymous];
    const percentOf = (i: number, v: number) => {
      const total = (tracked[i] ?? 0) + (anonymous[i] ?? 0);
      return total === 0 ? 0 : Math.round((v / total) * 1000) / 10;
    };
    return {
      option: {
        tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: (v: number) => `${v} %` },
        legend: { top: 0 },
        grid: GRID,
        xAxis: { type: 'value', max: 100, axisLabel: { formatter: '{value} %' } },
        yAxis: { type: 'category', data: categories },
        series: [
          { name: t('sending.trackedPart'), type: 'bar', stack: 'share', data: tracked.map((v, i) => percentOf(i, v)) },
          { name: t('sending.anonymousPart'), type: 'bar', stack: 'share', data: anonymous.map((v, i) => percentOf(i, v)) },
        ],
      },
      table: {
        columns: ['', t('sending.trackedPart'), t('sending.anonymousPart')],
        rows: categories.map((c, i) => [c, tracked[i] ?? 0, anonymous[i] ?? 0]),
      },
    };
  }, [report.recipients, report.tracking, opens, clicks, t]);

  return (
    <div className="chart-grid">
      <Chart label={t('sending.charts.timeline')} option={timeline.option} table={timeline.table} />
      <Chart label={t('sending.charts.links')} option={links.option} table={links.table} height={links.height} />
      <Chart label={t('sending.charts.machine')} option={machine.option} table={machine.table} />
      <Chart label={t('sending.charts.share')} option={share.option} table={share.table} height={220} />
    </div>
  );
}
