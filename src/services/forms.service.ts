import type { Config } from '../config.js';
import type { Contact } from '../domain/contact.js';
import { AppError, badInput, notFound } from '../domain/errors.js';
import {
  checkFormSpec,
  type Form,
  type FormKind,
  type FormSpec,
  formSpecOf,
  type PageForm,
  PER_CONTACT_KINDS,
} from '../domain/form.js';
import { type LinkPurpose, contactLinkPath, signContactLink, verifyContactLink } from '../domain/signed-link.js';
import { getContact } from '../store/contacts.js';
import type { Db } from '../store/database.js';
import { defaultFormOfKind, deleteForm, getForm, getFormById, insertForm, listForms, setDefaultForm, updateForm } from '../store/forms.js';
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

export interface FormInput {
  kind: FormKind;
  name: string;
  fields?: string[] | undefined;
  trackingConsentField?: boolean | undefined;
  offerTrackingOptOut?: boolean | undefined;
  doubleOptIn?: boolean | undefined;
  confirmationHours?: number | undefined;
  texts?: FormSpec['texts'] | undefined;
  /** Per-contact kinds: make this the form messages' links open (the first of its kind is, unless told otherwise). */
  default?: boolean | undefined;
}

export type FormPatch = Partial<Omit<FormInput, 'kind'>>;

/** `default` is for the per-contact kinds: a subscription form has its own public URL. */
function checkDefault(kind: FormKind, wanted: boolean | undefined): void {
  if (wanted !== undefined && !PER_CONTACT_KINDS.includes(kind)) throw badInput('default', `only ${PER_CONTACT_KINDS.join(', ')} forms have a default; a subscription form is found by its own URL`);
}

/** Hosted forms: their configuration, and the form and project behind each public page. */
export class FormService {
  constructor(
    private readonly db: Db,
    private readonly clock: () => number,
    private readonly config: Config,
    private readonly projects: ProjectService,
  ) {}

  async create(projectId: number, input: FormInput): Promise<Form> {
    await this.projects.get(projectId);
    const spec = formSpecOf(input);
    checkFormSpec(input.kind, spec);
    checkDefault(input.kind, input.default);
    return this.db.transaction().execute(async (trx) => {
      const form = await insertForm(trx, projectId, { kind: input.kind, name: input.name, spec }, this.clock());
      if (!PER_CONTACT_KINDS.includes(input.kind)) return form;
      // A second form of a kind does not silently take over the links: it becomes the default only when asked.
      const isDefault = input.default ?? (await defaultFormOfKind(trx, projectId, input.kind)) === undefined;
      if (isDefault) await setDefaultForm(trx, projectId, input.kind, form.id, true);
      return { ...form, isDefault };
    });
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
    checkDefault(form.kind, patch.default);
    const updated: Form = { ...form, name: patch.name ?? form.name, spec, updatedAt: this.clock(), isDefault: patch.default ?? form.isDefault };
    await this.db.transaction().execute(async (trx) => {
      await updateForm(trx, updated);
      if (patch.default !== undefined) await setDefaultForm(trx, projectId, form.kind, form.id, patch.default);
    });
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
    const configured = await defaultFormOfKind(this.db, project.id, purpose);
    return { project, contact, form: configured ?? { id: null, kind: purpose, spec: {} } };
  }
}
