import { type ChainBreak, chainVerifier } from '../domain/ledger.js';
import { iterateProjectHistory, ledgerHead, ledgerProjectIds } from '../store/consent-history.js';
import type { Db } from '../store/database.js';

export interface LedgerReport {
  projectId: number;
  entries: number;
  broken: ChainBreak | null;
}

/**
 * Walks every project's consent-history chain (`trackguard ledger verify`).
 * Each project is read in one snapshot (a repeatable-read transaction), so
 * entries appended while it runs are never mistaken for tampering. Projects
 * are the union of the projects table and every project id the history and
 * heads mention, so entries forged under an unknown project are seen too.
 */
export async function verifyLedgers(db: Db, onProject?: (report: LedgerReport) => void): Promise<LedgerReport[]> {
  const reports: LedgerReport[] = [];
  for (const id of await ledgerProjectIds(db)) {
    const report = await verifyProjectLedger(db, id);
    onProject?.(report);
    reports.push(report);
  }
  return reports;
}

/** Walks one project's consent-history chain in one snapshot (the app's ledger verification). */
export async function verifyProjectLedger(db: Db, projectId: number): Promise<LedgerReport> {
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute(async (trx) => {
      const head = await ledgerHead(trx, projectId);
      const verifier = chainVerifier(head ?? null);
      let entries = 0;
      let broken: ChainBreak | null = null;
      for await (const entry of iterateProjectHistory(trx, projectId)) {
        entries += 1;
        broken = verifier.check(entry);
        if (broken) break;
      }
      return { projectId, entries, broken: broken ?? verifier.finish() };
    });
}
