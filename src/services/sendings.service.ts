import { type Selectable, type SelectQueryBuilder, sql } from 'kysely';
import type { Config } from '../config.js';
import { isTracked, trackedSql } from '../domain/consent.js';
import type { Contact } from '../domain/contact.js';
import { notFound } from '../domain/errors.js';
import { type PreparedMessage, prepareMessage, renderMessage } from '../domain/render.js';
import type { LinkPurpose } from '../domain/signed-link.js';
import { newNonce, signToken, type TokenRecipient } from '../domain/token.js';
import { toContact } from '../store/contacts.js';
import type { Db } from '../store/database.js';
import type { Database, SendingTable } from '../store/schema.js';
import type { OutgoingMessage, Transport } from '../transport/transport.js';
import { contactPageUrl } from './forms.service.js';
import type { Job, JobRunner, StepResult } from './jobs.js';
import { contentOf, type Message, type MessageService } from './messages.service.js';
import type { Project, ProjectService } from './projects.service.js';

export type SendingTarget = { all: true } | { groupId: number } | { contactIds: number[] };
export type SendingStatus = 'queued' | 'sending' | 'sent' | 'failed';

export interface Sending {
  id: number;
  projectId: number;
  messageId: number;
  target: SendingTarget;
  status: SendingStatus;
  targeted: number;
  tracked: number;
  untracked: number;
  delivered: number;
  failed: number;
  error: string | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

/** The contact ids of a group as a subquery (provided by the segments module). */
export type GroupFilter = (
  projectId: number,
  groupId: number,
  now: number,
) => Promise<SelectQueryBuilder<Database & { c: Database['contacts'] }, 'c', { id: number }>>;

const BATCH = 200;
const CONCURRENCY = 16;

function toSending(row: Selectable<SendingTable>): Sending {
  return {
    id: row.id,
    projectId: row.project_id,
    messageId: row.message_id,
    target: JSON.parse(row.target) as SendingTarget,
    status: row.status as SendingStatus,
    targeted: row.targeted,
    tracked: row.tracked,
    untracked: row.untracked,
    delivered: row.delivered,
    failed: row.failed,
    error: row.error,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}

/** The address a channel sends to. */
function addressColumn(channel: Message['channel']): 'email' | 'phone' | 'external_id' {
  return channel === 'email' ? 'email' : channel === 'sms' ? 'phone' : 'external_id';
}

/**
 * Sendings: a durable job walks the target's contacts in id order from a
 * cursor. Each recipient's tracking status is evaluated at sending time:
 * tracked recipients get tokens with their contact id and a delivery row;
 * untracked ones get tokens with a random nonce and leave no per-contact row
 * (only the sending's untracked count).
 */
export class SendingService {
  private readonly prepared = new Map<number, { message: Message; prepared: PreparedMessage }>();

  constructor(
    private readonly db: Db,
    private readonly clock: () => number,
    private readonly config: Config,
    private readonly projects: ProjectService,
    private readonly messages: MessageService,
    private readonly transport: Transport,
    private readonly jobs: JobRunner,
    private readonly groupMembers: GroupFilter,
  ) {}

  /**
   * The target's membership as a predicate on `contacts`. Resolved before any
   * transaction opens: a group's criteria may read the database, and SQLite has
   * one connection.
   */
  private async targetFilter(project: Project, target: SendingTarget) {
    let members: Awaited<ReturnType<GroupFilter>> | undefined;
    if ('groupId' in target) members = await this.groupMembers(project.id, target.groupId, this.clock());
    return (db: Db, channel: Message['channel']) => {
      let q = db
        .selectFrom('contacts')
        .where('contacts.project_id', '=', project.id)
        .where('contacts.status', '=', 'active')
        .where(addressColumn(channel), 'is not', null);
      if ('contactIds' in target) q = q.where('contacts.id', 'in', target.contactIds.length > 0 ? target.contactIds : [-1]);
      if (members) q = q.where('contacts.id', 'in', members);
      return q;
    };
  }

  async create(projectId: number, input: { messageId: number; target: SendingTarget }): Promise<Sending> {
    const project = await this.projects.get(projectId);
    const message = await this.messages.get(projectId, input.messageId);
    const now = this.clock();
    const prepared = prepareMessage(contentOf(message));
    const targetQuery = await this.targetFilter(project, input.target);
    const id = await this.db.transaction().execute(async (trx) => {
      const bound = await trx.selectFrom('contacts').select((eb) => eb.fn.max('id').as('max')).where('project_id', '=', projectId).executeTakeFirst();
      const maxContactId = Number(bound?.max ?? 0);
      const counted = await targetQuery(trx, message.channel)
        .where('contacts.id', '<=', maxContactId)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      const row = await trx
        .insertInto('sendings')
        .values({
          project_id: projectId,
          message_id: message.id,
          target: JSON.stringify(input.target),
          status: 'queued',
          targeted: Number(counted.n),
          tracked: 0,
          untracked: 0,
          delivered: 0,
          failed: 0,
          max_contact_id: maxContactId,
          cursor: 0,
          created_at: now,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      if (prepared.links.length > 0) {
        await trx
          .insertInto('sending_links')
          .values(prepared.links.map((url, i) => ({ project_id: projectId, sending_id: row.id, idx: i + 1, url })))
          .execute();
      }
      await trx.insertInto('sending_stats').values({ project_id: projectId, sending_id: row.id, opens: 0, opens_machine: 0, clicks: 0, clicks_machine: 0 }).execute();
      await this.jobs.enqueue(trx, projectId, 'sending', row.id);
      return row.id;
    });
    this.jobs.wake();
    return this.get(projectId, id);
  }

  /**
   * Who a sending of this message to `target` would reach now, split by the
   * one tracked predicate: what the app shows before a sending is confirmed.
   */
  async countRecipients(projectId: number, messageId: number, target: SendingTarget): Promise<{ targeted: number; tracked: number; untracked: number }> {
    const project = await this.projects.get(projectId);
    const message = await this.messages.get(projectId, messageId);
    const targetQuery = await this.targetFilter(project, target);
    const row = await targetQuery(this.db, message.channel)
      .select((eb) => [
        eb.fn.countAll<number>().as('targeted'),
        sql<number>`SUM(CASE WHEN ${trackedSql(project.settings.tracking, 'contacts.has_tracking_consent')} THEN 1 ELSE 0 END)`.as('tracked'),
      ])
      .executeTakeFirstOrThrow();
    const targeted = Number(row.targeted);
    const tracked = Number(row.tracked ?? 0);
    return { targeted, tracked, untracked: targeted - tracked };
  }

  async get(projectId: number, sendingId: number): Promise<Sending> {
    const row = await this.db.selectFrom('sendings').selectAll().where('project_id', '=', projectId).where('id', '=', sendingId).executeTakeFirst();
    if (!row) throw notFound('Sending', sendingId);
    return toSending(row);
  }

  async list(projectId: number): Promise<Sending[]> {
    const rows = await this.db.selectFrom('sendings').selectAll().where('project_id', '=', projectId).orderBy('id', 'desc').limit(500).execute();
    return rows.map(toSending);
  }

  private async preparedFor(projectId: number, sending: Sending): Promise<{ message: Message; prepared: PreparedMessage }> {
    let entry = this.prepared.get(sending.id);
    if (!entry) {
      const message = await this.messages.get(projectId, sending.messageId);
      entry = { message, prepared: prepareMessage(contentOf(message)) };
      this.prepared.set(sending.id, entry);
    }
    return entry;
  }

  /**
   * One batch of a sending. The cursor moves past the batch before anything is
   * handed to the transport, so a crash can cost a batch its delivery but can
   * never send a message twice to one contact.
   */
  async step(job: Job): Promise<StepResult> {
    const projectId = job.project_id;
    let sending = await this.get(projectId, job.ref_id);
    if (sending.status === 'sent' || sending.status === 'failed') return 'done';
    const now = this.clock();
    if (sending.status === 'queued') {
      await this.db.updateTable('sendings').set({ status: 'sending', started_at: now }).where('project_id', '=', projectId).where('id', '=', sending.id).execute();
      sending = { ...sending, status: 'sending', startedAt: now };
    }
    const project = await this.projects.get(projectId);
    const { message, prepared } = await this.preparedFor(projectId, sending);
    const row = await this.db.selectFrom('sendings').select(['cursor', 'max_contact_id']).where('project_id', '=', projectId).where('id', '=', sending.id).executeTakeFirstOrThrow();
    const targetQuery = await this.targetFilter(project, sending.target);
    const batch = (
      await targetQuery(this.db, message.channel)
        .selectAll('contacts')
        .where('contacts.id', '>', row.cursor ?? 0)
        .where('contacts.id', '<=', row.max_contact_id)
        .orderBy('contacts.id')
        .limit(BATCH)
        .execute()
    ).map(toContact);
    if (batch.length === 0) {
      const target = await this.finalTarget(projectId, sending.id, sending.target);
      await this.db
        .updateTable('sendings')
        .set({ status: 'sent', finished_at: this.clock(), cursor: null, target })
        .where('project_id', '=', projectId)
        .where('id', '=', sending.id)
        .execute();
      this.prepared.delete(sending.id);
      return 'done';
    }
    const recipients = batch.map((contact) => {
      const tracked = isTracked(contact, project.settings.tracking);
      const recipient: TokenRecipient = tracked ? { contactId: contact.id } : { nonce: newNonce() };
      return { contact, tracked, recipient };
    });
    const trackedIds = recipients.filter((r) => r.tracked).map((r) => r.contact.id);
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('sendings')
        .set((eb) => ({
          cursor: batch[batch.length - 1]!.id,
          tracked: eb('tracked', '+', trackedIds.length),
          untracked: eb('untracked', '+', batch.length - trackedIds.length),
        }))
        .where('project_id', '=', projectId)
        .where('id', '=', sending.id)
        .execute();
      if (trackedIds.length > 0) {
        await trx
          .insertInto('deliveries')
          .values(trackedIds.map((contactId) => ({ project_id: projectId, sending_id: sending.id, contact_id: contactId, status: 'pending', at: now })))
          .onConflict((oc) => oc.columns(['project_id', 'sending_id', 'contact_id']).doNothing())
          .execute();
      }
    });
    const outcomes = new Map<number, boolean>();
    for (let i = 0; i < recipients.length; i += CONCURRENCY) {
      await Promise.all(
        recipients.slice(i, i + CONCURRENCY).map(async (r) => {
          try {
            await this.transport.send(this.compose(project, message, prepared, sending, r.contact, r.recipient));
            outcomes.set(r.contact.id, true);
          } catch {
            outcomes.set(r.contact.id, false);
          }
        }),
      );
    }
    const delivered = [...outcomes.values()].filter(Boolean).length;
    const deliveredAt = this.clock();
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('sendings')
        .set((eb) => ({ delivered: eb('delivered', '+', delivered), failed: eb('failed', '+', outcomes.size - delivered) }))
        .where('project_id', '=', projectId)
        .where('id', '=', sending.id)
        .execute();
      for (const status of ['sent', 'failed'] as const) {
        const ids = trackedIds.filter((id) => outcomes.get(id) === (status === 'sent'));
        if (ids.length === 0) continue;
        await trx
          .updateTable('deliveries')
          .set({ status, at: deliveredAt })
          .where('project_id', '=', projectId)
          .where('sending_id', '=', sending.id)
          .where('contact_id', 'in', ids)
          .execute();
      }
    });
    return 'continue';
  }

