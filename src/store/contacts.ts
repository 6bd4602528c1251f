import type { Insertable, Selectable, Updateable } from 'kysely';
import type { Contact, ContactStatus } from '../domain/contact.js';
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
    has_tracking_consent: contact.hasTrackingConsent === null ? null : contact.hasTrackingConsent ? 1 : 0,
    dt_tracking_consent: contact.dtTrackingConsent,
    updated_at: contact.updatedAt,
  };
}

export async function getContact(db: Db, projectId: number, contactId: number): Promise<Contact | undefined> {
  const row = await db.selectFrom('contacts').selectAll().where('project_id', '=', projectId).where('id', '=', contactId).executeTakeFirst();
  return row && toContact(row);
}

/** Contacts of a project matching any of the given emails or external ids. */
export async function findContactsByKeys(db: Db, projectId: number, emails: string[], externalIds: string[]): Promise<Contact[]> {
  if (emails.length === 0 && externalIds.length === 0) return [];
  const rows = await db
    .selectFrom('contacts')
    .selectAll()
    .where('project_id', '=', projectId)
    .where((eb) => {
      const ors = [];
      if (emails.length > 0) ors.push(eb('email', 'in', emails));
      if (externalIds.length > 0) ors.push(eb('external_id', 'in', externalIds));
      return eb.or(ors);
    })
    .execute();
  return rows.map(toContact);
}

/** Inserts contacts and returns their ids in input order (matched back by email / external id). */
export async function insertContacts(db: Db, projectId: number, contacts: Omit<Contact, 'id' | 'projectId'>[]): Promise<number[]> {
  if (contacts.length === 0) return [];
  const values: Insertable<ContactTable>[] = contacts.map((c) => ({
    project_id: projectId,
    ...toContactColumns(c),
    created_at: c.createdAt,
    updated_at: c.updatedAt,
    fields: JSON.stringify(c.fields),
    status: c.status,
  }));
  const rows = await db.insertInto('contacts').values(values).returning(['id', 'email', 'external_id']).execute();
  const byKey = new Map(rows.map((r) => [r.email !== null ? `e:${r.email}` : `x:${r.external_id}`, r.id]));
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
