import { purgeSpentFormTokens, spendFormToken } from '../store/spent-form-tokens.js';
import { createHash, randomBytes } from 'node:crypto';
import type { Config } from '../config.js';
import { capUserAgent } from '../domain/anonymous-event.js';
import { isTracked } from '../domain/consent.js';
import { gpcAnonymises } from '../domain/gpc.js';
import type { Contact } from '../domain/contact.js';
import { AppError, } from '../domain/errors.js';
import { escapeHtml } from '../domain/escape-html.js';
import {
  confirmationEmailText,
  confirmationTtlMs,
  confirmationWording,
  type FieldError,
  type Form,
  formFields,
  formTexts,
  LANGS,
  type Lang,
  needsConfirmation,
  optOutWording,
  type PageForm,
  readFormValues,
  showsConsentField,
  subscriptionWording,
  unsubscribeWording,
  wordingHash,
} from '../domain/form.js';
import { signConfirmationToken, verifyConfirmationToken, } from '../domain/signed-link.js';
import { appendConsentEntries, lockLedger, newestContactEntrySeq } from '../store/consent-history.js';
import { subjectHash } from '../domain/ledger.js';
import { deactivateContact, findContactsByKeys, getContact, updateContact } from '../store/contacts.js';
import type { Db } from '../store/database.js';
import { insertFormEvent } from '../store/form-events.js';
import { consumeFormRequest, countRecentFormRequests, deleteFormRequest, type FormRequest, findFormRequest, insertFormRequest, purgeExpiredFormRequests } from '../store/form-requests.js';
import { storeWordings } from '../store/consent-wordings.js';
import { getFormById, } from '../store/forms.js';
import type { Transport } from '../transport/transport.js';
import type { AppliedConsentChange, ConsentService } from './consent.service.js';
import type { ContactService, MergeRecord } from './contacts.service.js';
import type { Project, ProjectService } from './projects.service.js';

/** Who submitted a form, kept with consent changes as their proof. */
export interface Submitter {
  ip: string | null;
  userAgent: string | null;
  /** The request's `Sec-GPC` header: with `1` (and `tracking.honorGpc`) the form's event is anonymous (SPEC §14). */
  gpc?: string | string[] | undefined;
}

/** The consent-history entry a person's change wrote: what their receipt proves (SPEC §14). */
export interface ReceiptRef {
  contactId: number;
  seq: number;
}

export type SubmitOutcome = { ok: true; receipt?: ReceiptRef } | { ok: false; values: Record<string, string>; errors: Record<string, FieldError> };

/** What a subscription did, for the answer page; never says whether the address was known. */
export type SubscribeOutcome = SubmitOutcome & {
  /** The confirmation email in flight, when one is sent; the page does not wait for it. */
  mail?: Promise<void>;
};

const HOUR = 3_600_000;
/** Confirmation emails per address, per form, per hour: beyond, the request is dropped silently (same page). */
export const CONFIRMATION_EMAILS_PER_HOUR = 3;
/** OutgoingMessage.sendingId of emails that belong to no sending (form confirmations). */
export const NO_SENDING = 0;

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** The request's proof as it goes in the history, and what the person was shown. */
function requestWording(form: Form, request: FormRequest): string {
  const texts = formTexts(form.kind, langOf(request.lang), form.spec);
  return request.consent && showsConsentField(form) ? texts.consentLabel : subscriptionWording(texts);
}

const langOf = (lang: string): Lang => (LANGS as readonly string[]).includes(lang) ? (lang as Lang) : 'en';

/**
 * What each public page does when submitted: subscription (with its double
 * opt-in requests and confirmation emails), profile updates, the tracking
 * opt-out and unsubscribe; each consent change with its proof.
 */
export class FormSubmissionService {
  constructor(
    private readonly db: Db,
    private readonly clock: () => number,
    private readonly config: Config,
    private readonly projects: ProjectService,
    private readonly contacts: ContactService,
    private readonly consent: ConsentService,
    private readonly transport: Transport,
  ) {}

  /** Confirmation emails not yet handed to the transport. */
  private readonly mailing = new Set<Promise<void>>();

  /** Resolves once every confirmation email in flight is sent or failed (shutdown, tests). */
  async settled(): Promise<void> {
    while (this.mailing.size > 0) await Promise.allSettled([...this.mailing]);
  }
  /** The history source of a consent change made on this form. */
  private sourceOf(form: PageForm): string {
    if (form.kind === 'tracking-optout') return 'tracking-optout-form';
    return form.id === null ? `form:${form.kind}` : `form:${form.id}`;
  }

