/*
 * The figures the benches hold against their targets, gathered as they run so
 * that `npm run bench` ends with one table (bench/run.ts prints it).
 */

export interface BenchFigure {
  /** What was measured, e.g. `import sqlite`. */
  name: string;
  /** The run's size, e.g. `1,000,000 rows`. */
  size?: string;
  figure: string;
  target: string;
  /** null: a figure reported without a target. */
  pass: boolean | null;
}

const figures: BenchFigure[] = [];

export function record(figure: BenchFigure): void {
  figures.push(figure);
}

/** The gathered figures as a Markdown table (readable as is in a terminal, and pasted into the README). */
export function summaryTable(): string {
  const head = ['bench', 'size', 'figure', 'target', 'result'];
  const rows = figures.map((f) => [f.name, f.size ?? '', f.figure, f.target, f.pass === null ? '–' : f.pass ? 'pass' : 'FAIL']);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function recordedCount(): number {
  return figures.length;
}
