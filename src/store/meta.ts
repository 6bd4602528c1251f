import type { CompiledQuery } from 'kysely';
import type { Db } from './database.js';

/*
 * The installation's key-value table (`meta`): values every process of one
 * installation shares (the admin key's hash, the hit journals' committed
 * batches, the server's public URL).
 */

export async function getMeta(db: Db, key: string): Promise<string | undefined> {
  const row = await db.selectFrom('meta').select('value').where('key', '=', key).executeTakeFirst();
  return row?.value;
}

/** Stores `value` under `key` unless a value is there already; true when this call stored it. */
export async function insertMetaIfAbsent(db: Db, key: string, value: string): Promise<boolean> {
  const inserted = await db.insertInto('meta').values({ key, value }).onConflict((oc) => oc.column('key').doNothing()).returning('key').executeTakeFirst();
  return inserted !== undefined;
}

/** The upsert of `key`, compiled to run inside another batch of statements. */
export function compileSetMeta(db: Db, key: string, value: string): CompiledQuery {
  return db
    .insertInto('meta')
    .values({ key, value })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
    .compile();
}

export async function setMeta(db: Db, key: string, value: string): Promise<void> {
  await db.executeQuery(compileSetMeta(db, key, value));
}

export async function deleteMeta(db: Db, key: string): Promise<void> {
  await db.deleteFrom('meta').where('key', '=', key).execute();
}
