import type { EChartsCoreOption, EChartsType } from 'echarts/core';
import { useEffect, useId, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';

/** Colours with at least 3:1 contrast on white, in the order series take them. */
export const CHART_COLORS = ['#1d4ed8', '#c2410c', '#047857', '#7c3aed', '#4b5563', '#b91c1c'] as const;

export interface ChartTable {
  columns: string[];
  rows: (string | number)[][];
}

/**
 * One chart (ECharts, SVG renderer), loaded on first use. A chart is an image to assistive
 * technology (`label` says what it shows); the same figures are one click away as a table.
 */
export function Chart({ option, label, table, height = 260 }: { option: EChartsCoreOption; label: string; table: ChartTable; height?: number }) {
  const { t } = useTranslation();
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<EChartsType | null>(null);
  const [failed, setFailed] = useState(false);
  const latest = useRef(option);
  latest.current = option;
  const captionId = useId();

  useEffect(() => {
    let disposed = false;
    let observer: ResizeObserver | undefined;
    import('./echarts-setup')
      .then(({ echarts }) => {
        if (disposed || !box.current) return;
        const instance = echarts.init(box.current, null, { renderer: 'svg' });
        instance.setOption(withDefaults(latest.current));
        chart.current = instance;
        observer = new ResizeObserver(() => instance.resize());
        observer.observe(box.current);
      })
      .catch(() => setFailed(true));
    return () => {
      disposed = true;
      observer?.disconnect();
      chart.current?.dispose();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    chart.current?.setOption(withDefaults(option), { notMerge: true });
  }, [option]);

  return (
    <figure className="chart" aria-labelledby={captionId}>
      <figcaption id={captionId}>{label}</figcaption>
      {failed ? <p className="error">{t('charts.failed')}</p> : <div ref={box} className="chart-box" role="img" aria-label={label} style={{ height }} />}
      <details className="chart-data">
        <summary>{t('charts.showData')}</summary>
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                {table.columns.map((c, i) => (
                  <th key={c} className={i > 0 ? 'num' : undefined} scope="col">
                    {c}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {table.rows.map((row, r) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: rows of a figures table have no identity of their own
                <tr key={r}>
                  {row.map((cell, i) => (
                    // biome-ignore lint/suspicious/noArrayIndexKey: cells are positional
                    <td key={i} className={i > 0 ? 'num' : undefined}>
                      {cell}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}

function withDefaults(option: EChartsCoreOption): EChartsCoreOption {
  return {
    color: [...CHART_COLORS],
    animationDuration: 300,
    textStyle: { fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif', color: '#1c1f24' },
    ...option,
  };
}