  /**
   * Subscription. A new address on a form without `doubleOptIn` is created
   * at once (source `form:<id>`), with the acceptance and its proof if the box
   * was ticked. Anything else — every submission of a double opt-in form, and
   * any address already known — only records a pending request and emails a
   * confirmation link to the address: nothing about an existing contact
   * changes until the person confirms. The outcome is the same for a known or
   * unknown address, so the page reveals neither.
   */
  async subscribe(project: Project, form: Form, input: Record<string, unknown>, consentTicked: boolean, lang: Lang, who: Submitter): Promise<SubscribeOutcome> {
    const fields = formFields(form.spec);
    const { values, errors } = readFormValues(fields, input);
    if (Object.keys(errors).length > 0) return { ok: false, values, errors };
    const email = values.email!;
    const [known] = await findContactsByKeys(this.db, project.id, [email], []);
    // An erased address comes back only once the person confirms it is theirs (the confirmation says `returning`).
    if (needsConfirmation(form.spec, known !== undefined) || (await this.contacts.isErased(project, email))) {
      const mail = await this.requestConfirmation(project, form, email, values, consentTicked && showsConsentField(form), lang, who);
      return mail ? { ok: true, mail } : { ok: true };
    }
    const source = this.sourceOf(form);
    const record = this.recordOf(fields, values);
    const [result] = await this.contacts.merge(project.id, [record], { source, type: 'add-only' });
    if (!result || result.result === 'rejected' || result.contactId === undefined) return { ok: false, values, errors: { email: 'invalidEmail' } };
    if (result.result !== 'created') {
      // Created by a concurrent request since the lookup: it is known now, so it waits for confirmation too.
      const mail = await this.requestConfirmation(project, form, email, values, consentTicked && showsConsentField(form), lang, who);
      return mail ? { ok: true, mail } : { ok: true };
    }
    const contactId = Number(result.contactId);
    let contact: Contact;
    if (consentTicked && showsConsentField(form)) {
      const label = formTexts(form.kind, lang, form.spec).consentLabel;
      ({ contact } = await this.consent.setConsent(project.id, contactId, { value: true, date: this.clock(), source, ...this.proof(who), wording: { text: label, lang } }));
    } else {
      contact = await this.contacts.get(project.id, contactId);
    }
    await insertFormEvent(this.db, project.id, this.eventOf('form_submit', project, form, contact, who));
    // No receipt link here: only a new address would get one, and the page must not tell a known address from
    // an unknown one (no enumeration). A subscriber's receipt comes with the double opt-in confirmation page.
    return { ok: true };
  }

  /** The contact record a subscription makes: active, with the submitted phone and custom fields. */
  private recordOf(fields: readonly string[], values: Record<string, string>): MergeRecord {
    const record: MergeRecord = { email: values.email, status: 'active' };
    const custom: Record<string, string> = {};
    for (const field of fields) {
      const value = values[field] ?? '';
      if (value === '') continue;
      if (field === 'phone') record.phone = value;
      if (field.startsWith('fields.')) custom[field.slice('fields.'.length)] = value;
    }
    if (Object.keys(custom).length > 0) record.fields = custom;
    return record;
  }

  /**
   * Records a pending request and starts its confirmation email — unless this
   * address already had its share of emails from this form in the last hour
   * (then nothing happens, and the page is the same).
   */
  private async requestConfirmation(project: Project, form: Form, email: string, values: Record<string, string>, consent: boolean, lang: Lang, who: Submitter): Promise<Promise<void> | undefined> {
    const now = this.clock();
    if ((await countRecentFormRequests(this.db, project.id, form.id, email, now - HOUR)) >= CONFIRMATION_EMAILS_PER_HOUR) return undefined;
    const nonce = randomBytes(16).toString('base64url');
    const expiresAt = Math.floor((now + confirmationTtlMs(form.spec)) / 1000) * 1000;
    const { email: _email, ...others } = values;
    const pending: Omit<FormRequest, 'id' | 'wordingHash'> = { projectId: project.id, formId: form.id, email, values: others, consent, lang, ...this.proof(who), createdAt: now, expiresAt };
    const shown = requestWording(form, { ...pending, id: 0, wordingHash: null });
    const hash = wordingHash(shown);
    // The wording is kept with the request that shows it: the confirmation's history entries cite its hash.
    const request = await this.db.transaction().execute(async (trx) => {
      await storeWordings(trx, project.id, [{ hash, text: shown, lang: langOf(lang), shownAt: now }]);
      return insertFormRequest(trx, { ...pending, wordingHash: hash }, sha256(nonce));
    });
    const token = signConfirmationToken(this.config.secrets, { projectId: project.id, requestId: request.id, expiresAt, nonce });
    const mail = this.sendConfirmation(project, form, request, `${this.config.publicUrl}/f/confirm/${token}?lang=${lang}`).catch(async (error: unknown) => {
      // Not sent: the link exists nowhere, so the request can go (it still counted towards the limit while it lived).
      await deleteFormRequest(this.db, project.id, request.id).catch(() => undefined);
      throw error;
    });
    this.mailing.add(mail);
    void mail.then(
      () => this.mailing.delete(mail),
      () => this.mailing.delete(mail),
    );
    return mail;
  }

