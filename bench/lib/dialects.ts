import type { DialectName } from '../../test/helpers/harness.js';

/**
 * The dialects a bench runs on: SQLite, and PostgreSQL when TEST_DATABASE_URL is set.
 * BENCH_DIALECTS=postgres (or sqlite) narrows it, e.g. to profile one engine.
 */
export function benchDialects(name: string): DialectName[] {
  const only = process.env.BENCH_DIALECTS?.split(',').map((d) => d.trim());
  const wanted = (d: DialectName) => !only || only.includes(d);
  const out: DialectName[] = [];
  if (wanted('sqlite')) out.push('sqlite');
  if (wanted('postgres')) {
    if (process.env.TEST_DATABASE_URL) out.push('postgres');
    else process.stdout.write(`${name} postgres: skipped (set TEST_DATABASE_URL)\n`);
  }
  return out;
}
