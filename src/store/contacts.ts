import { type Expression, type Selectable, type SqlBool, sql, type Updateable } from 'kysely';
import { type TrackingStatus, trackingStatusSql } from '../domain/consent.js';
import type { Contact, ContactStatus } from '../domain/contact.js';
import { bulkInsert, executeShaped } from './bulk.js';
import type { Db } from './database.js';
import type { ContactTable } from './schema.js';
import { consentColumn, consentValue } from './consent-column.js';
import { copyRows, onPostgres } from './copy.js';

export type ContactRow = Selectable<ContactTable>;

export function toContact(row: ContactRow): Contact {
  return {
    id: row.id,
    projectId: row.project_id,
    email: row.email,
    externalId: row.external_id,
    phone: row.phone,
    fields: JSON.parse(row.fields) as Record<string, unknown>,
    status: row.status as ContactStatus,
    hasTrackingConsent: consentValue(row.has_tracking_consent),
    dtTrackingConsent: row.dt_tracking_consent,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function toContactColumns(contact: Omit<Contact, 'id' | 'projectId' | 'createdAt'>): Updateable<ContactTable> {
  return {
    email: contact.email,
    external_id: contact.externalId,
    phone: contact.phone,
    fields: JSON.stringify(contact.fields),
    status: contact.status,
    has_tracking_consent: consentColumn(contact.hasTrackingConsent),
    dt_tracking_consent: contact.dtTrackingConsent,
    updated_at: contact.updatedAt,
  };
}

/**
 * Locks one contact row for the rest of the transaction (a no-op UPDATE: a row
 * lock on PostgreSQL, the write lock on SQLite); false when it does not exist.
 * A tracking batch reads its contacts `FOR SHARE`, so a transaction that takes
 * this first (erasure) and a batch recording that contact's events never overlap.
 */
export async function lockContact(trx: Db, projectId: number, contactId: number): Promise<boolean> {
  const result = await trx
    .updateTable('contacts')
    .set((eb) => ({ updated_at: eb.ref('updated_at') }))
    .where('project_id', '=', projectId)
    .where('id', '=', contactId)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function getContact(db: Db, projectId: number, contactId: number): Promise<Contact | undefined> {
  const row = await db.selectFrom('contacts').selectAll().where('project_id', '=', projectId).where('id', '=', contactId).executeTakeFirst();
  return row && toContact(row);
}

/**
 * Contacts of a project matching any of the given emails or external ids.
 * Two lookups, one per unique index: an OR across both lets SQLite fall back to slower plans.
 */
export async function findContactsByKeys(db: Db, projectId: number, emails: string[], externalIds: string[]): Promise<Contact[]> {
  const rows: ContactRow[] = [];
  if (emails.length > 0) rows.push(...(await db.selectFrom('contacts').selectAll().where('project_id', '=', projectId).where('email', 'in', emails).execute()));
  // External ids already found through the emails need no second lookup.
  const found = new Set(rows.map((r) => r.external_id));
  const missing = externalIds.filter((id) => !found.has(id));
  if (missing.length > 0) {
    const seen = new Set(rows.map((r) => r.id));
    const byExternalId = await db.selectFrom('contacts').selectAll().where('project_id', '=', projectId).where('external_id', 'in', missing).execute();
    for (const row of byExternalId) if (!seen.has(row.id)) rows.push(row);
  }
  return rows.map(toContact);
}

const CONTACT_COLUMNS = [
  'project_id',
  'email',
  'external_id',
  'phone',
  'fields',
  'status',
  'has_tracking_consent',
  'dt_tracking_consent',
  'created_at',
  'updated_at',
] as const;

/** Inserts contacts and returns their ids in input order (matched back by email / external id). */
export async function insertContacts(db: Db, projectId: number, contacts: Omit<Contact, 'id' | 'projectId'>[]): Promise<number[]> {
  if (contacts.length === 0) return [];
  const values = contacts.map((c) => [
    projectId,
    c.email,
    c.externalId,
    c.phone,
    JSON.stringify(c.fields),
    c.status,
    consentColumn(c.hasTrackingConsent),
    c.dtTrackingConsent,
    c.createdAt,
    c.updatedAt,
  ]);
  const rows = (await bulkInsert(db, 'contacts', CONTACT_COLUMNS, values, ['id', 'email', 'external_id'])) as Pick<ContactRow, 'id' | 'email' | 'external_id'>[];
  return idsByKey(contacts, rows);
}

/**
 * PostgreSQL's staging table for contact batches (see saveContacts): temporary,
 * created once per connection (database.ts), emptied at every commit. `batch`
 * tells one call's rows from another's in the same transaction.
 */
export const CONTACT_STAGE_TABLE = `CREATE TEMP TABLE IF NOT EXISTS contact_stage (
  batch BIGINT NOT NULL, ord BIGINT NOT NULL, id BIGINT, email TEXT, external_id TEXT, phone TEXT, fields TEXT NOT NULL,
  status TEXT NOT NULL, has_tracking_consent BIGINT, dt_tracking_consent BIGINT, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL
) ON COMMIT DELETE ROWS`;

const STAGE_COLUMNS = ['batch', 'ord', 'id', 'email', 'external_id', 'phone', 'fields', 'status', 'has_tracking_consent', 'dt_tracking_consent', 'created_at', 'updated_at'] as const;

/** Below this many contacts a batch is written with plain statements: COPY's extra round trip does not pay. */
const COPY_MIN_ROWS = 64;

let stageBatch = 0;

/**
 * Saves a merge's contacts: first the updated ones (a contact whose email moved
 * frees the old address for a contact created in the same batch), then the new
 * ones, whose ids it returns in input order. `keysChanged` marks the updates
 * that change an email or external id.
 *
 * On PostgreSQL a batch of some size goes through COPY into the staging table
 * and two set-based statements (`UPDATE … FROM`, `INSERT … SELECT … RETURNING`)
 * instead of thousands of bound parameters; SQLite keeps multi-row statements,
 * where parameters cost little. Same rows, same order of ids either way.
 */
export async function saveContacts(
  trx: Db,
  projectId: number,
  updated: readonly { contact: Contact; keysChanged: boolean }[],
  created: readonly Omit<Contact, 'id' | 'projectId'>[],
): Promise<number[]> {
  if (!onPostgres(trx) || updated.length + created.length < COPY_MIN_ROWS) {
    await updateContacts(trx, projectId, updated.filter((u) => u.keysChanged).map((u) => u.contact), { keysChanged: true });
    await updateContacts(trx, projectId, updated.filter((u) => !u.keysChanged).map((u) => u.contact), { keysChanged: false });
    const ids: number[] = [];
    for (let i = 0; i < created.length; i += 500) ids.push(...(await insertContacts(trx, projectId, created.slice(i, i + 500))));
    return ids;
  }
  stageBatch += 1;
  const batch = stageBatch;
  const row = (c: Omit<Contact, 'projectId'> | Omit<Contact, 'id' | 'projectId'>, ord: number, id: number | null) => [
    batch,
    ord,
    id,
    c.email,
    c.externalId,
    c.phone,
    JSON.stringify(c.fields),
    c.status,
    consentColumn(c.hasTrackingConsent),
    c.dtTrackingConsent,
    c.createdAt,
    c.updatedAt,
  ];
  const rows = [...updated.map((u, i) => row(u.contact, i, u.contact.id)), ...created.map((c, i) => row(c, updated.length + i, null))];
  await copyRows(trx, 'contact_stage', STAGE_COLUMNS, rows);
  if (updated.length > 0) {
    // Setting an unchanged email or external id to itself changes no index entry on PostgreSQL (HOT keeps working),
    // so one statement serves both kinds of update; the pair cannot collide, as only keysChanged rows move an address.
    await sql`UPDATE contacts SET email = s.email, external_id = s.external_id, phone = s.phone, fields = s.fields, status = s.status,
      has_tracking_consent = s.has_tracking_consent, dt_tracking_consent = s.dt_tracking_consent, updated_at = s.updated_at
      FROM contact_stage s WHERE s.batch = ${batch} AND s.id IS NOT NULL AND contacts.project_id = ${projectId} AND contacts.id = s.id`.execute(trx);
  }
  if (created.length === 0) return [];
  const inserted = await sql<Pick<ContactRow, 'id' | 'email' | 'external_id'>>`
    INSERT INTO contacts (project_id, email, external_id, phone, fields, status, has_tracking_consent, dt_tracking_consent, created_at, updated_at)
    SELECT ${projectId}, email, external_id, phone, fields, status, has_tracking_consent, dt_tracking_consent, created_at, updated_at
    FROM contact_stage WHERE batch = ${batch} AND id IS NULL ORDER BY ord
    RETURNING id, email, external_id`.execute(trx);
  return idsByKey(created, inserted.rows);
}

/** The ids of inserted rows in the order of `contacts`, matched back by email or else external id. */
function idsByKey(contacts: readonly Omit<Contact, 'id' | 'projectId'>[], rows: readonly Pick<ContactRow, 'id' | 'email' | 'external_id'>[]): number[] {
  const byKey = new Map(rows.map((r) => [r.email !== null ? `e:${r.email}` : `x:${r.external_id}`, Number(r.id)]));
  return contacts.map((c) => byKey.get(c.email !== null ? `e:${c.email}` : `x:${c.externalId}`) as number);
}

export async function updateContact(db: Db, contact: Contact): Promise<void> {
  await db
    .updateTable('contacts')
    .set(toContactColumns(contact))
    .where('project_id', '=', contact.projectId)
    .where('id', '=', contact.id)
    .execute();
}

/**
 * Saves many contacts with one statement per chunk: `WITH v(...) AS (VALUES …)
 * UPDATE contacts … FROM v`, the same SQL on SQLite (≥ 3.33) and PostgreSQL. Every
 * value is cast so PostgreSQL knows the parameter types. Replaces a round trip per contact.
 */
export async function updateContacts(db: Db, projectId: number, contacts: Contact[], options: { keysChanged: boolean }): Promise<void> {
  for (let i = 0; i < contacts.length; i += 500) {
    const chunk = contacts.slice(i, i + 500);
    const parameters: unknown[] = [];
    for (const c of chunk) {
      parameters.push(c.id, c.email, c.externalId, c.phone, JSON.stringify(c.fields), c.status, consentColumn(c.hasTrackingConsent), c.dtTrackingConsent, c.updatedAt);
    }
    parameters.push(projectId);
    for (const c of chunk) parameters.push(c.id);
    const shape = `update:contacts:${options.keysChanged}:${chunk.length}`;
    await executeShaped(db, shape, () => updateContactsQuery(chunk.length, options.keysChanged).compile(db), parameters);
  }
}

// Without keysChanged the SET leaves email and external_id out, so SQLite does not rewrite their unique-index entries.
// The explicit id list lets PostgreSQL probe the primary key: joined on v alone, a project-wide filter
// makes it hash every contact of the project for each chunk.
function updateContactsQuery(rowCount: number, keysChanged: boolean) {
  const text = sql`CAST(${''} AS TEXT)`;
  const int = sql`CAST(${0} AS BIGINT)`;
  const row = sql`(${sql.join([int, text, text, text, text, text, int, int, int])})`;
  return sql`
    WITH v (id, email, external_id, phone, fields, status, has_tracking_consent, dt_tracking_consent, updated_at) AS (VALUES ${sql.join(Array.from({ length: rowCount }, () => row))})
    UPDATE contacts SET ${sql.raw(keysChanged ? 'email = v.email, external_id = v.external_id, ' : '')}phone = v.phone, fields = v.fields, status = v.status,
      has_tracking_consent = v.has_tracking_consent, dt_tracking_consent = v.dt_tracking_consent, updated_at = v.updated_at
    FROM v WHERE contacts.project_id = ${0} AND contacts.id IN (${sql.join(Array.from({ length: rowCount }, () => sql`${0}`))}) AND contacts.id = v.id`;
}

/** The ids among `ids` of the project's contacts that exist (and match `filter`, a predicate over `contacts as c`). */
export async function contactIdsAmong(db: Db, projectId: number, ids: readonly number[], filter?: Expression<SqlBool>): Promise<Set<number>> {
  let q = db.selectFrom('contacts as c').select('c.id').where('c.project_id', '=', projectId).where('c.id', 'in', ids);
  if (filter) q = q.where(filter);
  return new Set((await q.execute()).map((r) => Number(r.id)));
}

/**
 * Contacts whose email, external id or phone contains the text, any case
 * (`!` escapes LIKE's own wildcards in what was typed, the same way on both engines).
 */
export function contactSearchSql(text: string): Expression<SqlBool> {
  const pattern = `%${text.trim().toLowerCase().replace(/[!%_]/g, '!$&')}%`;
  return sql<SqlBool>`(email LIKE ${pattern} ESCAPE '!' OR LOWER(external_id) LIKE ${pattern} ESCAPE '!' OR phone LIKE ${pattern} ESCAPE '!')`;
}

/** A contact's consent value for the tracking hot path: one row, one column. */
export async function consentOfContact(db: Db, projectId: number, contactId: number): Promise<{ value: boolean | null; exists: boolean }> {
  const row = await db.selectFrom('contacts').select('has_tracking_consent').where('project_id', '=', projectId).where('id', '=', contactId).executeTakeFirst();
  return { value: row ? consentValue(row.has_tracking_consent) : null, exists: row !== undefined };
}

/** A contact found by its external id, or else by its (normalised) email: its id and consent value. */
export async function findContactByKey(
  db: Db,
  projectId: number,
  key: { externalId: string } | { email: string },
): Promise<{ id: number; hasTrackingConsent: boolean | null } | undefined> {
  let q = db.selectFrom('contacts').select(['id', 'has_tracking_consent']).where('project_id', '=', projectId);
  q = 'externalId' in key ? q.where('external_id', '=', key.externalId) : q.where('email', '=', key.email);
  const row = await q.executeTakeFirst();
  return row && { id: row.id, hasTrackingConsent: consentValue(row.has_tracking_consent) };
}

/** Up to `limit + 1` contacts in id order after `cursor`, filtered by tracking status, email and searched text. */
export async function listContacts(
  db: Db,
  projectId: number,
  filter: { trackingStatus?: TrackingStatus | undefined; email?: string | undefined; search?: string | undefined },
  page: { cursor?: number | undefined; limit: number },
): Promise<Contact[]> {
  let q = db.selectFrom('contacts').selectAll().where('project_id', '=', projectId);
  if (filter.trackingStatus) q = q.where(trackingStatusSql(filter.trackingStatus));
  if (filter.email) q = q.where('email', '=', filter.email);
  if (filter.search?.trim()) q = q.where(contactSearchSql(filter.search));
  if (page.cursor !== undefined) q = q.where('id', '>', page.cursor);
  const rows = await q.orderBy('id').limit(page.limit + 1).execute();
  return rows.map(toContact);
}

/** Marks a contact inactive (unsubscribed). */
export async function deactivateContact(db: Db, projectId: number, contactId: number, now: number): Promise<void> {
  await db.updateTable('contacts').set({ status: 'inactive', updated_at: now }).where('project_id', '=', projectId).where('id', '=', contactId).execute();
}

/** Refreshes the planner's statistics on contacts (a large import changes them). */
export async function analyzeContacts(db: Db): Promise<void> {
  await sql`ANALYZE contacts`.execute(db);
}

const created = new WeakMap<Db, { count: number; analyzeAt: number }>();

/**
 * Counts contacts created through `db` and refreshes PostgreSQL's statistics
 * as they grow (after 10k, 40k, 160k … of them). PostgreSQL plans the merge
 * lookups from statistics that autovacuum refreshes only every minute or so; a
 * bulk load outgrows them within seconds and the lookups by email turn into
 * scans of the whole project. SQLite's planner needs no statistics for them.
 */
export async function noteContactsCreated(db: Db, count: number): Promise<void> {
  if (count === 0 || !onPostgres(db)) return;
  let growth = created.get(db);
  if (!growth) {
    growth = { count: 0, analyzeAt: 10_000 };
    created.set(db, growth);
  }
  growth.count += count;
  if (growth.count < growth.analyzeAt) return;
  growth.analyzeAt *= 4;
  await analyzeContacts(db);
}

/** The values an injection rule may put in an identified click's URL: id, email and custom fields. */
export async function injectableContactValues(db: Db, projectId: number, contactId: number): Promise<{ id: number; email: string | null; fields: Record<string, unknown> } | undefined> {
  const row = await db.selectFrom('contacts').select(['id', 'email', 'fields']).where('project_id', '=', projectId).where('id', '=', contactId).executeTakeFirst();
  return row && { id: row.id, email: row.email, fields: JSON.parse(row.fields) as Record<string, unknown> };
}
