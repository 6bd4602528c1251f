import { CompiledQuery, PostgresAdapter } from 'kysely';
import type { Db } from './database.js';

/*
 * PostgreSQL bulk writes through `COPY … FROM STDIN` (pg-copy-streams). A batch
 * of thousands of rows as one multi-row INSERT costs PostgreSQL a bind of every
 * parameter and the planning of a statement as long as the batch; COPY streams
 * the rows as text and is several times cheaper. Kysely knows nothing of COPY,
 * so the rows travel as the one parameter of the COPY statement, a
 * {@link CopyPayload}, and the pool wrapper in database.ts streams it on the
 * transaction's own connection.
 */

/** The rows of one COPY, in PostgreSQL's text format. */
export class CopyPayload {
  constructor(
    readonly text: string,
    readonly rowCount: number,
  ) {}
}

/** True when `db` (or a transaction of it) runs on PostgreSQL. */
export function onPostgres(db: Db): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

const SPECIAL = /[\\\n\r\t]/;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** One value in COPY's text format: `\N` for NULL, backslash, tab and line breaks escaped. */
export function copyField(value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  const text = typeof value === 'string' ? value : String(value);
  return SPECIAL.test(text) ? text.replace(/[\\\n\r\t]/g, (c) => ESCAPES[c] as string) : text;
}

/** Rows of values (in `columns` order) as a COPY payload. */
export function copyPayload(rows: readonly (readonly unknown[])[]): CopyPayload {
  let text = '';
  for (const row of rows) {
    let line = '';
    for (let i = 0; i < row.length; i += 1) line += (i === 0 ? '' : '\t') + copyField(row[i]);
    text += `${line}\n`;
  }
  return new CopyPayload(text, rows.length);
}

/**
 * Streams rows into `table` (a real or a temporary table) with COPY, on the
 * connection of `db` (call it with a transaction). PostgreSQL only.
 *
 * @example await copyRows(trx, 'consent_history', ['project_id', 'seq'], [[1, 1]])
 */
export async function copyRows(db: Db, table: string, columns: readonly string[], rows: readonly (readonly unknown[])[]): Promise<void> {
  if (rows.length === 0) return;
  await db.executeQuery(CompiledQuery.raw(`COPY ${table} (${columns.join(', ')}) FROM STDIN`, [copyPayload(rows)]));
}
