import { type Expression, type Selectable, type SqlBool, sql, type Updateable } from 'kysely';
import type { Contact, ContactStatus } from '../domain/contact.js';
import { bulkInsert, executeShaped } from './bulk.js';
import type { Db } from './database.js';
import type { ContactTable } from './schema.js';

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
    hasTrackingConsent: row.has_tracking_consent === null ? null : row.has_tracking_consent === 1,
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
  const byKey = new Map(rows.map((r) => [r.email !== null ? `e:${r.email}` : `x:${r.external_id}`, Number(r.id)]));
  return contacts.map((c) => byKey.get(c.email !== null ? `e:${c.email}` : `x:${c.externalId}`) as number);
}

const consentColumn = (value: boolean | null): number | null => (value === null ? null : value ? 1 : 0);

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