  /** A list target names untracked recipients too: once the sending ends, it keeps only the tracked ones (rule 3). */
  private async finalTarget(projectId: number, sendingId: number, target: SendingTarget): Promise<string> {
    if (!('contactIds' in target)) return JSON.stringify(target);
    const rows = await this.db.selectFrom('deliveries').select('contact_id').where('project_id', '=', projectId).where('sending_id', '=', sendingId).execute();
    const listed = new Set(target.contactIds);
    return JSON.stringify({ contactIds: rows.map((r) => r.contact_id).filter((id) => listed.has(id)) });
  }

  async failed(job: Job, error: unknown): Promise<void> {
    const message = error instanceof Error ? error.message : String(error);
    const sending = await this.get(job.project_id, job.ref_id);
    const target = await this.finalTarget(job.project_id, job.ref_id, sending.target);
    await this.db
      .updateTable('sendings')
      .set({ status: 'failed', error: message, finished_at: this.clock(), cursor: null, target })
      .where('project_id', '=', job.project_id)
      .where('id', '=', job.ref_id)
      .execute();
  }

  /** A recipient's open pixel (`linkIdx` 0) or click link for destination `linkIdx`. */
  trackingUrl(kind: 'open' | 'click', sendingId: number, linkIdx: number, recipient: TokenRecipient, sentAfterMs = 0): string {
    const token = signToken(this.config.secrets[0]!, { kind, sendingId, linkIdx, recipient, sentAfterMs });
    return `${this.config.publicUrl}/t/${kind === 'open' ? 'o' : 'c'}/${token}`;
  }

