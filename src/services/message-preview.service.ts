import { isTracked } from '../domain/consent.js';
import type { Contact } from '../domain/contact.js';
import { notFound } from '../domain/errors.js';
import { prepareMessage } from '../domain/render.js';
import { newNonce, type TokenRecipient } from '../domain/token.js';
import { getContact } from '../store/contacts.js';
import type { Db } from '../store/database.js';
import { type Channel, contentOf, type Message, type MessageService } from './messages.service.js';
import type { ProjectService } from './projects.service.js';
import type { SendingService } from './sendings.service.js';

/** The content of a message being edited, not yet saved. */
export interface DraftMessage {
  channel: Channel;
  name?: string | undefined;
  communicationType?: string | undefined;
  subject?: string | null | undefined;
  html?: string | null | undefined;
  text?: string | null | undefined;
  pushTitle?: string | null | undefined;
  pushUrl?: string | null | undefined;
}

export interface MessagePreview {
  subject: string | null;
  html: string | null;
  text: string | null;
  pushTitle: string | null;
  pushUrl: string | null;
  /** Each destination and the tracking link it is rewritten to. */
  links: { url: string; trackingUrl: string }[];
  /** The open pixel added to email HTML (null for SMS and push). */
  openPixelUrl: string | null;
  /** The contact whose values were filled, and whether their links carry their id; null = sample values. */
  contact: { id: number; email: string | null; tracked: boolean } | null;
}

/** Placeholder recipient when no contact is chosen: merge tags show their defaults. */
const SAMPLE_CONTACT: Contact = {
  id: 0,
  projectId: 0,
  email: null,
  externalId: null,
  phone: null,
  fields: {},
  status: 'active',
  hasTrackingConsent: null,
  dtTrackingConsent: null,
  createdAt: 0,
  updatedAt: 0,
};

/**
 * Message previews: the message rendered exactly as a sending composes it
 * for one recipient (merge tags filled, links rewritten to tracking links,
 * pixel and footer added), without sending anything. The links point to
 * sending 0, which never exists, so a click on a preview records nothing.
 */
export class MessagePreviewService {
  constructor(
    private readonly db: Db,
    private readonly projects: ProjectService,
    private readonly messages: MessageService,
    private readonly sendings: SendingService,
  ) {}

  async ofMessage(projectId: number, messageId: number, contactId?: number): Promise<MessagePreview> {
    const message = await this.messages.get(projectId, messageId);
    return this.render(projectId, message, contactId);
  }

  /** Renders unsaved content; a bad merge tag is a 400 naming its field and line, as saving would say. */
  async ofDraft(projectId: number, draft: DraftMessage, contactId?: number): Promise<MessagePreview> {
    const message: Message = {
      id: 0,
      projectId,
      channel: draft.channel,
      name: draft.name ?? '',
      communicationType: draft.communicationType ?? '',
      subject: draft.subject ?? null,
      html: draft.channel === 'email' ? (draft.html ?? null) : null,
      text: draft.text ?? null,
      pushTitle: draft.channel === 'push' ? (draft.pushTitle ?? null) : null,
      pushUrl: draft.channel === 'push' ? (draft.pushUrl ?? null) : null,
      from: null,
      injectionRuleIds: [],
      createdAt: 0,
    };
    return this.render(projectId, message, contactId);
  }

  private async render(projectId: number, message: Message, contactId: number | undefined): Promise<MessagePreview> {
    const project = await this.projects.get(projectId);
    let contact = SAMPLE_CONTACT;
    if (contactId !== undefined) {
      const found = await getContact(this.db, projectId, contactId);
      if (!found) throw notFound('Contact', contactId);
      contact = found;
    }
    const tracked = contactId !== undefined && isTracked(contact, project.settings.tracking);
    const recipient: TokenRecipient = tracked ? { contactId: contact.id } : { nonce: newNonce() };
    const prepared = prepareMessage(contentOf(message));
    const sendingId = 0;
    const out = this.sendings.compose(project, message, prepared, { id: sendingId, startedAt: null }, contact, recipient);
    return {
      subject: out.subject,
      html: out.html,
      text: out.text,
      pushTitle: out.pushTitle,
      pushUrl: out.pushUrl,
      links: prepared.links.map((url, i) => ({ url, trackingUrl: this.sendings.trackingUrl('click', sendingId, i + 1, recipient) })),
      openPixelUrl: message.channel === 'email' ? this.sendings.trackingUrl('open', sendingId, 0, recipient) : null,
      contact: contactId === undefined ? null : { id: contact.id, email: contact.email, tracked },
    };
  }
}
