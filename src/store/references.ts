import type { Db } from './database.js';
import type { Database } from './schema.js';
import { idList } from './id-list.js';

/** Project-owned tables another object may name by id. */
export type ReferencedTable = keyof Pick<Database, 'injection_rules' | 'sendings' | 'messages' | 'forms'>;

/**
 * The ids of `ids` that are not rows of `table` in this project: an id of
 * another project is as unknown as one that never existed, so an object never
 * names what its project cannot see.
 */
export async function missingIds(db: Db, table: ReferencedTable, projectId: number, ids: readonly number[]): Promise<number[]> {
  const wanted = [...new Set(ids)];
  if (wanted.length === 0) return [];
  const found = await db
    .selectFrom(table)
    .select('id')
    .where('project_id', '=', projectId)
    .where('id', 'in', idList(db, wanted))
    .execute();
  const present = new Set(found.map((row) => Number(row.id)));
  return wanted.filter((id) => !present.has(id));
}
