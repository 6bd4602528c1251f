import { CompiledQuery, type Kysely } from 'kysely';
import type { Db } from './database.js';
import type { Database } from './schema.js';

// Kysely builds an operation tree node per value: for batches of thousands of
// rows that costs more than running the statement. The SQL text of a batch of
// a given shape is compiled once by Kysely (so it stays one query for both
// dialects) and reused with fresh parameters.
const texts = new WeakMap<object, Map<string, string>>();

/** Compiles `build()` once per dialect and shape `key`, and returns it with `parameters`. */
export function compileShaped(db: Db, key: string, build: () => CompiledQuery, parameters: unknown[]): CompiledQuery {
  const adapter = db.getExecutor().adapter;
  let byKey = texts.get(adapter);
  if (!byKey) {
    byKey = new Map();
    texts.set(adapter, byKey);
  }
  let text = byKey.get(key);
  if (text === undefined) {
    const compiled = build();
    if (compiled.parameters.length !== parameters.length) {
      throw new Error(`bulk statement ${key}: ${compiled.parameters.length} placeholders for ${parameters.length} values`);
    }
    text = compiled.sql;
    byKey.set(key, text);
  }
  return CompiledQuery.raw(text, parameters);
}

/** Compiles `build()` once per dialect and shape `key`, then runs it with `parameters`. */
export async function executeShaped<R>(db: Db, key: string, build: () => CompiledQuery, parameters: unknown[]): Promise<R[]> {
  const result = await db.executeQuery<R>(compileShaped(db, key, build, parameters));
  return result.rows;
}

/**
 * Inserts rows given as value arrays in `columns` order, optionally returning columns.
 *
 * @example await bulkInsert(trx, 'contacts', ['project_id', 'email'], [[1, 'a@example.com']], ['id'])
 */
export async function bulkInsert<T extends keyof Database & string>(
  db: Db,
  table: T,
  columns: readonly (keyof Database[T] & string)[],
  rows: unknown[][],
  returning: readonly (keyof Database[T] & string)[] = [],
): Promise<Record<string, unknown>[]> {
  if (rows.length === 0) return [];
  const key = `insert:${table}:${columns.join(',')}:${rows.length}:${returning.join(',')}`;
  const parameters: unknown[] = [];
  for (const row of rows) for (const value of row) parameters.push(value);
  return executeShaped<Record<string, unknown>>(
    db,
    key,
    () => {
      const placeholder = Object.fromEntries(columns.map((c) => [c, 0]));
      // The table is generic here; the placeholder count check above guards the shape.
      const untyped = db as unknown as Kysely<Record<string, Record<string, unknown>>>;
      const query = untyped.insertInto(table).values(rows.map(() => placeholder));
      return (returning.length > 0 ? query.returning([...returning] as string[]) : query).compile();
    },
    parameters,
  );
}

/** {@link bulkInsert} compiled but not run, for a batch handed to another executor. */
export function compileBulkInsert<T extends keyof Database & string>(db: Db, table: T, columns: readonly (keyof Database[T] & string)[], rows: unknown[][]): CompiledQuery {
  const key = `insert:${table}:${columns.join(',')}:${rows.length}:`;
  const parameters: unknown[] = [];
  for (const row of rows) for (const value of row) parameters.push(value);
  return compileShaped(db, key, () => {
    const placeholder = Object.fromEntries(columns.map((c) => [c, 0]));
    const untyped = db as unknown as Kysely<Record<string, Record<string, unknown>>>;
    return untyped.insertInto(table).values(rows.map(() => placeholder)).compile();
  }, parameters);
}
