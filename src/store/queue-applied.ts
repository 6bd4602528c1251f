import type { CompiledQuery } from 'kysely';
import { compileBulkInsert } from './bulk.js';
import type { Db } from './database.js';

/** A queue message a batch applies: its id, and where it was pulled from (null: written directly). */
export interface AppliedMessage {
  id: string;
  stream: string | null;
  seq: number | null;
}

/** Insert sizes, as for events: a handful of statement shapes, each prepared once. */
const CHUNKS = [256, 64, 16, 4, 1];

/** The read that finds which of `ids` are applied already (rows: [id], in id order). */
export function compileAppliedRead(db: Db, ids: string[]): CompiledQuery {
  return db.selectFrom('queue_applied').select('id').where('id', 'in', ids).orderBy('id').compile();
}

/** The inserts recording `messages` as applied at `now`, for the batch's own transaction. */
export function compileApplied(db: Db, messages: AppliedMessage[], now: number): CompiledQuery[] {
  const queries: CompiledQuery[] = [];
  let offset = 0;
  for (const size of CHUNKS) {
    for (; messages.length - offset >= size; offset += size) {
      const rows = messages.slice(offset, offset + size).map((m) => [m.id, m.stream, m.seq, now]);
      queries.push(compileBulkInsert(db, 'queue_applied', ['id', 'stream', 'seq', 'applied_at'], rows));
    }
  }
  return queries;
}

/**
 * Removes at most `limit` rows the stream can no longer redeliver: those of `stream` at or below its
 * acknowledgement floor, and any applied before `before`. Returns how many went.
 */
export async function purgeApplied(db: Db, stream: string, ackFloor: number, before: number, limit: number): Promise<number> {
  const doomed = db
    .selectFrom('queue_applied')
    .select('id')
    .where((eb) => eb.or([eb.and([eb('stream', '=', stream), eb('seq', '<=', ackFloor)]), eb('applied_at', '<', before)]))
    .limit(limit);
  const result = await db.deleteFrom('queue_applied').where('id', 'in', doomed).executeTakeFirst();
  return Number(result.numDeletedRows);
}
