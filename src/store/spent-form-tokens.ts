import type { Db } from './database.js';

/* Form CSRF tokens spent on a state change: each works once. */

/** Records a token as spent; false when it already was (a replay). */
export async function spendFormToken(db: Db, id: string, expiresAt: number): Promise<boolean> {
  const row = await db.insertInto('spent_form_tokens').values({ id, expires_at: expiresAt }).onConflict((oc) => oc.column('id').doNothing()).returning('id').executeTakeFirst();
  return row !== undefined;
}

/** Forgets the tokens that have expired anyway; returns how many. */
export async function purgeSpentFormTokens(db: Db, now: number): Promise<number> {
  const result = await db.deleteFrom('spent_form_tokens').where('expires_at', '<', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}
