import type { Selectable } from 'kysely';
import type { WebhookEvent } from '../domain/webhook.js';
import type { Db } from './database.js';
import type { WebhookDeliveryTable, WebhookTable } from './schema.js';

/* Consent webhooks and their outbox of deliveries (issue 15 item 5). */

export interface Webhook {
  id: number;
  projectId: number;
  url: string;
  secret: string;
  events: WebhookEvent[];
  active: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface WebhookAttempt {
  at: number;
  statusCode: number | null;
  error: string | null;
}

export interface WebhookDelivery {
  id: number;
  webhookId: number;
  eventId: string;
  type: string;
  payload: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  lastError: string | null;
  lastStatusCode: number | null;
  nextAttemptAt: number | null;
  deliveredAt: number | null;
  attemptLog: WebhookAttempt[];
  createdAt: number;
}

const toWebhook = (row: Selectable<WebhookTable>): Webhook => ({
  id: row.id,
  projectId: row.project_id,
  url: row.url,
  secret: row.secret,
  events: row.events.split(',').filter(Boolean) as WebhookEvent[],
  active: row.active === 1,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const toDelivery = (row: Selectable<WebhookDeliveryTable>): WebhookDelivery => ({
  id: row.id,
  webhookId: row.webhook_id,
  eventId: row.event_id,
  type: row.type,
  payload: row.payload,
  status: row.status as WebhookDelivery['status'],
  attempts: row.attempts,
  lastError: row.last_error,
  lastStatusCode: row.last_status_code,
  nextAttemptAt: row.next_attempt_at,
  deliveredAt: row.delivered_at,
  attemptLog: JSON.parse(row.attempt_log) as WebhookAttempt[],
  createdAt: row.created_at,
});

export async function insertWebhook(db: Db, projectId: number, hook: { url: string; secret: string; events: WebhookEvent[]; active: boolean }, now: number): Promise<Webhook> {
  const row = await db
    .insertInto('webhooks')
    .values({ project_id: projectId, url: hook.url, secret: hook.secret, events: hook.events.join(','), active: hook.active ? 1 : 0, created_at: now, updated_at: now })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toWebhook(row);
}

export async function getWebhook(db: Db, projectId: number, id: number): Promise<Webhook | undefined> {
  const row = await db.selectFrom('webhooks').selectAll().where('project_id', '=', projectId).where('id', '=', id).executeTakeFirst();
  return row && toWebhook(row);
}

export async function listWebhooks(db: Db, projectId: number): Promise<Webhook[]> {
  const rows = await db.selectFrom('webhooks').selectAll().where('project_id', '=', projectId).orderBy('id').execute();
  return rows.map(toWebhook);
}

export async function updateWebhook(db: Db, hook: Webhook, now: number): Promise<void> {
  await db
    .updateTable('webhooks')
    .set({ url: hook.url, secret: hook.secret, events: hook.events.join(','), active: hook.active ? 1 : 0, updated_at: now })
    .where('project_id', '=', hook.projectId)
    .where('id', '=', hook.id)
    .execute();
}

/** Deletes a webhook and its delivery log: deliveries still queued find nothing and stop. */
export async function deleteWebhook(db: Db, projectId: number, id: number): Promise<boolean> {
  await db.deleteFrom('webhook_deliveries').where('project_id', '=', projectId).where('webhook_id', '=', id).execute();
  const result = await db.deleteFrom('webhooks').where('project_id', '=', projectId).where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** The active webhooks of a project that want `event`. */
export async function webhooksFor(db: Db, projectId: number, event: WebhookEvent): Promise<Webhook[]> {
  const rows = await db.selectFrom('webhooks').selectAll().where('project_id', '=', projectId).where('active', '=', 1).execute();
  return rows.map(toWebhook).filter((hook) => hook.events.includes(event));
}

export async function insertDeliveries(
  db: Db,
  projectId: number,
  deliveries: { webhookId: number; eventId: string; type: WebhookEvent; payload: string }[],
  now: number,
): Promise<number[]> {
  if (deliveries.length === 0) return [];
  const rows = await db
    .insertInto('webhook_deliveries')
    .values(
      deliveries.map((d) => ({
        project_id: projectId,
        webhook_id: d.webhookId,
        event_id: d.eventId,
        type: d.type,
        payload: d.payload,
        status: 'pending',
        attempts: 0,
        attempt_log: '[]',
        next_attempt_at: now,
        created_at: now,
        updated_at: now,
      })),
    )
    .returning('id')
    .execute();
  return rows.map((r) => r.id);
}

export async function getDelivery(db: Db, projectId: number, id: number): Promise<WebhookDelivery | undefined> {
  const row = await db.selectFrom('webhook_deliveries').selectAll().where('project_id', '=', projectId).where('id', '=', id).executeTakeFirst();
  return row && toDelivery(row);
}

/** A webhook's deliveries, newest first. */
export async function listDeliveries(db: Db, projectId: number, webhookId: number, limit: number): Promise<WebhookDelivery[]> {
  const rows = await db
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('project_id', '=', projectId)
    .where('webhook_id', '=', webhookId)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map(toDelivery);
}

/** Records one attempt of a still-pending delivery (a delivery deleted meanwhile is left alone). */
export async function recordAttempt(
  db: Db,
  projectId: number,
  delivery: WebhookDelivery,
  outcome: { status: WebhookDelivery['status']; attempt: WebhookAttempt; nextAttemptAt: number | null },
  now: number,
): Promise<void> {
  await db
    .updateTable('webhook_deliveries')
    .set({
      status: outcome.status,
      attempts: delivery.attempts + 1,
      last_error: outcome.attempt.error,
      last_status_code: outcome.attempt.statusCode,
      next_attempt_at: outcome.nextAttemptAt,
      delivered_at: outcome.status === 'delivered' ? outcome.attempt.at : null,
      attempt_log: JSON.stringify([...delivery.attemptLog, outcome.attempt]),
      updated_at: now,
    })
    .where('project_id', '=', projectId)
    .where('id', '=', delivery.id)
    .where('status', '=', 'pending')
    .execute();
}
