import type { CompiledQuery } from 'kysely';
import type { Db } from './database.js';
import { idList } from './id-list.js';
import type { Dialect } from './migrations/index.js';

/*
 * The rows a tracking batch decides identified vs anonymous on (SPEC §2 rule
 * 4, §8): its projects' settings and its candidate contacts' consent. The
 * same reads run inside the batch's transaction, under lock, to check the
 * decision (see BatchPlan), and on the reader to fill the view.
 */

/** Which projects and contacts a batch's decision depends on. */
export interface ConsentSubjects {
  /** Project ids, ascending. */
  projects: number[];
  /** Project id → candidate contact ids, ascending. */
  contacts: Map<number, number[]>;
}

/** The values a decision was made on, keyed as the reads return them. */
export interface ConsentView {
  /** Project id → its settings JSON as stored; absent: no such project. */
  settings: Map<number, string>;
  /** `${projectId}:${contactId}` → `has_tracking_consent` (1 / 0 / NULL); absent: no such contact. */
  consent: Map<string, number | null>;
}

export const consentKey = (projectId: number, contactId: number): string => `${projectId}:${contactId}`;

const CHUNK = 500;

type Read = { kind: 'projects'; ids: number[] } | { kind: 'contacts'; projectId: number; ids: number[] };

function readsOf(subjects: ConsentSubjects): Read[] {
  const reads: Read[] = [];
  for (let i = 0; i < subjects.projects.length; i += CHUNK) reads.push({ kind: 'projects', ids: subjects.projects.slice(i, i + CHUNK) });
  for (const projectId of [...subjects.contacts.keys()].sort((a, b) => a - b)) {
    const ids = subjects.contacts.get(projectId) ?? [];
    for (let i = 0; i < ids.length; i += CHUNK) reads.push({ kind: 'contacts', projectId, ids: ids.slice(i, i + CHUNK) });
  }
  return reads;
}

/**
 * The locks a batch takes before its reads. Every transaction that changes a
 * contact's consent, a project's settings or erases a contact takes the
 * project's ledger lock first (lockLedger: an UPDATE of its `ledger_heads`
 * row), because each of them appends to or rewrites the consent history. On
 * PostgreSQL the batch reads those rows `FOR SHARE`, in project order: a
 * change in progress makes the batch wait and then read its result, and a
 * change that starts later waits for the batch to commit, so its reach-back
 * sees the batch's events. One row lock per project per batch, not one per
 * contact. SQLite needs none: the batch's IMMEDIATE transaction holds the
 * database's one write lock, which every such change needs too.
 */
export function consentLocks(db: Db, dialect: Dialect, subjects: ConsentSubjects): CompiledQuery[] {
  if (dialect !== 'postgres' || subjects.projects.length === 0) return [];
  return [db.selectFrom('ledger_heads').select('project_id').where('project_id', 'in', subjects.projects).orderBy('project_id').forShare().compile()];
}

/** The reads, compiled (in {@link consentLocks}'s order); each list is one parameter, so the SQLite writer reuses one prepared statement. */
export function consentReads(db: Db, subjects: ConsentSubjects): CompiledQuery[] {
  return readsOf(subjects).map((read) =>
    read.kind === 'projects'
      ? db.selectFrom('projects').select(['id', 'settings']).where('id', 'in', idList(db, read.ids)).orderBy('id').compile()
      : db
          .selectFrom('contacts')
          .select(['id', 'has_tracking_consent'])
          .where('project_id', '=', read.projectId)
          .where('id', 'in', idList(db, read.ids))
          .orderBy('id')
          .compile(),
  );
}

/** What {@link consentReads} return when the database holds `view`. */
export function rowsOfView(subjects: ConsentSubjects, view: ConsentView): unknown[][][] {
  return readsOf(subjects).map((read) => {
    if (read.kind === 'projects') return read.ids.flatMap((id) => (view.settings.has(id) ? [[id, view.settings.get(id)]] : []));
    return read.ids.flatMap((id) => {
      const key = consentKey(read.projectId, id);
      return view.consent.has(key) ? [[id, view.consent.get(key) ?? null]] : [];
    });
  });
}

/** The view {@link consentReads} returned: every subject not in the rows does not exist. */
export function viewOfRows(subjects: ConsentSubjects, rows: unknown[][][]): ConsentView {
  const view: ConsentView = { settings: new Map(), consent: new Map() };
  readsOf(subjects).forEach((read, i) => {
    for (const row of rows[i] ?? []) {
      if (read.kind === 'projects') view.settings.set(Number(row[0]), String(row[1]));
      else view.consent.set(consentKey(read.projectId, Number(row[0])), row[1] === null ? null : Number(row[1]));
    }
  });
  return view;
}

/** Reads the subjects' current values, without locks (to fill a view before the batch's transaction). */
export async function readConsentView(db: Db, subjects: ConsentSubjects): Promise<ConsentView> {
  const rows: unknown[][][] = [];
  for (const query of consentReads(db, subjects)) {
    rows.push((await db.executeQuery<Record<string, unknown>>(query)).rows.map((row) => Object.values(row)));
  }
  return viewOfRows(subjects, rows);
}
