import type { Config } from '../config.js';
import { isTracked } from '../domain/consent.js';
import type { Contact } from '../domain/contact.js';
import { AppError, badInput, notFound } from '../domain/errors.js';
import {
  checkFormSpec,
  type FieldError,
  type Form,
  type FormKind,
  type FormSpec,
  formFields,
  formSpecOf,
  formTexts,
  type Lang,
  optOutWording,
  type PageForm,
  readFormValues,
  showsConsentField,
  wordingHash,
} from '../domain/form.js';
import { type LinkPurpose, contactLinkPath, signContactLink, verifyContactLink } from '../domain/signed-link.js';
import { lockLedger } from '../store/consent-history.js';
import { findContactsByKeys, getContact, updateContact } from '../store/contacts.js';
import type { Db } from '../store/database.js';
import { insertFormEvent } from '../store/form-events.js';
import { deleteForm, getForm, getFormById, insertForm, latestFormOfKind, listForms, updateForm } from '../store/forms.js';
import type { AppliedConsentChange, ConsentService } from './consent.service.js';
import type { ContactService, MergeRecord } from './contacts.service.js';
import type { Project, ProjectService } from './projects.service.js';

/**
 * The absolute URL of a contact's signed page — what `{{unsubscribeUrl}}`,
 * `{{trackingOptOutUrl}}` and `{{profileUrl}}` expand to in a message.
 *
 * @example contactPageUrl(config, 'unsubscribe', 1, 42) // 'https://mail.example.com/f/unsubscribe/1.42.<mac>'
 */
export function contactPageUrl(config: Pick<Config, 'publicUrl' | 'secrets'>, purpose: LinkPurpose, projectId: number, contactId: number): string {
  return config.publicUrl + contactLinkPath(purpose, signContactLink(config.secrets, purpose, projectId, contactId));
}

/** The public URL of a subscription form. */
export function subscriptionFormUrl(config: Pick<Config, 'publicUrl'>, formId: number): string {
  return `${config.publicUrl}/f/subscribe/${formId}`;
}

/** Who submitted a form, kept with consent changes as their proof. */
export interface Submitter {
  ip: string | null;
  userAgent: string | null;
}

export interface FormInput {
  kind: FormKind;
  name: string;
  fields?: string[] | undefined;
  trackingConsentField?: boolean | undefined;
  offerTrackingOptOut?: boolean | undefined;
  texts?: FormSpec['texts'] | undefined;
}

export type FormPatch = Partial<Omit<FormInput, 'kind'>>;

export type SubmitOutcome = { ok: true } | { ok: false; values: Record<string, string>; errors: Record<string, FieldError> };

const MAX_USER_AGENT = 512;

/** Hosted forms: their configuration, and what each public page does when submitted. */
export class FormService {
  constructor(
    private readonly db: Db,
    private readonly clock: () => number,
    private readonly config: Config,
    private readonly projects: ProjectService,
    private readonly contacts: ContactService,
    private readonly consent: ConsentService,
  ) {}

  async create(projectId: number, input: FormInput): Promise<Form> {
    await this.projects.get(projectId);
    const spec = formSpecOf(input);
    checkFormSpec(input.kind, spec);
    return insertForm(this.db, projectId, { kind: input.kind, name: input.name, spec }, this.clock());
  }

  list(projectId: number): Promise<Form[]> {
    return listForms(this.db, projectId);
  }

  async get(projectId: number, formId: number): Promise<Form> {
    const form = await getForm(this.db, projectId, formId);
    if (!form) throw notFound('Form', formId);
    return form;
  }

  async update(projectId: number, formId: number, patch: FormPatch): Promise<Form> {
    const form = await this.get(projectId, formId);
    const spec = formSpecOf(patch, form.spec);
    checkFormSpec(form.kind, spec);
    const updated: Form = { ...form, name: patch.name ?? form.name, spec, updatedAt: this.clock() };
    await updateForm(this.db, updated);
    return updated;
  }

  async remove(projectId: number, formId: number): Promise<void> {
    if (!(await deleteForm(this.db, projectId, formId))) throw notFound('Form', formId);
  }

  /**
   * The form an admin preview renders: a saved form with unsaved changes laid
   * over it, or a draft of a new one. Checked as saving would check it.
   */
  async previewForm(projectId: number, input: { formId?: number | undefined; kind?: FormKind | undefined } & Omit<FormPatch, 'name'>): Promise<{ project: Project; form: PageForm }> {
    const project = await this.projects.get(projectId);
    let form: PageForm;
    if (input.formId !== undefined) {
      const saved = await this.get(projectId, input.formId);
      if (input.kind !== undefined && input.kind !== saved.kind) throw badInput('kind', `form ${saved.id} is a ${saved.kind} form`);
      form = { id: saved.id, kind: saved.kind, spec: formSpecOf(input, saved.spec) };
    } else {
      if (input.kind === undefined) throw badInput('kind', 'give the kind of the new form, or formId');
      form = { id: 0, kind: input.kind, spec: formSpecOf(input) };
    }
    checkFormSpec(form.kind, form.spec);
    return { project, form };
  }

  /** The public URL of a form's page, for subscription forms (the others are per-contact signed links). */
  urlOf(form: Form): string | undefined {
    return form.kind === 'subscription' ? subscriptionFormUrl(this.config, form.id) : undefined;
  }

