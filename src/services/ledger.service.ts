import { type ChainBreak, chainVerifier } from '../domain/ledger.js';
import { iterateProjectHistory } from '../store/consent-history.js';
import type { Db } from '../store/database.js';

export interface LedgerReport {
  projectId: number;
  entries: number;
  broken: ChainBreak | null;
}

/** Walks every project's consent-history chain (`trackguard ledger verify`). */
export async function verifyLedgers(db: Db, onProject?: (report: LedgerReport) => void): Promise<LedgerReport[]> {
  const projects = await db.selectFrom('projects').select('id').orderBy('id').execute();
  const reports: LedgerReport[] = [];
  for (const { id } of projects) {
    const verifier = chainVerifier();
    let entries = 0;
    let broken: ChainBreak | null = null;
    for await (const entry of iterateProjectHistory(db, id)) {
      entries += 1;
      broken = verifier.check(entry);
      if (broken) break;
    }
    if (!broken) {
      const head = await db.selectFrom('ledger_heads').select(['seq', 'hash']).where('project_id', '=', id).executeTakeFirst();
      broken = verifier.finish(head ?? null);
    }
    const report = { projectId: id, entries, broken };
    onProject?.(report);
    reports.push(report);
  }
  return reports;
}
