import { sql } from 'kysely';
import type { Db } from './database.js';

/*
 * The consent wordings forms showed (issue 12 item 14), stored once per
 * project under the SHA-256 the consent history keeps as `wording_hash`.
 */

export interface ShownWording {
  hash: string;
  text: string;
  lang: string;
  /** When a person was shown it (epoch ms). */
  shownAt: number;
}

export interface ConsentWording {
  hash: string;
  text: string;
  lang: string;
  firstShownAt: number;
}

/**
 * Stores wordings not stored yet, in the caller's transaction; a wording
 * already stored keeps its text and language and its earliest `first_shown_at`.
 */
export async function storeWordings(trx: Db, projectId: number, wordings: ShownWording[]): Promise<void> {
  const unique = new Map<string, ShownWording>();
  for (const w of wordings) {
    const seen = unique.get(w.hash);
    if (!seen || w.shownAt < seen.shownAt) unique.set(w.hash, w);
  }
  for (const w of unique.values()) {
    await trx
      .insertInto('consent_wordings')
      .values({ project_id: projectId, hash: w.hash, text: w.text, lang: w.lang, first_shown_at: w.shownAt })
      .onConflict((oc) =>
        oc.columns(['project_id', 'hash']).doUpdateSet({
          // CASE rather than MIN/LEAST: the one spelling both engines read.
          first_shown_at: sql<number>`CASE WHEN excluded.first_shown_at < consent_wordings.first_shown_at THEN excluded.first_shown_at ELSE consent_wordings.first_shown_at END`,
        }),
      )
      .execute();
  }
}

export async function getWording(db: Db, projectId: number, hash: string): Promise<ConsentWording | undefined> {
  const row = await db.selectFrom('consent_wordings').selectAll().where('project_id', '=', projectId).where('hash', '=', hash).executeTakeFirst();
  return row && { hash: row.hash, text: row.text, lang: row.lang, firstShownAt: Number(row.first_shown_at) };
}