  /** A subscription form and its project, for `/f/subscribe/<id>`; 404 for any other form. */
  async subscriptionPage(formId: number): Promise<{ project: Project; form: Form }> {
    const form = await getFormById(this.db, formId);
    if (form?.kind !== 'subscription') throw notFound('Form', formId);
    return { project: await this.projects.getCached(form.projectId), form };
  }

  /**
   * The contact behind a signed per-contact link, its project and the
   * project's form for that page (or the built-in default). A forged token,
   * one made for another page, or a contact that no longer exists → 404.
   */
  async contactPage(purpose: LinkPurpose, token: string): Promise<{ project: Project; contact: Contact; form: PageForm }> {
    const link = verifyContactLink(this.config.secrets, purpose, token);
    if (!link) throw new AppError('LinkNotFound', 'This link is not valid');
    const contact = await getContact(this.db, link.projectId, link.contactId);
    if (!contact) throw new AppError('LinkNotFound', 'This link is not valid');
    const project = await this.projects.getCached(link.projectId);
    const configured = await latestFormOfKind(this.db, project.id, purpose);
    return { project, contact, form: configured ?? { id: null, kind: purpose, spec: {} } };
  }

  /** The history source of a consent change made on this form. */
  private sourceOf(form: PageForm): string {
    if (form.kind === 'tracking-optout') return 'tracking-optout-form';
    return form.id === null ? `form:${form.kind}` : `form:${form.id}`;
  }

  /**
   * Subscription: creates or updates the contact (source `form:<id>`), then,
   * only if the visitor ticked the box, records their acceptance with the
   * proof. An unticked box is no answer, not a refusal.
   */
  async subscribe(project: Project, form: Form, input: Record<string, unknown>, consentTicked: boolean, lang: Lang, who: Submitter): Promise<SubmitOutcome> {
    const fields = formFields(form.spec);
    const { values, errors } = readFormValues(fields, input);
    if (Object.keys(errors).length > 0) return { ok: false, values, errors };
    const record: MergeRecord = { email: values.email, status: 'active' };
    const custom: Record<string, string> = {};
    for (const field of fields) {
      const value = values[field] ?? '';
      if (value === '') continue;
      if (field === 'phone') record.phone = value;
      if (field.startsWith('fields.')) custom[field.slice('fields.'.length)] = value;
    }
    if (Object.keys(custom).length > 0) record.fields = custom;
    const source = this.sourceOf(form);
    const [result] = await this.contacts.merge(project.id, [record], { source });
    if (!result || result.result === 'rejected' || result.contactId === undefined) return { ok: false, values, errors: { email: 'invalidEmail' } };
    const contactId = Number(result.contactId);
    let contact: Contact;
    if (consentTicked && showsConsentField(form)) {
      const label = formTexts(form.kind, lang, form.spec).consentLabel;
      ({ contact } = await this.consent.setConsent(project.id, contactId, { value: true, date: this.clock(), source, ...this.proof(who), wordingHash: wordingHash(label) }));
    } else {
      contact = await this.contacts.get(project.id, contactId);
    }
    await insertFormEvent(this.db, project.id, this.eventOf('form_submit', project, form, contact, who));
    return { ok: true };
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
          applied = this.consent.plan(project, contact, { value: wanted, date: this.clock(), source, ...this.proof(who), wordingHash: wordingHash(label) }).applied;
        }
      }
      if (changed || applied) await updateContact(trx, contact);
      if (applied) await this.consent.record(trx, project, [applied]);
      await insertFormEvent(trx, project.id, this.eventOf('form_submit', project, form, contact, who));
      return { ok: true };
    });
    if (applied) this.consent.invalidate(project.id, [contactId]);
    return outcome;
  }

  /**
   * The tracking opt-out page's buttons: refuse or accept again (source
   * `tracking-optout-form`), with the wording shown as proof.
   */
  async setTracking(project: Project, contact: Contact, form: PageForm, accept: boolean, lang: Lang, who: Submitter): Promise<Contact> {
    const texts = formTexts('tracking-optout', lang, form.spec);
    const wording = optOutWording(texts, accept);
    const result = await this.consent.setConsent(project.id, contact.id, {
      value: accept,
      date: this.clock(),
      source: this.sourceOf(form),
      ...this.proof(who),
      wordingHash: wordingHash(wording),
    });
    await insertFormEvent(this.db, project.id, this.eventOf('form_submit', project, form, result.contact, who));
    return result.contact;
  }

  /**
   * Unsubscribes: the contact becomes `inactive` and an `unsubscribe` event is
   * written (identified only if the contact is tracked right now). Doing it
   * twice changes nothing more.
   */
  async unsubscribe(project: Project, contact: Contact, form: PageForm, who: Submitter): Promise<void> {
    if (contact.status === 'inactive') return;
    const now = this.clock();
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('contacts')
        .set({ status: 'inactive', updated_at: now })
        .where('project_id', '=', project.id)
        .where('id', '=', contact.id)
        .execute();
      await insertFormEvent(trx, project.id, this.eventOf('unsubscribe', project, form, contact, who));
    });
    contact.status = 'inactive';
  }

  private proof(who: Submitter): { ip: string | null; userAgent: string | null } {
    return { ip: who.ip, userAgent: who.userAgent === null ? null : who.userAgent.slice(0, MAX_USER_AGENT) };
  }

  private eventOf(type: 'form_submit' | 'unsubscribe', project: Project, form: PageForm, contact: Contact, who: Submitter) {
    const tracked = isTracked(contact, project.settings.tracking);
    return { type, formId: form.id, name: form.kind, at: this.clock(), contact: tracked ? { id: contact.id, ...this.proof(who) } : null };
  }
}
