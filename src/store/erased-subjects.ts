import type { Db } from './database.js';

/*
 * The suppression list of erasure (issue 12 item 13): salted email hashes of
 * erased contacts, per project. An import or merge that would bring such an
 * address back is rejected unless the person asked to come back.
 */

/** Adds (or refreshes) an erased address, in the erasure's transaction. */
export async function suppressSubject(trx: Db, projectId: number, subjectHash: string, erasedAt: number, ledgerSeq: number): Promise<void> {
  await trx
    .insertInto('erased_subjects')
    .values({ project_id: projectId, subject_hash: subjectHash, erased_at: erasedAt, ledger_seq: ledgerSeq })
    .onConflict((oc) => oc.columns(['project_id', 'subject_hash']).doUpdateSet({ erased_at: erasedAt, ledger_seq: ledgerSeq }))
    .execute();
}

/** Which of these hashes are on the project's suppression list. */
export async function suppressedSubjects(db: Db, projectId: number, hashes: string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (let i = 0; i < hashes.length; i += 1000) {
    const rows = await db
      .selectFrom('erased_subjects')
      .select('subject_hash')
      .where('project_id', '=', projectId)
      .where('subject_hash', 'in', hashes.slice(i, i + 1000))
      .execute();
    for (const row of rows) found.add(row.subject_hash);
  }
  return found;
}

/** Takes addresses off the list: the people came back. */
export async function liftSuppression(trx: Db, projectId: number, hashes: string[]): Promise<void> {
  for (let i = 0; i < hashes.length; i += 1000) {
    await trx.deleteFrom('erased_subjects').where('project_id', '=', projectId).where('subject_hash', 'in', hashes.slice(i, i + 1000)).execute();
  }
}
