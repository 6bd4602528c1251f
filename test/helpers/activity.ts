import { sql } from 'kysely';
import type { ContactActivity, CriteriaContact } from '../../src/domain/criteria-evaluator.js';
import type { Db } from '../../src/store/database.js';

/** Every contact of a project with what they did, read plainly (no criteria SQL) for the reference evaluator. */
export async function loadProjectActivity(db: Db, projectId: number): Promise<{ id: number; contact: CriteriaContact; activity: ContactActivity }[]> {
  const contacts = await db.selectFrom('contacts').selectAll().where('project_id', '=', projectId).orderBy('id').execute();
  const events = await db.selectFrom('events').selectAll().where('project_id', '=', projectId).execute();
  const links = await db.selectFrom('sending_links').selectAll().where('project_id', '=', projectId).execute();
  const deliveries = await db.selectFrom('deliveries').selectAll().where('project_id', '=', projectId).execute();
  const sendings = await db.selectFrom('sendings').select(['id', 'message_id']).where('project_id', '=', projectId).execute();
  const messageOf = new Map(sendings.map((s) => [s.id, s.message_id]));
  const urlOf = new Map(links.map((l) => [`${l.sending_id}:${l.idx}`, l.url]));
  return contacts.map((c) => ({
    id: c.id,
    contact: {
      email: c.email,
      status: c.status,
      hasTrackingConsent: c.has_tracking_consent === null ? null : c.has_tracking_consent === 1,
      fields: JSON.parse(c.fields) as Record<string, unknown>,
    },
    activity: {
      events: events
        .filter((e) => e.contact_id === c.id)
        .map((e) => ({
          type: e.type,
          sendingId: e.sending_id,
          messageId: e.message_id,
          linkUrl: e.link_idx === null ? null : (urlOf.get(`${e.sending_id}:${e.link_idx}`) ?? null),
          name: e.name,
          url: e.url,
          formId: e.form_id,
          at: Number(e.at),
          machine: e.machine === 1,
        })),
      deliveries: deliveries.filter((d) => d.contact_id === c.id).map((d) => ({ sendingId: d.sending_id, messageId: messageOf.get(d.sending_id) ?? null, at: Number(d.at) })),
    },
  }));
}

/** A message and a sending row, inserted directly (the sending pipeline is not under test here). */
export async function insertSending(db: Db, projectId: number, links: string[] = [], messageId?: number): Promise<{ sendingId: number; messageId: number }> {
  let message = messageId;
  if (message === undefined) {
    const row = await sql<{ id: number }>`INSERT INTO messages (project_id, channel, name, communication_type, created_at) VALUES (${projectId}, 'email', 'm', 'newsletter', 0) RETURNING id`.execute(db);
    message = Number(row.rows[0]?.id);
  }
  const sending = await sql<{ id: number }>`INSERT INTO sendings (project_id, message_id, target, status, created_at) VALUES (${projectId}, ${message}, '{"all":true}', 'sent', 0) RETURNING id`.execute(db);
  const sendingId = Number(sending.rows[0]?.id);
  for (const [idx, url] of links.entries()) await db.insertInto('sending_links').values({ project_id: projectId, sending_id: sendingId, idx, url }).execute();
  return { sendingId, messageId: message };
}

export interface EventSpec {
  contactId: number | null;
  type: 'open' | 'click' | 'web' | 'form_submit' | 'unsubscribe';
  at: number;
  sendingId?: number;
  messageId?: number;
  linkIdx?: number;
  name?: string;
  url?: string;
  formId?: number;
  device?: string;
  machine?: boolean;
}

export async function insertEvents(db: Db, projectId: number, events: EventSpec[]): Promise<void> {
  if (events.length === 0) return;
  await db
    .insertInto('events')
    .values(
      events.map((e) => ({
        project_id: projectId,
        type: e.type,
        contact_id: e.contactId,
        nonce: null,
        sending_id: e.sendingId ?? null,
        message_id: e.messageId ?? null,
        link_idx: e.linkIdx ?? null,
        channel: e.sendingId === undefined ? null : 'email',
        name: e.name ?? null,
        url: e.url ?? null,
        form_id: e.formId ?? null,
        at: e.at,
        device: e.device ?? null,
        machine: e.machine ? 1 : 0,
        ip: null,
        user_agent: null,
      })),
    )
    .execute();
}