  private async sendConfirmation(project: Project, form: Form, request: FormRequest, url: string): Promise<void> {
    const texts = formTexts(form.kind, langOf(request.lang), form.spec);
    const hours = Math.round(confirmationTtlMs(form.spec) / HOUR);
    const text = confirmationEmailText(texts.confirmEmailText, url, hours);
    const brand = project.settings.branding.name ?? project.name;
    const paragraphs = text
      .split(/\n{2,}/)
      .map((p) => `<p>${escapeHtml(p).replaceAll('\n', '<br>').replace(escapeHtml(url), `<a href="${escapeHtml(url)}">${escapeHtml(url)}</a>`)}</p>`)
      .join('\n');
    await this.transport.send({
      projectId: project.id,
      sendingId: NO_SENDING,
      channel: 'email',
      to: request.email,
      from: this.config.fromAddress,
      subject: `${texts.confirmEmailSubject} – ${brand}`,
      html: `<!doctype html><html lang="${langOf(request.lang)}"><body><h1>${escapeHtml(texts.confirmEmailSubject)}</h1>\n${paragraphs}</body></html>`,
      text,
      pushTitle: null,
      pushUrl: null,
      headers: { 'Auto-Submitted': 'auto-generated' },
      recipientKey: `confirm-${request.projectId}-${request.id}`,
    });
  }

  /** The pending request behind a confirmation link; a forged, expired or used link → LinkNotFound. */
  private async pendingRequest(token: string, consume: boolean): Promise<{ project: Project; form: Form; request: FormRequest }> {
    const now = this.clock();
    const link = verifyConfirmationToken(this.config.secrets, token, now);
    if (!link) throw new AppError('LinkNotFound', 'This link is not valid');
    const find = consume ? consumeFormRequest : findFormRequest;
    const request = await find(this.db, link.projectId, link.requestId, sha256(link.nonce), now);
    if (!request) throw new AppError('LinkNotFound', 'This link is not valid');
    const form = await getFormById(this.db, request.formId);
    if (form?.kind !== 'subscription' || form.projectId !== request.projectId) throw new AppError('LinkNotFound', 'This link is not valid');
    return { project: await this.projects.getCached(request.projectId), form, request };
  }

  /** What the confirmation page shows (GET): reading it changes nothing, so a link scanner confirms nobody. */
  async confirmationPage(token: string): Promise<{ project: Project; form: Form; consent: boolean }> {
    const { project, form, request } = await this.pendingRequest(token, false);
    return { project, form, consent: request.consent };
  }

