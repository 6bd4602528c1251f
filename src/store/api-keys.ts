import { type Scope, readScopes } from '../domain/permissions.js';
import type { Db } from './database.js';

/* The project API keys repository: keys are stored as SHA-256 hashes, never in clear. */

export interface ApiKey {
  id: number;
  projectId: number;
  name: string;
  scopes: Scope[];
  createdAt: number;
  lastUsedAt: number | null;
}

/** A key that is not revoked, by id, with what authentication checks. */
export function activeKey(db: Db, keyId: number) {
  return db
    .selectFrom('api_keys')
    .select(['id', 'project_id', 'key_hash', 'scopes', 'last_used_at'])
    .where('id', '=', keyId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
}

export async function touchKey(db: Db, projectId: number, keyId: number, now: number): Promise<void> {
  await db.updateTable('api_keys').set({ last_used_at: now }).where('project_id', '=', projectId).where('id', '=', keyId).execute();
}

/**
 * Inserts a key whose secret embeds its own row id: `secretOf(id)` builds the
 * key, `hashOf(key)` what is stored. Returns the id and the key.
 */
export async function insertKey(
  trx: Db,
  projectId: number,
  key: { name: string; scopes: string; secretOf: (id: number) => string; hashOf: (key: string) => string },
  now: number,
): Promise<{ id: number; key: string }> {
  const row = await trx
    .insertInto('api_keys')
    .values({ project_id: projectId, name: key.name, key_hash: 'pending', scopes: key.scopes, created_at: now })
    .returning('id')
    .executeTakeFirstOrThrow();
  const secret = key.secretOf(row.id);
  await trx.updateTable('api_keys').set({ key_hash: key.hashOf(secret) }).where('project_id', '=', projectId).where('id', '=', row.id).execute();
  return { id: row.id, key: secret };
}

/** The project's keys that are not revoked, oldest first (never their hash). */
export async function listKeys(db: Db, projectId: number): Promise<ApiKey[]> {
  const rows = await db
    .selectFrom('api_keys')
    .select(['id', 'project_id', 'name', 'scopes', 'created_at', 'last_used_at'])
    .where('project_id', '=', projectId)
    .where('revoked_at', 'is', null)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({ id: r.id, projectId: r.project_id, name: r.name, scopes: readScopes(r.scopes), createdAt: r.created_at, lastUsedAt: r.last_used_at }));
}

/** Revokes a key not revoked yet; false when there was none. */
export async function revokeKey(db: Db, projectId: number, keyId: number, now: number): Promise<boolean> {
  const result = await db
    .updateTable('api_keys')
    .set({ revoked_at: now })
    .where('project_id', '=', projectId)
    .where('id', '=', keyId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
