import type { Selectable } from 'kysely';
import type { Role } from '../domain/permissions.js';
import type { Db } from './database.js';
import type { UserTable } from './schema.js';

/* The users repository: the admin app's users, their projects (`user_projects`) and sessions. */

export const LANGUAGES = ['en', 'fr'] as const;
export type Language = (typeof LANGUAGES)[number];

export interface User {
  id: number;
  email: string;
  name: string | null;
  role: Role;
  language: Language | null;
  /** The projects the user was given; an owner reaches every project whatever this says. */
  projectIds: number[];
  hasPassword: boolean;
  createdAt: number;
  updatedAt: number;
}

export function toUser(row: Selectable<UserTable>, projectIds: number[]): User {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role as Role,
    language: (row.language as Language | null) ?? null,
    projectIds,
    hasPassword: row.password_hash !== null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export type UserRow = Selectable<UserTable>;

export async function listUsers(db: Db): Promise<User[]> {
  const rows = await db.selectFrom('users').selectAll().orderBy('id').execute();
  const memberships = await db.selectFrom('user_projects').select(['user_id', 'project_id']).orderBy('project_id').execute();
  return rows.map((row) => toUser(row, memberships.filter((m) => m.user_id === row.id).map((m) => m.project_id)));
}

export function userRowById(db: Db, userId: number): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst();
}

export function userRowByEmail(db: Db, email: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
}

/** The id of the user with this (normalised) email, if any. */
export async function userIdByEmail(db: Db, email: string): Promise<number | undefined> {
  const row = await db.selectFrom('users').select('id').where('email', '=', email).executeTakeFirst();
  return row?.id;
}

export async function hasAnyUser(db: Db): Promise<boolean> {
  return (await db.selectFrom('users').select('id').limit(1).executeTakeFirst()) !== undefined;
}

/** Whether an owner other than `userId` exists. */
export async function hasAnotherOwner(db: Db, userId: number): Promise<boolean> {
  const other = await db.selectFrom('users').select('id').where('role', '=', 'owner').where('id', '!=', userId).limit(1).executeTakeFirst();
  return other !== undefined;
}

export async function userProjectIds(db: Db, userId: number): Promise<number[]> {
  const rows = await db.selectFrom('user_projects').select('project_id').where('user_id', '=', userId).orderBy('project_id').execute();
  return rows.map((r) => r.project_id);
}

export interface UserColumns {
  email: string;
  name: string | null;
  passwordHash: string | null;
  role: Role;
  language: Language | null;
}

export async function insertUser(trx: Db, user: UserColumns, now: number): Promise<number> {
  const row = await trx
    .insertInto('users')
    .values({ email: user.email, name: user.name, password_hash: user.passwordHash, role: user.role, language: user.language, created_at: now, updated_at: now })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function updateUser(trx: Db, userId: number, change: Partial<UserColumns>, now: number): Promise<void> {
  await trx
    .updateTable('users')
    .set({
      ...(change.email !== undefined ? { email: change.email } : {}),
      ...(change.name !== undefined ? { name: change.name } : {}),
      ...(change.passwordHash !== undefined ? { password_hash: change.passwordHash } : {}),
      ...(change.role !== undefined ? { role: change.role } : {}),
      ...(change.language !== undefined ? { language: change.language } : {}),
      updated_at: now,
    })
    .where('id', '=', userId)
    .execute();
}

/** Removes the user with their project memberships and sessions. */
export async function deleteUser(trx: Db, userId: number): Promise<void> {
  await trx.deleteFrom('sessions').where('user_id', '=', userId).execute();
  await trx.deleteFrom('user_projects').where('user_id', '=', userId).execute();
  await trx.deleteFrom('users').where('id', '=', userId).execute();
}

export async function setUserProjects(db: Db, userId: number, projectIds: number[]): Promise<void> {
  await db.deleteFrom('user_projects').where('user_id', '=', userId).execute();
  const unique = [...new Set(projectIds)];
  if (unique.length > 0) await db.insertInto('user_projects').values(unique.map((project_id) => ({ project_id, user_id: userId }))).execute();
}


/** Which of these project ids exist. */
export async function existingProjectIds(db: Db, projectIds: number[]): Promise<Set<number>> {
  if (projectIds.length === 0) return new Set();
  const rows = await db.selectFrom('projects').select('id').where('id', 'in', projectIds).execute();
  return new Set(rows.map((r) => r.id));
}

export async function insertSession(db: Db, idHash: string, userId: number, now: number): Promise<void> {
  await db.insertInto('sessions').values({ id_hash: idHash, user_id: userId, created_at: now, last_seen_at: now }).execute();
}

/** A session with its user, by the hash of its id. */
export function sessionWithUser(db: Db, idHash: string) {
  return db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select(['sessions.created_at', 'sessions.last_seen_at', 'users.id', 'users.email', 'users.name', 'users.role', 'users.language'])
    .where('sessions.id_hash', '=', idHash)
    .executeTakeFirst();
}

export async function touchSession(db: Db, idHash: string, now: number): Promise<void> {
  await db.updateTable('sessions').set({ last_seen_at: now }).where('id_hash', '=', idHash).execute();
}

export async function deleteSession(db: Db, idHash: string): Promise<void> {
  await db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
}

/** Deletes every session of a user but the one with hash `keep`. */
export async function deleteUserSessions(db: Db, userId: number, keep: string | undefined): Promise<void> {
  let query = db.deleteFrom('sessions').where('user_id', '=', userId);
  if (keep) query = query.where('id_hash', '!=', keep);
  await query.execute();
}
