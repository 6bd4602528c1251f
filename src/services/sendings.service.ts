import { emailFooter } from '../domain/email-footer.js';
import { randomUUID } from 'node:crypto';
import type { Config } from '../config.js';
import { isTracked } from '../domain/consent.js';
import type { Contact } from '../domain/contact.js';
import { AppError, badInput, notFound } from '../domain/errors.js';
import { type PreparedMessage, prepareMessage, renderMessage } from '../domain/render.js';
import type { LinkPurpose } from '../domain/signed-link.js';
import { newNonce, signToken, type TokenRecipient } from '../domain/token.js';
import type { Db } from '../store/database.js';
import {
  deliveryContactIds,
  insertDeliveries,
  pendingDeliveryIds,
  sendingsWithPendingDeliveries,
  setDeliveryStatus,
} from '../store/deliveries.js';
import {
  type GroupMembers,
  type InFlight,
  type Sending,
  type WindowCounts,
  type SendingTarget,
  type TargetMembers,
  type TargetQuery,
  countSendingOutcomes,
  countTarget,
  countTargetTracked,
  finishSending,
  getSending,
  insertSending,
  listSendings,
  markSendingStarted,
  maxContactId,
  cancelQueuedSending,
  reachable,
  retarget,
  moveInFlight,
  sendingCursor,
  targetBatch,
  targetMembers,
  unfinishedSendingIds,
} from '../store/sendings.js';
import type { OutgoingMessage, Transport } from '../transport/transport.js';
import { contactPageUrl } from './forms.service.js';
import type { Job, JobRunner, Lease, StepResult } from './jobs.js';
import { contentOf, type Message, type MessageService } from './messages.service.js';
import type { Project, ProjectService } from './projects.service.js';

export type { Sending, SendingStatus, SendingTarget } from '../store/sendings.js';

/** The contact ids of a group as a subquery (provided by the segments module). */
export type GroupFilter = (projectId: number, groupId: number, now: number) => Promise<GroupMembers>;

const BATCH = 200;
/**
 * Messages handed to the transport at once. Two windows are in flight at a time — the next one is
 * claimed while the last one is still being handed over, so the database commit overlaps the sending —
 * so a crash costs at most 2 × WINDOW messages.
 */
const WINDOW = 16;

/** One recipient as a window hands it over. */
interface Recipient {
  contact: Contact;
  tracked: boolean;
  recipient: TokenRecipient;
}

/** How far ahead a sending may be scheduled, and how late a scheduledAt may be given (clock skew). */
const MAX_SCHEDULE_MS = 366 * 86_400_000;
const SCHEDULE_SLACK_MS = 5 * 60_000;

/** A window handed to the transport, with what it acknowledged, waiting to be recorded. */
interface HandedWindow {
  ids: number[];
  trackedIds: number[];
  acknowledged: Set<number>;
}

/** What leaves the window in flight once these windows are recorded. */
function outcomeCounts(windows: HandedWindow[]): WindowCounts {
  let delivered = 0;
  let failed = 0;
  for (const w of windows) {
    for (const id of w.ids) {
      if (w.acknowledged.has(id)) delivered++;
      else failed++;
    }
  }
  return { delivered, failed };
}

/** What a sending's figures warn of: messages a crash left unknown. */
export interface SendingWarning {
  code: 'MessagesLost';
  count: number;
  message: string;
}

