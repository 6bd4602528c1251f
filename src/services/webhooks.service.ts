import { randomUUID } from 'node:crypto';
import { lookup as dnsLookup } from 'node:dns/promises';
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { trackingStatus } from '../domain/consent.js';
import type { Contact } from '../domain/contact.js';
import { badInput, notFound } from '../domain/errors.js';
import { isPublicAddress, literalAddress, nextAttemptAt, urlProblem, type WebhookEvent, type WebhookPayload, webhookSignature } from '../domain/webhook.js';
import { getContact } from '../store/contacts.js';
import type { Db } from '../store/database.js';
import { setJobRunAt } from '../store/jobs.js';
import {
  deleteWebhook,
  getDelivery,
  getWebhook,
  insertDeliveries,
  insertWebhook,
  listDeliveries,
  listWebhooks,
  recordAttempt,
  updateWebhook,
  type Webhook,
  type WebhookAttempt,
  type WebhookDelivery,
  webhooksFor,
} from '../store/webhooks.js';
import type { AppliedConsentChange } from './consent.service.js';
import type { Job, JobRunner, StepResult } from './jobs.js';
import type { Project } from './projects.service.js';

export type { Webhook, WebhookDelivery } from '../store/webhooks.js';

/** The job kind that delivers one row of `webhook_deliveries` (its `ref_id`). */
export const WEBHOOK_JOB = 'webhook';
const TIMEOUT_MS = 10_000;
const MAX_ERROR = 500;

