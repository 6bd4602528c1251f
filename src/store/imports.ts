import type { Insertable, Selectable, Updateable } from 'kysely';
import type { Db } from './database.js';
import type { ImportRejectTable, ImportTable } from './schema.js';

export type ImportRow = Selectable<ImportTable>;
export type ImportRejectRow = Selectable<ImportRejectTable>;

export async function insertImport(db: Db, values: Insertable<ImportTable>): Promise<number> {
  const row = await db.insertInto('imports').values(values).returning('id').executeTakeFirstOrThrow();
  return row.id;
}

export async function updateImport(db: Db, projectId: number, id: number, values: Updateable<ImportTable>): Promise<void> {
  await db.updateTable('imports').set(values).where('project_id', '=', projectId).where('id', '=', id).execute();
}

export async function getImport(db: Db, projectId: number, id: number): Promise<ImportRow | undefined> {
  return db.selectFrom('imports').selectAll().where('project_id', '=', projectId).where('id', '=', id).executeTakeFirst();
}

export async function insertImportRejects(db: Db, rows: Insertable<ImportRejectTable>[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 500) {
    await db.insertInto('import_rejects').values(rows.slice(i, i + 500)).execute();
  }
}

/** An import's rejected lines in line order, a page at a time, so a long report never sits whole in memory. */
export async function* iterateImportRejects(db: Db, projectId: number, importId: number, pageSize = 2000): AsyncGenerator<ImportRejectRow> {
  let after = 0;
  let skip = 0;
  for (;;) {
    // Lines are not unique (a parse error and a row may share one), so the
    // cursor is a line plus how many rows of that line were already read.
    const rows = await db
      .selectFrom('import_rejects')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('import_id', '=', importId)
      .where('line', '>=', after)
      .orderBy('line')
      .limit(pageSize + skip)
      .execute();
    const page = rows.slice(skip);
    for (const row of page) yield row;
    if (rows.length < pageSize + skip) return;
    const last = rows[rows.length - 1]!.line;
    skip = rows.filter((r) => r.line === last).length;
    after = last;
  }
}

/** A project's imports, newest first, keyset-paged on the id (`before`: the last id of the previous page). */
export async function listImports(db: Db, projectId: number, options: { before?: number | undefined; limit: number }): Promise<ImportRow[]> {
  let q = db.selectFrom('imports').selectAll().where('project_id', '=', projectId);
  if (options.before !== undefined) q = q.where('id', '<', options.before);
  return q.orderBy('id', 'desc').limit(options.limit).execute();
}

/** The first `limit` rejected lines of an import, for its report. */
export function firstImportRejects(db: Db, projectId: number, importId: number, limit: number): Promise<{ line: number; reason: string; raw: string }[]> {
  return db
    .selectFrom('import_rejects')
    .select(['line', 'reason', 'raw'])
    .where('project_id', '=', projectId)
    .where('import_id', '=', importId)
    .orderBy('line')
    .limit(limit)
    .execute();
}
