import { type Expression, type Selectable, type SqlBool, sql } from 'kysely';
import type { Contact } from '../domain/contact.js';
import type { Criteria } from '../domain/criteria.js';
import { toContact } from './contacts.js';
import type { Db } from './database.js';
import type { GroupTable } from './schema.js';

/*
 * The groups repository: group definitions (`groups`) and the stored
 * memberships of static groups (`group_members`).
 */

export type GroupType = 'dynamic' | 'static';

export interface Group {
  id: number;
  projectId: number;
  name: string;
  type: GroupType;
  criteria: Criteria;
  /** When a static group's members were last snapshotted. */
  refreshedAt: number | null;
  createdAt: number;
  updatedAt: number;
}

export function toGroup(row: Selectable<GroupTable>): Group {
  return {
    id: row.id,
    projectId: row.project_id,
    name: row.name,
    type: row.type as GroupType,
    criteria: JSON.parse(row.criteria) as Criteria,
    refreshedAt: row.refreshed_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export async function insertGroup(db: Db, projectId: number, group: { name: string; type: GroupType; criteria: Criteria }, now: number): Promise<number> {
  const row = await db
    .insertInto('groups')
    .values({ project_id: projectId, name: group.name, type: group.type, criteria: JSON.stringify(group.criteria), refreshed_at: null, created_at: now, updated_at: now })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function listGroups(db: Db, projectId: number): Promise<Group[]> {
  const rows = await db.selectFrom('groups').selectAll().where('project_id', '=', projectId).orderBy('id').execute();
  return rows.map(toGroup);
}

export async function getGroup(db: Db, projectId: number, groupId: number): Promise<Group | undefined> {
  const row = await db.selectFrom('groups').selectAll().where('project_id', '=', projectId).where('id', '=', groupId).executeTakeFirst();
  return row && toGroup(row);
}

export async function updateGroup(db: Db, projectId: number, groupId: number, change: { name?: string; type?: GroupType; criteria?: Criteria }, now: number): Promise<void> {
  await db
    .updateTable('groups')
    .set({
      ...(change.name === undefined ? {} : { name: change.name }),
      ...(change.type === undefined ? {} : { type: change.type }),
      ...(change.criteria === undefined ? {} : { criteria: JSON.stringify(change.criteria) }),
      updated_at: now,
    })
    .where('project_id', '=', projectId)
    .where('id', '=', groupId)
    .execute();
}

export async function deleteGroup(trx: Db, projectId: number, groupId: number): Promise<void> {
  await clearGroupMembers(trx, projectId, groupId);
  await trx.deleteFrom('groups').where('project_id', '=', projectId).where('id', '=', groupId).execute();
}

export async function clearGroupMembers(db: Db, projectId: number, groupId: number): Promise<void> {
  await db.deleteFrom('group_members').where('project_id', '=', projectId).where('group_id', '=', groupId).execute();
}

/** Replaces a static group's members by the contacts matching `predicate` (over `contacts as c`) now. */
export async function snapshotGroupMembers(trx: Db, projectId: number, groupId: number, predicate: Expression<SqlBool>, now: number): Promise<void> {
  await clearGroupMembers(trx, projectId, groupId);
  await trx
    .insertInto('group_members')
    .columns(['project_id', 'group_id', 'contact_id'])
    .expression(
      trx
        .selectFrom('contacts as c')
        .select([sql.lit(projectId).as('project_id'), sql.lit(groupId).as('group_id'), 'c.id'])
        .where('c.project_id', '=', projectId)
        .where(predicate),
    )
    .execute();
  await trx.updateTable('groups').set({ refreshed_at: now }).where('project_id', '=', projectId).where('id', '=', groupId).execute();
}

/** A static group's stored membership as a predicate over `contacts as c`. */
export function storedMembership(projectId: number, groupId: number): Expression<SqlBool> {
  return sql<SqlBool>`c.id IN (SELECT gm.contact_id FROM group_members gm WHERE gm.project_id = ${projectId} AND gm.group_id = ${groupId})`;
}

/** The ids of the project's contacts matching `predicate`, as a select over `contacts as c` (one column, `id`). */
export function matchingContactIds(db: Db, projectId: number, predicate: Expression<SqlBool>) {
  return db.selectFrom('contacts as c').select('c.id').where('c.project_id', '=', projectId).where(predicate);
}

/** How many of the project's contacts match `predicate`: one SQL COUNT. */
export async function countMatchingContacts(db: Db, projectId: number, predicate: Expression<SqlBool>): Promise<number> {
  const row = await db
    .selectFrom('contacts as c')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('c.project_id', '=', projectId)
    .where(predicate)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Up to `limit + 1` contacts matching `predicate` in id order after `cursor`. */
export async function matchingContacts(db: Db, projectId: number, predicate: Expression<SqlBool>, page: { cursor?: number | undefined; limit: number }): Promise<Contact[]> {
  let query = db.selectFrom('contacts as c').selectAll('c').where('c.project_id', '=', projectId).where(predicate);
  if (page.cursor !== undefined) query = query.where('c.id', '>', page.cursor);
  const rows = await query.orderBy('c.id').limit(page.limit + 1).execute();
  return rows.map(toContact);
}

export interface ContactGroup {
  group_id: number;
  group_name: string | null;
}

/** The static groups a contact is a member of, for the contact's data export. */
export function contactGroups(db: Db, projectId: number, contactId: number): Promise<ContactGroup[]> {
  return db
    .selectFrom('group_members as gm')
    .leftJoin('groups as g', (join) => join.onRef('g.project_id', '=', 'gm.project_id').onRef('g.id', '=', 'gm.group_id'))
    .select(['gm.group_id', 'g.name as group_name'])
    .where('gm.project_id', '=', projectId)
    .where('gm.contact_id', '=', contactId)
    .orderBy('gm.group_id')
    .execute();
}