  /** Renders one recipient's message with its tracking links, pixel, footer and unsubscribe headers. */
  compose(
    project: Project,
    message: Message,
    prepared: PreparedMessage,
    sending: Pick<Sending, 'id' | 'startedAt'>,
    contact: Contact,
    recipient: TokenRecipient,
  ): OutgoingMessage {
    // When this recipient's message leaves, relative to the sending's start: tells instant scanner clicks apart.
    const sentAfterMs = Math.max(0, this.clock() - (sending.startedAt ?? this.clock()));
    const pageUrl = (purpose: LinkPurpose) => contactPageUrl(this.config, purpose, project.id, contact.id);
    const urls = { unsubscribeUrl: pageUrl('unsubscribe'), trackingOptOutUrl: pageUrl('tracking-optout'), profileUrl: pageUrl('profile') };
    const withFooter = message.channel === 'email' && project.settings.tracking.enabled && project.settings.tracking.optOutFooter;
    const rendered = renderMessage(prepared, {
      contact: { id: contact.id, email: contact.email, phone: contact.phone, externalId: contact.externalId, fields: contact.fields },
      message: { id: message.id, name: message.name },
      sending: { id: sending.id },
      urls,
      clickUrl: (linkIdx) => this.trackingUrl('click', sending.id, linkIdx, recipient, sentAfterMs),
      openUrl: message.channel === 'email' ? this.trackingUrl('open', sending.id, 0, recipient, sentAfterMs) : null,
      footerHtml: withFooter
        ? `<p style="font-size:12px;color:#555">You can refuse the tracking of your opens and clicks: <a href="${urls.trackingOptOutUrl}">tracking preferences</a>.</p>`
        : null,
      footerText: withFooter ? `You can refuse the tracking of your opens and clicks: ${urls.trackingOptOutUrl}` : null,
    });
    const to = message.channel === 'email' ? contact.email : message.channel === 'sms' ? contact.phone : contact.externalId;
    return {
      projectId: project.id,
      sendingId: sending.id,
      channel: message.channel,
      to: to ?? '',
      from: message.from ?? this.config.fromAddress,
      subject: rendered.subject,
      html: rendered.html,
      text: rendered.text,
      pushTitle: rendered.pushTitle,
      pushUrl: rendered.pushUrl,
      headers:
        message.channel === 'email'
          ? { 'List-Unsubscribe': `<${urls.unsubscribeUrl}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' }
          : {},
      recipientKey: String(contact.id),
    };
  }
}
