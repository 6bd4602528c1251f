import type { Selectable } from 'kysely';
import type { Db } from './database.js';
import type { FormRequestTable } from './schema.js';

/** A subscription waiting for the person's confirmation (double opt-in). */
export interface FormRequest {
  projectId: number;
  id: number;
  formId: number;
  email: string;
  /** The other submitted values (`phone`, `fields.<name>`), applied only on confirmation. */
  values: Record<string, string>;
  /** The tracking-consent box was ticked. */
  consent: boolean;
  lang: string;
  /** Proof of the request: hash of the consent wording shown, IP address, user agent. */
  wordingHash: string | null;
  ip: string | null;
  userAgent: string | null;
  createdAt: number;
  expiresAt: number;
}

function toRequest(row: Selectable<FormRequestTable>): FormRequest {
  return {
    projectId: row.project_id,
    id: row.id,
    formId: row.form_id,
    email: row.email,
    values: JSON.parse(row.values_json) as Record<string, string>,
    consent: Number(row.consent) === 1,
    lang: row.lang,
    wordingHash: row.wording_hash,
    ip: row.ip,
    userAgent: row.user_agent,
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
  };
}

export async function insertFormRequest(db: Db, request: Omit<FormRequest, 'id'>, nonceHash: string): Promise<FormRequest> {
  const row = await db
    .insertInto('form_requests')
    .values({
      project_id: request.projectId,
      form_id: request.formId,
      email: request.email,
      values_json: JSON.stringify(request.values),
      consent: request.consent ? 1 : 0,
      lang: request.lang,
      wording_hash: request.wordingHash,
      ip: request.ip,
      user_agent: request.userAgent,
      nonce_hash: nonceHash,
      created_at: request.createdAt,
      expires_at: request.expiresAt,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toRequest(row);
}

/** How many requests were made for this address on this form since `since` (the per-address email limit). */
export async function countRecentFormRequests(db: Db, projectId: number, formId: number, email: string, since: number): Promise<number> {
  const row = await db
    .selectFrom('form_requests')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('project_id', '=', projectId)
    .where('form_id', '=', formId)
    .where('email', '=', email)
    .where('created_at', '>', since)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** A pending, unexpired request whose link nonce matches; reading it changes nothing (the GET of the link). */
export async function findFormRequest(db: Db, projectId: number, id: number, nonceHash: string, now: number): Promise<FormRequest | undefined> {
  const row = await db
    .selectFrom('form_requests')
    .selectAll()
    .where('project_id', '=', projectId)
    .where('id', '=', id)
    .where('nonce_hash', '=', nonceHash)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return row && toRequest(row);
}

/**
 * Takes a pending request out, once: the delete is the single use, so two
 * concurrent confirmations of one link cannot both apply it.
 */
export async function consumeFormRequest(db: Db, projectId: number, id: number, nonceHash: string, now: number): Promise<FormRequest | undefined> {
  const row = await db
    .deleteFrom('form_requests')
    .where('project_id', '=', projectId)
    .where('id', '=', id)
    .where('nonce_hash', '=', nonceHash)
    .where('expires_at', '>', now)
    .returningAll()
    .executeTakeFirst();
  return row && toRequest(row);
}

/** Deletes a pending request (its confirmation email could not be sent). */
export async function deleteFormRequest(db: Db, projectId: number, id: number): Promise<void> {
  await db.deleteFrom('form_requests').where('project_id', '=', projectId).where('id', '=', id).execute();
}

/**
 * Purges the requests whose link has expired — never confirmed, so never
 * applied; their address, IP and user agent are not kept. Keeps rows younger
 * than `keepSince` so the per-address limit still counts them.
 */
export async function purgeExpiredFormRequests(db: Db, now: number, keepSince: number): Promise<number> {
  const result = await db.deleteFrom('form_requests').where('expires_at', '<=', now).where('created_at', '<=', keepSince).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Erasure (SPEC §7): a contact's pending requests go with them. */
export async function deleteFormRequestsOf(db: Db, projectId: number, email: string): Promise<number> {
  const result = await db.deleteFrom('form_requests').where('project_id', '=', projectId).where('email', '=', email).executeTakeFirst();
  return Number(result.numDeletedRows);
}