/** Resolves a host name to its addresses (DNS); replaceable in tests. */
export type Resolver = (hostname: string) => Promise<string[]>;
const resolveAll: Resolver = async (hostname) => (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

export interface WebhookInput {
  url: string;
  secret: string;
  events: WebhookEvent[];
  active?: boolean;
}

/** What an event tells a receiver about one contact. */
interface EventFacts {
  contactId: number;
  trackingStatus: string;
  date: number;
  source: string;
}

/**
 * Consent webhooks (SPEC §14, issue 15 item 5): CRUD, an outbox written in the transaction of the change it
 * tells about, and delivery by the job system — signed, at least once (the payload `id` is the idempotency
 * key), retried with back-off for 24 h. The receiving URL is checked at save and again at each delivery
 * (DNS resolved, only public addresses unless `webhookAllowPrivate`), and the connection goes to the very
 * address checked; redirects are never followed.
 */
export class WebhookService {
  /** DNS resolution of receivers' host names (tests replace it to play a rebinding DNS). */
  resolve: Resolver = resolveAll;

  constructor(
    private readonly db: Db,
    private readonly clock: () => number,
    private readonly config: { webhookAllowPrivate: boolean },
    private readonly jobs: JobRunner,
  ) {}

  async create(projectId: number, input: WebhookInput): Promise<Webhook> {
    await this.checkUrl(input.url);
    return insertWebhook(this.db, projectId, { ...input, active: input.active ?? true }, this.clock());
  }

  list(projectId: number): Promise<Webhook[]> {
    return listWebhooks(this.db, projectId);
  }

  async get(projectId: number, id: number): Promise<Webhook> {
    const hook = await getWebhook(this.db, projectId, id);
    if (!hook) throw notFound('Webhook', id);
    return hook;
  }

  async update(projectId: number, id: number, patch: Partial<WebhookInput>): Promise<Webhook> {
    const hook = await this.get(projectId, id);
    if (patch.url !== undefined) await this.checkUrl(patch.url);
    const next: Webhook = { ...hook, ...patch, active: patch.active ?? hook.active };
    await updateWebhook(this.db, next, this.clock());
    return this.get(projectId, id);
  }

  async remove(projectId: number, id: number): Promise<void> {
    if (!(await deleteWebhook(this.db, projectId, id))) throw notFound('Webhook', id);
  }

  async deliveries(projectId: number, webhookId: number, limit: number): Promise<WebhookDelivery[]> {
    await this.get(projectId, webhookId);
    return listDeliveries(this.db, projectId, webhookId, limit);
  }

  /** Outbox hook of ConsentService.record: one `consent.changed` per applied change, in the caller's transaction. */
  consentChanged(trx: Db, project: Project, changes: readonly AppliedConsentChange[]): Promise<void> {
    return this.enqueue(
      trx,
      project.id,
      'consent.changed',
      changes.map((c) => ({ contactId: c.contact.id, trackingStatus: trackingStatus(c.contact.hasTrackingConsent), date: c.date, source: c.source })),
    );
  }

  /** Outbox hook of the erasure, called in its transaction before the contact's rows go. */
  async contactErased(trx: Db, projectId: number, contactId: number): Promise<void> {
    const contact = await getContact(trx, projectId, contactId);
    if (!contact) return;
    await this.enqueue(trx, projectId, 'contact.erased', [{ contactId, trackingStatus: trackingStatus(contact.hasTrackingConsent), date: this.clock(), source: 'erasure' }]);
  }

  /** Outbox hook of an unsubscribe (page or RFC 8058 one-click), in its transaction. */
  contactUnsubscribed(trx: Db, projectId: number, contact: Contact, source: string): Promise<void> {
    return this.enqueue(trx, projectId, 'contact.unsubscribed', [{ contactId: contact.id, trackingStatus: trackingStatus(contact.hasTrackingConsent), date: this.clock(), source }]);
  }

  /** Writes one delivery per (subscribed webhook, fact) and the job that sends it, in `trx`. */
  private async enqueue(trx: Db, projectId: number, type: WebhookEvent, facts: readonly EventFacts[]): Promise<void> {
    if (facts.length === 0) return;
    const hooks = await webhooksFor(trx, projectId, type);
    if (hooks.length === 0) return;
    const now = this.clock();
    const rows = hooks.flatMap((hook) =>
      facts.map((fact) => {
        const eventId = randomUUID();
        const payload: WebhookPayload = {
          id: eventId,
          type,
          projectId: String(projectId),
          contactId: String(fact.contactId),
          trackingStatus: fact.trackingStatus,
          date: new Date(fact.date).toISOString(),
          source: fact.source,
        };
        return { webhookId: hook.id, eventId, type, payload: JSON.stringify(payload) };
      }),
    );
    for (const id of await insertDeliveries(trx, projectId, rows, now)) await this.jobs.enqueue(trx, projectId, WEBHOOK_JOB, id, now);
  }

  /** One attempt of one delivery (a job step); a failure reschedules the job itself, so the runner's own retries stay unused. */
  async step(job: Job): Promise<StepResult> {
    const delivery = await getDelivery(this.db, job.project_id, job.ref_id);
    if (delivery?.status !== 'pending') return 'done';
    const hook = await getWebhook(this.db, job.project_id, delivery.webhookId);
    if (!hook) return 'done';
    const now = this.clock();
    const attempt: WebhookAttempt = hook.active ? await this.attempt(hook, delivery, now) : { at: now, statusCode: null, error: 'webhook is disabled' };
    if (attempt.error === null) {
      await recordAttempt(this.db, job.project_id, delivery, { status: 'delivered', attempt, nextAttemptAt: null }, this.clock());
      return 'done';
    }
    const next = hook.active ? nextAttemptAt(delivery.createdAt, delivery.attempts + 1, this.clock()) : null;
    await recordAttempt(this.db, job.project_id, delivery, { status: next === null ? 'failed' : 'pending', attempt, nextAttemptAt: next }, this.clock());
    if (next === null) return 'done';
    await setJobRunAt(this.db, job.project_id, job.id, next);
    return 'continue';
  }

  private async attempt(hook: Webhook, delivery: WebhookDelivery, at: number): Promise<WebhookAttempt> {
    try {
      const address = await this.allowedAddress(hook.url);
      const seconds = Math.floor(this.clock() / 1000);
      const headers = {
        'content-type': 'application/json',
        'user-agent': 'trackguard-webhooks',
        'x-trackguard-signature': webhookSignature(hook.secret, seconds, delivery.payload),
        'x-trackguard-delivery': delivery.eventId,
        'x-trackguard-event': delivery.type,
      };
      const statusCode = await post(hook.url, address, headers, delivery.payload);
      if (statusCode >= 200 && statusCode < 300) return { at, statusCode, error: null };
      const error = statusCode >= 300 && statusCode < 400 ? `redirect (HTTP ${statusCode}) not followed` : `HTTP ${statusCode}`;
      return { at, statusCode, error };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return { at, statusCode: null, error: message.slice(0, MAX_ERROR) };
    }
  }

  /** At save: refuses a URL that is not http(s) or whose host is (or resolves to) a non-public address. */
  private async checkUrl(url: string): Promise<void> {
    const problem = urlProblem(url);
    if (problem) throw badInput('url', problem);
    try {
      await this.allowedAddress(url);
    } catch (error) {
      throw badInput('url', error instanceof Error ? error.message : String(error));
    }
  }

  /** The address to connect to for `url`: every address its host resolves to must be public (unless allowed). */
  private async allowedAddress(url: string): Promise<string> {
    const { hostname } = new URL(url);
    const literal = literalAddress(hostname);
    let addresses: string[];
    if (literal) addresses = [literal];
    else {
      try {
        addresses = await this.resolve(hostname);
      } catch {
        throw new Error(`host ${hostname} does not resolve`);
      }
    }
    if (addresses.length === 0) throw new Error(`host ${hostname} does not resolve`);
    if (!this.config.webhookAllowPrivate) {
      const refused = addresses.find((a) => !isPublicAddress(a));
      if (refused) throw new Error(`refused: ${hostname} is or resolves to a loopback, private or reserved address (${refused}); TRACKGUARD_WEBHOOK_ALLOW_PRIVATE=true allows it`);
    }
    return addresses[0] as string;
  }
}

/**
 * POSTs `body` to `url` over a connection to `address` (the one checked; the name still goes in Host and
 * TLS SNI), never following a redirect; resolves with the status code once the answer has been read.
 */
function post(url: string, address: string, headers: Record<string, string>, body: string): Promise<number> {
  const target = new URL(url);
  const family = isIP(address);
  const options: RequestOptions = {
    method: 'POST',
    headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
    timeout: TIMEOUT_MS,
    // Pins the connection to the address checked: a second DNS answer (rebinding) is never asked for.
    lookup: ((_host: string, opts: { all?: boolean }, callback: (...args: unknown[]) => void) => {
      if (opts?.all) callback(null, [{ address, family }]);
      else callback(null, address, family);
    }) as unknown as RequestOptions['lookup'],
  };
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(target, options, (res: IncomingMessage) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS / 1000} s`)));
    req.on('error', reject);
    req.end(body);
  });
}