  /**
   * The person confirms (POST from the confirmation page): the request is
   * used up, then — only now — the contact is created or updated (active,
   * submitted fields) and a ticked box becomes an acceptance. The history
   * gets both steps, each with its proof: the request (its date, IP, user
   * agent, wording hash) and the confirmation (the acceptance itself when the
   * box was ticked).
   */
  async confirm(token: string, lang: Lang, who: Submitter): Promise<{ project: Project; form: Form; receipt?: ReceiptRef }> {
    const { project, form, request } = await this.pendingRequest(token, true);
    const source = this.sourceOf(form);
    const fields = formFields(form.spec);
    // The person confirmed from their own mailbox: if the address was erased, they asked to come back.
    const [result] = await this.contacts.merge(project.id, [this.recordOf(fields, { ...request.values, email: request.email })], { source, returning: true });
    if (!result || result.result === 'rejected' || result.contactId === undefined) throw new AppError('LinkNotFound', 'This link is not valid');
    const contactId = Number(result.contactId);
    const now = this.clock();
    const texts = formTexts(form.kind, lang, form.spec);
    let contact: Contact | undefined;
    let accepted = false;
    let receipt: ReceiptRef | undefined;
    await this.db.transaction().execute(async (trx) => {
      await lockLedger(trx, project.id);
      contact = await getContact(trx, project.id, contactId);
      if (!contact) throw new AppError('LinkNotFound', 'This link is not valid');
      const wasTracked = isTracked(contact, project.settings.tracking);
      const detail = `double opt-in, request ${request.id}`;
      const requested: AppliedConsentChange = {
        contact,
        date: request.createdAt,
        action: 'double-opt-in-requested',
        wasTracked,
        source,
        ip: request.ip,
        userAgent: request.userAgent,
        wordingHash: request.wordingHash,
        detail: `${detail}; tracking consent ${request.consent ? 'ticked' : 'not ticked'}`,
      };
      const proof = { source, ...this.proof(who), detail: `${detail} confirmed` };
      let confirmed: AppliedConsentChange | undefined;
      if (request.consent) {
        confirmed = this.consent.plan(project, contact, { value: true, date: now, ...proof, wordingHash: request.wordingHash }).applied;
      }
      accepted = confirmed !== undefined;
      confirmed ??= { contact, date: now, action: 'double-opt-in-confirmed', wasTracked, ...proof, wording: { text: confirmationWording(texts, request.consent ? requestWording(form, request) : null), lang } };
      if (accepted) await updateContact(trx, contact);
      await this.consent.record(trx, project, [requested, confirmed]);
      receipt = await this.receiptOf(trx, project.id, contactId);
    });
    if (accepted) this.consent.invalidate(project.id, [contactId]);
    await insertFormEvent(this.db, project.id, this.eventOf('form_submit', project, form, contact!, who));
    return receipt ? { project, form, receipt } : { project, form };
  }

  /** Spends a form's CSRF token on the state change it allows; false when it was spent before (a replay). */
  spendToken(claim: { id: string; expiresAt: number }): Promise<boolean> {
    return spendFormToken(this.db, claim.id, claim.expiresAt);
  }

  /** Housekeeping: spent form tokens that have expired anyway are forgotten. */
  purgeSpentTokens(now = this.clock()): Promise<number> {
    return purgeSpentFormTokens(this.db, now);
  }

  /** Housekeeping: unconfirmed requests whose link expired are deleted. */
  purgeExpiredRequests(now = this.clock()): Promise<number> {
    return purgeExpiredFormRequests(this.db, now, now - HOUR);
  }

  /**
   * Profile update: changes the contact's fields and, when the checkbox no
   * longer matches the current status, records acceptance (ticked) or
   * refusal (unticked while accepted), in one transaction.
   */
  async updateProfile(project: Project, contactId: number, form: PageForm, input: Record<string, unknown>, consentTicked: boolean, lang: Lang, who: Submitter): Promise<SubmitOutcome> {
    const fields = formFields(form.spec);
    const { values, errors } = readFormValues(fields, input);
    if (Object.keys(errors).length > 0) return { ok: false, values, errors };
    const source = this.sourceOf(form);
    let applied: AppliedConsentChange | undefined;
    let receipt: ReceiptRef | undefined;
    const outcome = await this.db.transaction().execute(async (trx): Promise<SubmitOutcome> => {
      await lockLedger(trx, project.id);
      const contact = await getContact(trx, project.id, contactId);
      if (!contact) throw new AppError('LinkNotFound', 'This link is not valid');
      let changed = false;
      for (const field of fields) {
        const value = values[field] ?? '';
        if (field === 'email' && value !== contact.email) {
          const [other] = await findContactsByKeys(trx, project.id, [value], []);
          if (other && other.id !== contact.id) return { ok: false, values, errors: { email: 'emailTaken' } };
          contact.email = value;
          changed = true;
        } else if (field === 'phone' && (value || null) !== contact.phone) {
          contact.phone = value || null;
          changed = true;
        } else if (field.startsWith('fields.')) {
          const name = field.slice('fields.'.length);
          const current = contact.fields[name];
          if (value === '' && current !== undefined) {
            const { [name]: _removed, ...rest } = contact.fields;
            contact.fields = rest;
            changed = true;
          } else if (value !== '' && current !== value) {
            contact.fields = { ...contact.fields, [name]: value };
            changed = true;
          }
        }
      }
      if (changed) contact.updatedAt = this.clock();
      if (showsConsentField(form)) {
        // The box was shown ticked only when accepted: leaving an unanswered box unticked changes nothing.
        const wanted = consentTicked ? true : contact.hasTrackingConsent === true ? false : undefined;
        if (wanted !== undefined && wanted !== contact.hasTrackingConsent) {
          const label = formTexts(form.kind, lang, form.spec).consentLabel;
          applied = this.consent.plan(project, contact, { value: wanted, date: this.clock(), source, ...this.proof(who), wording: { text: label, lang } }).applied;
        }
      }
      if (changed || applied) await updateContact(trx, contact);
      if (applied) {
        await this.consent.record(trx, project, [applied]);
        receipt = await this.receiptOf(trx, project.id, contactId);
      }
      await insertFormEvent(trx, project.id, this.eventOf('form_submit', project, form, contact, who));
      return receipt ? { ok: true, receipt } : { ok: true };
    });
    if (applied) this.consent.invalidate(project.id, [contactId]);
    return outcome;
  }