/** The warnings a sending's figures carry (SPEC §10 keeps `sent`: a sending that lost messages says so here). */
export function sendingWarnings(sending: Pick<Sending, 'lost'>): SendingWarning[] {
  if (sending.lost === 0) return [];
  const n = sending.lost;
  return [
    {
      code: 'MessagesLost',
      count: n,
      message: `${n} message${n === 1 ? ' was' : 's were'} being handed to the transport when a worker stopped without recording ${n === 1 ? 'it' : 'them'}: whether ${n === 1 ? 'it' : 'they'} arrived is unknown, and ${n === 1 ? 'it was' : 'they were'} not sent again`,
    },
  ];
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
  private async targetMembers(project: Project, target: SendingTarget): Promise<TargetMembers> {
    const members = 'groupId' in target ? await this.groupMembers(project.id, target.groupId, this.clock()) : undefined;
    return targetMembers(project.id, target, members);
  }

  private async targetFilter(project: Project, target: SendingTarget): Promise<TargetQuery> {
    return reachable(await this.targetMembers(project, target));
  }

  async create(projectId: number, input: { messageId: number; target: SendingTarget; scheduledAt?: number }): Promise<Sending> {
    const project = await this.projects.get(projectId);
    const message = await this.messages.get(projectId, input.messageId);
    const now = this.clock();
    if (input.scheduledAt !== undefined && !(input.scheduledAt >= now - SCHEDULE_SLACK_MS && input.scheduledAt <= now + MAX_SCHEDULE_MS)) {
      throw badInput('scheduledAt', 'must be a date-time from now to a year ahead');
    }
    const scheduledAt = input.scheduledAt !== undefined && input.scheduledAt > now ? input.scheduledAt : null;
    const prepared = prepareMessage(contentOf(message));
    const members = await this.targetMembers(project, input.target);
    const id = await this.db.transaction().execute(async (trx) => {
      const upTo = await maxContactId(trx, projectId);
      const counted = await countTarget(trx, members, message.channel, upTo);
      const sendingId = await insertSending(trx, projectId, { messageId: message.id, target: input.target, ...counted, maxContactId: upTo, links: prepared.links, scheduledAt }, now);
      await this.jobs.enqueue(trx, projectId, 'sending', sendingId, scheduledAt ?? now);
      return sendingId;
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
    const { targeted, tracked } = await countTargetTracked(this.db, targetQuery, message.channel, project.settings.tracking);
    return { targeted, tracked, untracked: targeted - tracked };
  }

  /** Cancels a sending before it starts; its job, when it comes, finds it ended. 409 once it has started. */
  async cancel(projectId: number, sendingId: number): Promise<Sending> {
    const sending = await this.get(projectId, sendingId);
    if (sending.status === 'cancelled') return sending;
    if (!(await cancelQueuedSending(this.db, projectId, sendingId, this.clock()))) {
      throw new AppError('SendingStarted', `sending ${sendingId} is ${sending.status === 'queued' ? 'starting' : sending.status}: only a sending that has not started can be cancelled`);
    }
    return this.get(projectId, sendingId);
  }

  async get(projectId: number, sendingId: number): Promise<Sending> {
    const sending = await getSending(this.db, projectId, sendingId);
    if (!sending) throw notFound('Sending', sendingId);
    return sending;
  }

  async list(projectId: number): Promise<Sending[]> {
    return listSendings(this.db, projectId);
  }

  private async preparedFor(projectId: number, sending: Sending): Promise<{ message: Message; prepared: PreparedMessage }> {
    let entry = this.prepared.get(sending.id);
    if (!entry) {
      const message = await this.messages.forSending(projectId, sending.messageId);
      entry = { message, prepared: prepareMessage(contentOf(message)) };
      this.prepared.set(sending.id, entry);
    }
    return entry;
  }

  /**
   * One batch of a sending, handed to the transport a window at a time. A window is claimed — the
   * cursor moved past it, its contact ids recorded in flight — before a message of it leaves, and
   * recorded as the transport acknowledged it in the transaction that claims the window after next (so
   * that commit runs while the window between is being handed over). A crash therefore costs at most
   * the two windows in flight and can never send a message twice to one contact; the runner that
   * resumes recovers them first (`recoverInFlight`).
   */
  async step(job: Job, lease: Lease = { lost: false }): Promise<StepResult> {
    const projectId = job.project_id;
    let sending = await this.get(projectId, job.ref_id);
    if (sending.status === 'sent' || sending.status === 'failed' || sending.status === 'cancelled') return 'done';
    const now = this.clock();
    const project = await this.projects.get(projectId);
    const { message, prepared } = await this.preparedFor(projectId, sending);
    const members = await this.targetMembers(project, sending.target);
    const targetQuery = reachable(members);
    if (sending.status === 'queued') {
      // A scheduled sending reaches the contacts that exist when it starts, not those of the day it was scheduled.
      if (sending.scheduledAt !== null) {
        const upTo = await maxContactId(this.db, projectId);
        const counted = await countTarget(this.db, members, message.channel, upTo);
        await retarget(this.db, projectId, sending.id, { maxContactId: upTo, ...counted });
        sending = { ...sending, ...counted };
      }
      await markSendingStarted(this.db, projectId, sending.id, now);
      sending = { ...sending, status: 'sending', startedAt: now };
    }
    const walk = await sendingCursor(this.db, projectId, sending.id);
    if (walk.inFlight) {
      await this.recoverInFlight(project, message, prepared, sending, targetQuery, walk.inFlight, { resend: true });
      return 'continue';
    }
    const batch = await targetBatch(this.db, targetQuery, message.channel, walk.cursor ?? 0, walk.maxContactId, BATCH);
    if (batch.length === 0) {
      await this.recoverPendingRows(projectId, sending.id, message.channel);
      const target = await this.finalTarget(projectId, sending.id, sending.target);
      await finishSending(this.db, projectId, sending.id, { status: 'sent', finishedAt: this.clock(), target });
      this.prepared.delete(sending.id);
      return 'done';
    }
    const recipients: Recipient[] = batch.map((contact) => {
      const tracked = isTracked(contact, project.settings.tracking);
      return { contact, tracked, recipient: tracked ? { contactId: contact.id } : { nonce: newNonce() } };
    });
    let held: InFlight | { cursor: number | null } = { cursor: walk.cursor };
    /** The window being handed over, and the one before it once acknowledged (not yet recorded). */
    let handing: { ids: number[]; trackedIds: number[]; acknowledged: Promise<Set<number>> } | null = null;
    let acknowledged: HandedWindow | null = null;
    for (let i = 0; i < recipients.length && !lease.lost; i += WINDOW) {
      const window = recipients.slice(i, i + WINDOW);
      const ids = window.map((r) => r.contact.id);
      const trackedIds = window.filter((r) => r.tracked).map((r) => r.contact.id);
      const next: InFlight = { claim: randomUUID(), ids: [...(handing?.ids ?? []), ...ids], tracked: [...(handing?.trackedIds ?? []), ...trackedIds] };
      const done = acknowledged ? [acknowledged] : [];
      const from = held;
      // Compare-and-set on what we hold: if another runner took the sending over (our lease ran out under a
      // stalled step), this window is theirs and we send nothing more.
      const claimed = await this.db.transaction().execute(async (trx) => {
        const counts = { ...outcomeCounts(done), tracked: trackedIds.length, untracked: window.length - trackedIds.length };
        if (!(await moveInFlight(trx, projectId, sending.id, { held: from, next, cursor: ids[ids.length - 1]!, counts }))) return false;
        await this.recordDeliveries(trx, projectId, sending.id, done);
        return true;
      });
      if (!claimed) {
        await handing?.acknowledged;
        return 'continue';
      }
      held = next;
      const previous = handing;
      handing = { ids, trackedIds, acknowledged: this.handOver(project, message, prepared, sending, window) };
      acknowledged = previous ? { ...previous, acknowledged: await previous.acknowledged } : null;
    }
    const last: HandedWindow[] = [];
    if (acknowledged) last.push(acknowledged);
    if (handing) last.push({ ...handing, acknowledged: await handing.acknowledged });
    if ('claim' in held) {
      const from = held;
      await this.db.transaction().execute(async (trx) => {
        if (await moveInFlight(trx, projectId, sending.id, { held: from, next: null, counts: outcomeCounts(last) })) await this.recordDeliveries(trx, projectId, sending.id, last);
      });
    }
    return 'continue';
  }

  /** Hands a window to the transport, all at once; resolves with the contacts whose message it acknowledged. */
  private async handOver(project: Project, message: Message, prepared: PreparedMessage, sending: Sending, window: Recipient[]): Promise<Set<number>> {
    const acknowledged = new Set<number>();
    await Promise.all(
      window.map(async (r) => {
        try {
          await this.transport.send(this.compose(project, message, prepared, sending, r.contact, r.recipient));
          acknowledged.add(r.contact.id);
        } catch {
          // counted as failed when the window is recorded
        }
      }),
    );
    return acknowledged;
  }

  /** The delivery rows of recorded windows' tracked recipients: sent where the transport acknowledged, failed elsewhere. */
  private async recordDeliveries(trx: Db, projectId: number, sendingId: number, windows: HandedWindow[]): Promise<void> {
    const at = this.clock();
    const trackedIds = windows.flatMap((w) => w.trackedIds.map((id) => ({ id, sent: w.acknowledged.has(id) })));
    await insertDeliveries(trx, projectId, sendingId, trackedIds.filter((t) => t.sent).map((t) => t.id), 'sent', at);
    await insertDeliveries(trx, projectId, sendingId, trackedIds.filter((t) => !t.sent).map((t) => t.id), 'failed', at);
  }

  /**
   * The window a crashed runner left in flight. What the transport holds a whole message for was
   * delivered; where it can tell a message is not there (the outbox), the message is handed over again
   * (`resend`) to the recipients still in the target; what it cannot tell about (SMTP, webhook) is lost
   * — counted, its delivery rows marked `lost`, and never sent twice.
   */
  private async recoverInFlight(
    project: Project,
    message: Message,
    prepared: PreparedMessage,
    sending: Sending,
    targetQuery: TargetQuery,
    inFlight: InFlight,
    options: { resend: boolean },
  ): Promise<void> {
    const projectId = project.id;
    const held = await this.transport.recover(message.channel, sending.id, inFlight.ids.map(String));
    const delivered = held ? inFlight.ids.filter((id) => held.has(String(id))) : [];
    const missing = inFlight.ids.filter((id) => !delivered.includes(id));
    const trackedIds = new Set(inFlight.tracked);
    // Only a transport that can tell a message is absent lets it go again; the target is read again, so a
    // recipient who left it since (unsubscribed, erased) is not written to.
    const again =
      held && options.resend && missing.length > 0
        ? (await targetBatch(this.db, (db, channel) => targetQuery(db, channel).where('contacts.id', 'in', missing), message.channel, 0, Number.MAX_SAFE_INTEGER, missing.length))
        : [];
    const retry: InFlight | undefined =
      again.length > 0 ? { claim: randomUUID(), ids: again.map((c) => c.id), tracked: again.map((c) => c.id).filter((id) => trackedIds.has(id)) } : undefined;
    const lost = missing.filter((id) => !retry?.ids.includes(id));
    const recovered = await this.db.transaction().execute(async (trx) => {
      const counts = { delivered: delivered.length, lost: lost.length };
      if (!(await moveInFlight(trx, projectId, sending.id, { held: inFlight, next: retry ?? null, counts }))) return false;
      const at = this.clock();
      await insertDeliveries(trx, projectId, sending.id, delivered.filter((id) => trackedIds.has(id)), 'sent', at);
      await insertDeliveries(trx, projectId, sending.id, lost.filter((id) => trackedIds.has(id)), 'lost', at);
      return true;
    });
    if (!recovered || !retry) return;
    const window: Recipient[] = again.map((contact) => {
      // Counted as tracked or untracked when first claimed: the recipient keeps that side.
      const tracked = trackedIds.has(contact.id);
      return { contact, tracked, recipient: tracked ? { contactId: contact.id } : { nonce: newNonce() } };
    });
    const acknowledged = await this.handOver(project, message, prepared, sending, window);
    const handed: HandedWindow[] = [{ ids: retry.ids, trackedIds: window.filter((r) => r.tracked).map((r) => r.contact.id), acknowledged }];
    await this.db.transaction().execute(async (trx) => {
      if (await moveInFlight(trx, projectId, sending.id, { held: retry, next: null, counts: outcomeCounts(handed) })) await this.recordDeliveries(trx, projectId, sending.id, handed);
    });
  }

  /**
   * Delivery rows left `pending` outside any window in flight — by a crash under an earlier release,
   * which moved the cursor past a whole batch before sending it: delivered where the transport holds
   * the message, lost otherwise.
   */
  private async recoverPendingRows(projectId: number, sendingId: number, channel: Message['channel']): Promise<number> {
    const pending = await pendingDeliveryIds(this.db, projectId, sendingId);
    if (pending.length === 0) return 0;
    const held = await this.transport.recover(channel, sendingId, pending.map(String));
    const delivered = held ? pending.filter((id) => held.has(String(id))) : [];
    const lost = pending.filter((id) => !held?.has(String(id)));
    await this.db.transaction().execute(async (trx) => {
      const at = this.clock();
      await setDeliveryStatus(trx, projectId, sendingId, delivered, 'sent', at);
      await setDeliveryStatus(trx, projectId, sendingId, lost, 'lost', at);
      await countSendingOutcomes(trx, projectId, sendingId, { delivered: delivered.length, lost: lost.length });
    });
    return pending.length;
  }

  /**
   * At a worker's start: what crashes left behind outside the sendings still running (whose job
   * recovers its own window when it resumes) — `pending` delivery rows of finished sendings, and the
   * transport's half-written messages (`.part` files) of sendings no longer running.
   */
  async recoverAtStart(): Promise<{ pendingRows: number; partialFiles: number }> {
    const running = await unfinishedSendingIds(this.db);
    let pendingRows = 0;
    for (const { projectId, sendingId } of await sendingsWithPendingDeliveries(this.db)) {
      if (running.has(sendingId)) continue;
      const sending = await getSending(this.db, projectId, sendingId);
      const message = sending && (await this.messages.get(projectId, sending.messageId).catch(() => null));
      if (!message) continue;
      pendingRows += await this.recoverPendingRows(projectId, sendingId, message.channel);
    }
    const partialFiles = await this.transport.sweep((id) => running.has(id));
    return { pendingRows, partialFiles };
  }

  /** A list target names untracked recipients too: once the sending ends, it keeps only the tracked ones (rule 3). */
  private async finalTarget(projectId: number, sendingId: number, target: SendingTarget): Promise<SendingTarget> {
    if (!('contactIds' in target)) return target;
    const listed = new Set(target.contactIds);
    return { contactIds: (await deliveryContactIds(this.db, projectId, sendingId)).filter((id) => listed.has(id)) };
  }

  async failed(job: Job, error: unknown): Promise<void> {
    const message = error instanceof Error ? error.message : String(error);
    const sending = await this.get(job.project_id, job.ref_id);
    // A window left in flight is recovered as after a crash (what arrived counted, the rest lost), not sent again.
    // The message may be what failed (deleted since): then there is nothing to recover it with.
    const project = await this.projects.get(job.project_id);
    const entry = await this.preparedFor(job.project_id, sending).catch(() => null);
    if (entry) {
      const walk = await sendingCursor(this.db, job.project_id, sending.id);
      if (walk.inFlight) {
        const targetQuery = await this.targetFilter(project, sending.target);
        await this.recoverInFlight(project, entry.message, entry.prepared, sending, targetQuery, walk.inFlight, { resend: false });
      }
      await this.recoverPendingRows(job.project_id, sending.id, entry.message.channel);
    }
    const target = await this.finalTarget(job.project_id, job.ref_id, sending.target);
    await finishSending(this.db, job.project_id, job.ref_id, { status: 'failed', error: message, finishedAt: this.clock(), target });
    this.prepared.delete(sending.id);
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
    // What applies to this recipient: a tracked one is told how to refuse, an untracked one that nothing is measured.
    const footer = withFooter
      ? emailFooter({ tracked: 'contactId' in recipient, lang: project.settings.language, preferencesUrl: urls.trackingOptOutUrl, overrides: project.settings.emailFooter })
      : null;
    const rendered = renderMessage(prepared, {
      contact: { id: contact.id, email: contact.email, phone: contact.phone, externalId: contact.externalId, fields: contact.fields },
      message: { id: message.id, name: message.name },
      sending: { id: sending.id },
      urls,
      clickUrl: (linkIdx) => this.trackingUrl('click', sending.id, linkIdx, recipient, sentAfterMs),
      openUrl: message.channel === 'email' ? this.trackingUrl('open', sending.id, 0, recipient, sentAfterMs) : null,
      footerHtml: footer?.html ?? null,
      footerText: footer?.text ?? null,
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
