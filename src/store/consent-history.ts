import type { Selectable } from 'kysely';
import { entryHash, GENESIS_HASH, piiDigest, type StoredLedgerEntry } from '../domain/ledger.js';
import { bulkInsert } from './bulk.js';
import { copyRows, onPostgres } from './copy.js';
import type { Db } from './database.js';
import { keysetPages } from './paging.js';
import type { ConsentHistoryTable } from './schema.js';

/** One consent change to append to a project's hash-chained history. */
export interface NewConsentEntry {
  contactId: number | null;
  subjectHash: string | null;
  action: string;
  date: number;
  recordedAt: number;
  source: string;
  ip?: string | null;
  userAgent?: string | null;
  wordingHash?: string | null;
  detail?: string | null;
}

export type ConsentHistoryRow = Selectable<ConsentHistoryTable>;

/**
 * Takes the project's ledger lock for the rest of the transaction: an UPDATE
 * on its head row, a row lock on PostgreSQL and the write lock on SQLite.
 * Call it first in any transaction that appends to the history, changes a
 * project's settings or erases a contact: tracking batches read consent under
 * this lock (see consentLocks), which is what keeps consent exact across processes.
 */
export async function lockLedger(trx: Db, projectId: number): Promise<void> {
  await trx.updateTable('ledger_heads').set((eb) => ({ seq: eb.ref('seq') })).where('project_id', '=', projectId).execute();
}

export async function createLedgerHead(trx: Db, projectId: number, genesis: string): Promise<void> {
  await trx.insertInto('ledger_heads').values({ project_id: projectId, seq: 0, hash: genesis }).execute();
}

const HISTORY_COLUMNS = [
  'project_id',
  'seq',
  'contact_id',
  'subject_hash',
  'action',
  'date',
  'recorded_at',
  'source',
  'ip',
  'user_agent',
  'wording_hash',
  'detail',
  'pii_digest',
  'erased',
  'prev_hash',
  'hash',
] as const;

/** Appends entries in order, chaining each to the previous one. The caller holds {@link lockLedger}. */
export async function appendConsentEntries(trx: Db, projectId: number, entries: NewConsentEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const head = await trx.selectFrom('ledger_heads').select(['seq', 'hash']).where('project_id', '=', projectId).executeTakeFirstOrThrow();
  let { seq, hash } = head;
  const rows = entries.map((entry) => {
    seq += 1;
    const ip = entry.ip ?? null;
    const userAgent = entry.userAgent ?? null;
    const content = {
      projectId,
      seq,
      subjectHash: entry.subjectHash,
      action: entry.action,
      date: entry.date,
      recordedAt: entry.recordedAt,
      source: entry.source,
      wordingHash: entry.wordingHash ?? null,
      detail: entry.detail ?? null,
      piiDigest: piiDigest(entry.contactId, ip, userAgent),
    };
    const prevHash = hash;
    hash = entryHash(content, prevHash);
    return [
      projectId,
      seq,
      entry.contactId,
      content.subjectHash,
      content.action,
      content.date,
      content.recordedAt,
      content.source,
      ip,
      userAgent,
      content.wordingHash,
      content.detail,
      content.piiDigest,
      0,
      prevHash,
      hash,
    ];
  });
  // The chain is computed above, one entry after the other; only how the rows travel differs:
  // a large batch goes to PostgreSQL as one COPY (in the same order, so ids follow seq) instead of bound parameters.
  if (rows.length >= 64 && onPostgres(trx)) {
    await copyRows(trx, 'consent_history', HISTORY_COLUMNS, rows);
  } else {
    for (let i = 0; i < rows.length; i += 500) await bulkInsert(trx, 'consent_history', HISTORY_COLUMNS, rows.slice(i, i + 500));
  }
  await trx.updateTable('ledger_heads').set({ seq, hash }).where('project_id', '=', projectId).execute();
}

export async function listContactHistory(db: Db, projectId: number, contactId: number): Promise<ConsentHistoryRow[]> {
  return db
    .selectFrom('consent_history')
    .selectAll()
    .where('project_id', '=', projectId)
    .where('contact_id', '=', contactId)
    .orderBy('seq')
    .execute();
}

export function toStoredLedgerEntry(row: ConsentHistoryRow): StoredLedgerEntry {
  return {
    id: row.id,
    projectId: row.project_id,
    seq: row.seq,
    contactId: row.contact_id,
    subjectHash: row.subject_hash,
    action: row.action,
    date: row.date,
    recordedAt: row.recorded_at,
    source: row.source,
    ip: row.ip,
    userAgent: row.user_agent,
    wordingHash: row.wording_hash,
    detail: row.detail,
    piiDigest: row.pii_digest,
    erased: row.erased === 1,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/** Streams a project's entries in chain order, a page at a time, so a long history never sits whole in memory. */
export async function* iterateProjectHistory(db: Db, projectId: number, pageSize = 5000): AsyncGenerator<StoredLedgerEntry> {
  const page = (after: number, size: number) =>
    db.selectFrom('consent_history').selectAll().where('project_id', '=', projectId).where('seq', '>', after).orderBy('seq').limit(size).execute();
  // Starts below any sequence, so an entry forged with seq 0 or less is seen (and reported) too.
  for await (const rows of keysetPages(page, (row) => row.seq, pageSize, Number.MIN_SAFE_INTEGER)) {
    for (const row of rows) yield toStoredLedgerEntry(row);
  }
}

/** A project's chain head: the sequence and hash of its newest entry. */
export function ledgerHead(db: Db, projectId: number): Promise<{ seq: number; hash: string } | undefined> {
  return db.selectFrom('ledger_heads').select(['seq', 'hash']).where('project_id', '=', projectId).executeTakeFirst();
}

/**
 * Every project id the projects table, the chain heads or the history
 * mention, so entries forged under an unknown project are verified too.
 */
export async function ledgerProjectIds(db: Db): Promise<number[]> {
  const ids = new Set<number>();
  for (const table of ['projects', 'ledger_heads', 'consent_history'] as const) {
    const column = table === 'projects' ? 'id' : 'project_id';
    const rows = await db.selectFrom(table).select(`${column} as id`).distinct().execute();
    for (const row of rows) ids.add(row.id);
  }
  return [...ids].sort((a, b) => a - b);
}

/** One entry of a project's history by chain position, and the hash of the entry before it (genesis before the first). */
export async function historyEntryAt(db: Db, projectId: number, seq: number): Promise<{ entry: StoredLedgerEntry | null; previousHash: string | null }> {
  const rows = await db.selectFrom('consent_history').selectAll().where('project_id', '=', projectId).where('seq', 'in', [seq - 1, seq]).orderBy('seq').execute();
  const entry = rows.find((row) => row.seq === seq);
  const previous = rows.find((row) => row.seq === seq - 1);
  return { entry: entry ? toStoredLedgerEntry(entry) : null, previousHash: seq === 1 ? GENESIS_HASH : (previous?.hash ?? null) };
}

/** Chain position of a contact's newest entry; read in the transaction that appended it, it is that entry. */
export async function newestContactEntrySeq(db: Db, projectId: number, contactId: number): Promise<number | undefined> {
  const row = await db.selectFrom('consent_history').select('seq').where('project_id', '=', projectId).where('contact_id', '=', contactId).orderBy('seq', 'desc').limit(1).executeTakeFirst();
  return row?.seq;
}