  /**
   * The tracking opt-out page's buttons: refuse or accept again (source
   * `tracking-optout-form`), with the wording shown as proof.
   */
  async setTracking(project: Project, contact: Contact, form: PageForm, accept: boolean, lang: Lang, who: Submitter): Promise<{ contact: Contact; receipt?: ReceiptRef }> {
    const texts = formTexts('tracking-optout', lang, form.spec);
    const wording = optOutWording(texts, accept);
    const result = await this.consent.setConsent(project.id, contact.id, {
      value: accept,
      date: this.clock(),
      source: this.sourceOf(form),
      ...this.proof(who),
      wording: { text: wording, lang },
    });
    await insertFormEvent(this.db, project.id, this.eventOf('form_submit', project, form, result.contact, who));
    // Read after the change's own transaction: the contact's newest entry is this change unless another came since.
    const receipt = result.decision === 'applied' ? await this.receiptOf(this.db, project.id, contact.id) : undefined;
    return receipt ? { contact: result.contact, receipt } : { contact: result.contact };
  }

  /** Queues the `contact.unsubscribed` webhook deliveries in the unsubscribe's transaction (set by the context). */
  outbox: (trx: Db, projectId: number, contact: Contact, source: string) => Promise<void> = async () => undefined;

  /**
   * Unsubscribes: the contact becomes `inactive` and an `unsubscribe` event is
   * written (identified only if the contact is tracked right now). Doing it
   * twice changes nothing more. The history gets an `unsubscribed` entry
   * with its proof (the person's withdrawal from messages; tracking consent
   * is unchanged), which the receipt of the page proves.
   */
  async unsubscribe(project: Project, contact: Contact, form: PageForm, who: Submitter, lang: Lang): Promise<{ receipt?: ReceiptRef }> {
    if (contact.status === 'inactive') return {};
    const now = this.clock();
    const receipt = await this.db.transaction().execute(async (trx) => {
      await lockLedger(trx, project.id);
      await deactivateContact(trx, project.id, contact.id, now);
      await insertFormEvent(trx, project.id, this.eventOf('unsubscribe', project, form, contact, who));
      await this.outbox(trx, project.id, contact, this.sourceOf(form));
      const proof = this.proof(who);
      await appendConsentEntries(trx, project.id, [
        { contactId: contact.id, subjectHash: subjectHash(project.ledgerSalt, contact.email), action: 'unsubscribed', date: now, recordedAt: now, source: this.sourceOf(form), ...proof, wordingHash: wordingHash(unsubscribeWording(formTexts('unsubscribe', lang, form.spec))) },
      ]);
      return this.receiptOf(trx, project.id, contact.id);
    });
    contact.status = 'inactive';
    return receipt ? { receipt } : {};
  }

  private async receiptOf(db: Db, projectId: number, contactId: number): Promise<ReceiptRef | undefined> {
    const seq = await newestContactEntrySeq(db, projectId, contactId);
    return seq === undefined ? undefined : { contactId, seq };
  }

  private proof(who: Submitter): { ip: string | null; userAgent: string | null } {
    return { ip: who.ip, userAgent: capUserAgent(who.userAgent) };
  }

  private eventOf(type: 'form_submit' | 'unsubscribe', project: Project, form: PageForm, contact: Contact, who: Submitter) {
    // GPC makes the event anonymous; the person's choice on the form still applies, with its proof.
    const tracked = isTracked(contact, project.settings.tracking) && !gpcAnonymises(who.gpc, project.settings.tracking);
    return { type, formId: form.id, name: form.kind, at: this.clock(), contact: tracked ? { id: contact.id, ...this.proof(who) } : null };
  }
}
