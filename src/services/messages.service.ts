import type { Selectable } from 'kysely';
import { AppError, notFound } from '../domain/errors.js';
import { type MessageContent, type PreparedMessage, prepareMessage } from '../domain/render.js';
import type { Db } from '../store/database.js';
import type { MessageTable } from '../store/schema.js';

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

export interface NewMessage {
  channel: Channel;
  name: string;
  communicationType: string;
  subject?: string | null;
  html?: string | null;
  text?: string | null;
  pushTitle?: string | null;
  pushUrl?: string | null;
  from?: string | null;
  injectionRuleIds?: number[];
}

function toMessage(row: Selectable<MessageTable>): Message {
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

export function contentOf(message: Pick<Message, 'channel' | 'subject' | 'html' | 'text' | 'pushTitle' | 'pushUrl'>): MessageContent {
  return { channel: message.channel, subject: message.subject, html: message.html, text: message.text, pushTitle: message.pushTitle, pushUrl: message.pushUrl };
}

function requireContent(input: NewMessage): void {
  const missing = (field: string, reason: string) => new AppError('InvalidMessage', `${field}: ${reason}`, [{ field, reason }]);
  if (input.channel === 'email') {
    if (!input.subject) throw missing('subject', 'an email needs a subject');
    if (!input.html && !input.text) throw missing('html', 'an email needs html or text');
  } else if (input.channel === 'sms') {
    if (!input.text) throw missing('text', 'an SMS needs text');
  } else if (!input.pushTitle && !input.text) {
    throw missing('title', 'a push message needs a title or a body');
  }
}

/** Messages: templates are compiled when saved, so a bad tag is reported now, not at sending time. */
export class MessageService {
  constructor(
    private readonly db: Db,
    private readonly clock: () => number,
  ) {}

  async create(projectId: number, input: NewMessage): Promise<{ message: Message; prepared: PreparedMessage }> {
    requireContent(input);
    const content = {
      channel: input.channel,
      subject: input.subject ?? null,
      html: input.channel === 'email' ? (input.html ?? null) : null,
      text: input.text ?? null,
      pushTitle: input.channel === 'push' ? (input.pushTitle ?? null) : null,
      pushUrl: input.channel === 'push' ? (input.pushUrl ?? null) : null,
    };
    const prepared = prepareMessage(content);
    const row = await this.db
      .insertInto('messages')
      .values({
        project_id: projectId,
        channel: content.channel,
        name: input.name,
        communication_type: input.communicationType,
        subject: content.subject,
        html: content.html,
        text: content.text,
        push_title: content.pushTitle,
        push_url: content.pushUrl,
        from_address: input.from ?? null,
        injection_rule_ids: JSON.stringify(input.injectionRuleIds ?? []),
        created_at: this.clock(),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return { message: toMessage(row), prepared };
  }

  async get(projectId: number, messageId: number): Promise<Message> {
    const row = await this.db.selectFrom('messages').selectAll().where('project_id', '=', projectId).where('id', '=', messageId).executeTakeFirst();
    if (!row) throw notFound('Message', messageId);
    return toMessage(row);
  }

  /** The destinations a message's links are rewritten from. */
  links(message: Message): string[] {
    return prepareMessage(contentOf(message)).links;
  }

  async list(projectId: number): Promise<Message[]> {
    const rows = await this.db.selectFrom('messages').selectAll().where('project_id', '=', projectId).orderBy('id', 'desc').limit(500).execute();
    return rows.map(toMessage);
  }
}
