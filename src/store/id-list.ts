import { PostgresAdapter, type RawBuilder, sql } from 'kysely';
import type { Db } from './database.js';

/**
 * A list of ids or values as ONE bound parameter, for `x IN (…)`: SQLite caps a statement's
 * placeholders (32,766) and its expression depth (1,000), and a statement text per list length
 * defeats the statement cache. SQLite reads the JSON array with `json_each`, PostgreSQL unnests an array.
 *
 * @example db.selectFrom('contacts').where('id', 'in', idList(db, [1, 2, 3]))
 */
export function idList(db: Db, ids: readonly number[]): RawBuilder<number> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) return sql<number>`(SELECT unnest(CAST(${[...ids]} AS bigint[])))`;
  return sql<number>`(SELECT value FROM json_each(${JSON.stringify(ids)}))`;
}
