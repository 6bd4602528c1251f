import type { Selectable } from 'kysely';
import type { Db } from './database.js';
import type { MessageTable } from './schema.js';

/* The messages repository: a project's message templates. */

export type Channel = 'email' | 'sms' | 'push';

export interface Message {
  id: number;
  projectId: number;
  channel: Channel;
  name: string;
  communicationType: string;
  subject: string | null;
  html: string | null;
  text: string | null;
  pushTitle: string | null;
  pushUrl: string | null;
  from: string | null;
  injectionRuleIds: number[];
  createdAt: number;
}

export function toMessage(row: Selectable<MessageTable>): Message {
  return {
    id: row.id,
    projectId: row.project_id,
    channel: row.channel as Channel,
    name: row.name,
    communicationType: row.communication_type,
    subject: row.subject,
    html: row.html,
    text: row.text,
    pushTitle: row.push_title,
    pushUrl: row.push_url,
    from: row.from_address,
    injectionRuleIds: JSON.parse(row.injection_rule_ids) as number[],
    createdAt: row.created_at,
  };
}

/** A message's columns, its content already normalised for its channel. */
export interface MessageColumns {
  channel: Channel;
  name: string;
  communicationType: string;
  subject: string | null;
  html: string | null;
  text: string | null;
  pushTitle: string | null;
  pushUrl: string | null;
  from: string | null;
  injectionRuleIds: number[];
}

export async function insertMessage(db: Db, projectId: number, message: MessageColumns, now: number): Promise<Message> {
  const row = await db
    .insertInto('messages')
    .values({
      project_id: projectId,
      channel: message.channel,
      name: message.name,
      communication_type: message.communicationType,
      subject: message.subject,
      html: message.html,
      text: message.text,
      push_title: message.pushTitle,
      push_url: message.pushUrl,
      from_address: message.from,
      injection_rule_ids: JSON.stringify(message.injectionRuleIds),
      created_at: now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toMessage(row);
}

export async function updateMessage(db: Db, projectId: number, messageId: number, message: Omit<MessageColumns, 'channel'>): Promise<Message> {
  const row = await db
    .updateTable('messages')
    .set({
      name: message.name,
      communication_type: message.communicationType,
      subject: message.subject,
      html: message.html,
      text: message.text,
      push_title: message.pushTitle,
      push_url: message.pushUrl,
      from_address: message.from,
      injection_rule_ids: JSON.stringify(message.injectionRuleIds),
    })
    .where('project_id', '=', projectId)
    .where('id', '=', messageId)
    .returningAll()
    .executeTakeFirstOrThrow();
  return toMessage(row);
}

/** The id of the first sending of a message, if it was ever sent. */
export async function firstSendingOf(db: Db, projectId: number, messageId: number): Promise<number | undefined> {
  const row = await db.selectFrom('sendings').select('id').where('project_id', '=', projectId).where('message_id', '=', messageId).orderBy('id').limit(1).executeTakeFirst();
  return row?.id;
}

/** A message; a removed one only with `removed: true` (what its sendings and reports read). */
export async function getMessage(db: Db, projectId: number, messageId: number, options: { removed?: boolean } = {}): Promise<Message | undefined> {
  let q = db.selectFrom('messages').selectAll().where('project_id', '=', projectId).where('id', '=', messageId);
  if (!options.removed) q = q.where('deleted_at', 'is', null);
  const row = await q.executeTakeFirst();
  return row && toMessage(row);
}

/** The newest 500 messages not removed, newest first. */
export async function listMessages(db: Db, projectId: number): Promise<Message[]> {
  const rows = await db.selectFrom('messages').selectAll().where('project_id', '=', projectId).where('deleted_at', 'is', null).orderBy('id', 'desc').limit(500).execute();
  return rows.map(toMessage);
}

/** Removes a message from lists and the API; the row stays for what refers to it. */
export async function removeMessage(db: Db, projectId: number, messageId: number, now: number): Promise<void> {
  await db.updateTable('messages').set({ deleted_at: now }).where('project_id', '=', projectId).where('id', '=', messageId).execute();
}

/** The id of a sending of this message that has not ended (queued or sending), if any. */
export async function unfinishedSendingOf(db: Db, projectId: number, messageId: number): Promise<number | undefined> {
  const row = await db
    .selectFrom('sendings')
    .select('id')
    .where('project_id', '=', projectId)
    .where('message_id', '=', messageId)
    .where('status', 'in', ['queued', 'sending'])
    .limit(1)
    .executeTakeFirst();
  return row?.id;
}
