import { AppError, notFound } from '../domain/errors.js';
import { parseFromMailbox } from '../domain/mailbox.js';
import { type MessageContent, type PreparedMessage, prepareMessage } from '../domain/render.js';
import type { Db } from '../store/database.js';
import { missingIds } from '../store/references.js';
import { listCampaigns } from '../store/campaigns.js';
import { type Channel, type Message, firstSendingOf, getMessage, insertMessage, listMessages, removeMessage, unfinishedSendingOf, updateMessage } from '../store/messages.js';

export type { Channel, Message } from '../store/messages.js';

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

/** The content kept for a message: checked for what its channel needs, other channels' parts dropped. */
function storedContent(input: NewMessage): MessageContent & { subject: string | null; html: string | null; text: string | null; pushTitle: string | null; pushUrl: string | null } {
  requireContent(input);
  return {
    channel: input.channel,
    subject: input.subject ?? null,
    html: input.channel === 'email' ? (input.html ?? null) : null,
    text: input.text ?? null,
    pushTitle: input.channel === 'push' ? (input.pushTitle ?? null) : null,
    pushUrl: input.channel === 'push' ? (input.pushUrl ?? null) : null,
  };
}

/** An empty `from` means the project's default sender; any other is one mailbox. */
const fromOf = (from: string | null | undefined): string | null => (from === undefined || from === null || from.trim() === '' ? null : parseFromMailbox(from));

/** Messages: templates are compiled when saved, so a bad tag is reported now, not at sending time. */
export class MessageService {
  constructor(
    private readonly db: Db,
    private readonly clock: () => number,
  ) {}

  /** A message names only its own project's injection rules. */
  private async checkRules(projectId: number, ruleIds: readonly number[] | undefined): Promise<void> {
    const missing = await missingIds(this.db, 'injection_rules', projectId, ruleIds ?? []);
    if (missing.length === 0) return;
    const reason = `no injection rule ${missing.join(', ')} in project ${projectId}`;
    throw new AppError('InvalidMessage', `injectionRuleIds: ${reason}`, [{ field: 'injectionRuleIds', reason }]);
  }

  async create(projectId: number, input: NewMessage): Promise<{ message: Message; prepared: PreparedMessage }> {
    const content = storedContent(input);
    const prepared = prepareMessage(content);
    await this.checkRules(projectId, input.injectionRuleIds);
    const message = await insertMessage(
      this.db,
      projectId,
      { ...content, name: input.name, communicationType: input.communicationType, from: fromOf(input.from), injectionRuleIds: input.injectionRuleIds ?? [] },
      this.clock(),
    );
    return { message, prepared };
  }

  /**
   * Changes a message that has not been sent yet. Once a sending refers to it,
   * its results are read against this content, so it stays as it was (copy it instead).
   */
  async update(projectId: number, messageId: number, patch: Partial<Omit<NewMessage, 'channel'>>): Promise<{ message: Message; prepared: PreparedMessage }> {
    const current = await this.get(projectId, messageId);
    const sent = await firstSendingOf(this.db, projectId, messageId);
    if (sent !== undefined) throw new AppError('MessageAlreadySent', `message ${messageId} has been sent (sending ${sent}): copy it to change its content`);
    const next: NewMessage = { ...current, ...patch, channel: current.channel };
    const content = storedContent(next);
    const prepared = prepareMessage(content);
    if (patch.injectionRuleIds !== undefined) await this.checkRules(projectId, patch.injectionRuleIds);
    const message = await updateMessage(
      this.db,
      projectId,
      messageId,
      { ...content, name: next.name, communicationType: next.communicationType, from: fromOf(next.from), injectionRuleIds: next.injectionRuleIds ?? [] },
    );
    return { message, prepared };
  }

  /**
   * Removes a message from the lists and the API. A message with a sending not
   * ended, or named by a campaign that may still send it, stays (409); a sent
   * message's row is kept unchanged for its sendings, reports and events.
   */
  async remove(projectId: number, messageId: number): Promise<void> {
    await this.get(projectId, messageId);
    const running = await unfinishedSendingOf(this.db, projectId, messageId);
    if (running !== undefined) throw new AppError('MessageInUse', `message ${messageId} has a sending not ended (sending ${running}): cancel it or let it end first`);
    for (const campaign of await listCampaigns(this.db, projectId)) {
      if (campaign.status === 'finished') continue;
      const named = campaign.nodes.some((node) => node.type === 'send' && Number(node.messageId) === messageId);
      if (named) throw new AppError('MessageInUse', `message ${messageId} is sent by campaign ${campaign.id} (${campaign.status}): change or finish the campaign first`);
    }
    await removeMessage(this.db, projectId, messageId, this.clock());
  }

  /** A message as its sendings read it: removed ones included. */
  async forSending(projectId: number, messageId: number): Promise<Message> {
    const message = await getMessage(this.db, projectId, messageId, { removed: true });
    if (!message) throw notFound('Message', messageId);
    return message;
  }

  async get(projectId: number, messageId: number): Promise<Message> {
    const message = await getMessage(this.db, projectId, messageId);
    if (!message) throw notFound('Message', messageId);
    return message;
  }

  /** The destinations a message's links are rewritten from. */
  links(message: Message): string[] {
    return prepareMessage(contentOf(message)).links;
  }

  async list(projectId: number): Promise<Message[]> {
    return listMessages(this.db, projectId);
  }
}
