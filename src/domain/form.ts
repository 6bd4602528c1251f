import { createHash } from 'node:crypto';
import { isValidEmail, normalizeEmail } from './contact.js';
import { badInput } from './errors.js';

import type { FormKind, FormTexts, Lang } from './form-texts.js';

export * from './form-texts.js';

export interface FormSpec {
  /** `email`, `phone` or `fields.<name>`; email always comes first on subscription and profile forms. */
  fields?: string[];
  trackingConsentField?: boolean;
  offerTrackingOptOut?: boolean;
  /**
   * Subscription forms: every submission is only a request until the person
   * confirms it from the email sent to the address (for an address already
   * known, this happens even without the option).
   */
  doubleOptIn?: boolean;
  /** Subscription forms: hours a confirmation link stays valid (default 48). */
  confirmationHours?: number;
  texts?: Partial<Record<Lang, Partial<FormTexts> & { fieldLabels?: Record<string, string> }>>;
}

export interface Form {
  id: number;
  projectId: number;
  kind: FormKind;
  name: string;
  spec: FormSpec;
  /** The per-contact form of its kind that messages' links open (never a subscription form). */
  isDefault: boolean;
  createdAt: number;
  updatedAt: number;
}

/** Kinds whose page a message links to per contact: one form of each is the project's default. */
export const PER_CONTACT_KINDS: readonly FormKind[] = ['unsubscribe', 'tracking-optout', 'profile'];

const FIELD_NAME = /^(email|phone|fields\.[A-Za-z][A-Za-z0-9_]{0,63})$/;

/**
 * A field a hosted form may ask for: `email`, `phone` or a custom `fields.<name>`.
 *
 * @example isFormField('fields.firstName') // true
 */
export function isFormField(name: string): boolean {
  return FIELD_NAME.test(name);
}

/**
 * The fields a subscription or profile form shows: the configured ones, email
 * first and once, since it identifies the contact.
 *
 * @example formFields({ fields: ['fields.firstName'] }) // ['email', 'fields.firstName']
 */
export function formFields(spec: FormSpec): string[] {
  return ['email', ...(spec.fields ?? []).filter((f) => f !== 'email' && isFormField(f))].filter((f, i, all) => all.indexOf(f) === i);
}

const KNOWN_LABELS: Record<string, Record<Lang, string>> = {
  email: { en: 'Email address', fr: 'Adresse courriel' },
  phone: { en: 'Phone number', fr: 'Numéro de téléphone' },
  'fields.firstName': { en: 'First name', fr: 'Prénom' },
  'fields.lastName': { en: 'Last name', fr: 'Nom' },
  'fields.company': { en: 'Company', fr: 'Entreprise' },
  'fields.city': { en: 'City', fr: 'Ville' },
  'fields.country': { en: 'Country', fr: 'Pays' },
};

/**
 * The label of a field: the form's own, a known one, or the custom field's name spelled out.
 *
 * @example fieldLabel('fields.favouriteColour', 'en', {}) // 'Favourite colour'
 */
export function fieldLabel(field: string, lang: Lang, spec: FormSpec): string {
  const custom = spec.texts?.[lang]?.fieldLabels?.[field];
  if (custom && custom.trim() !== '') return custom;
  const known = KNOWN_LABELS[field]?.[lang];
  if (known) return known;
  const words = field.replace(/^fields\./, '').replace(/_/g, ' ').replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * The proof of what a person was shown: SHA-256 (hex) of the exact wording, as
 * stored in the consent history's `wordingHash`.
 *
 * @example wordingHash('I agree…') // '3f…' (64 hex digits)
 */
export function wordingHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * Picks the page language: an explicit `?lang=` first, then the best of
 * `Accept-Language` by quality, else English.
 *
 * @example pickLang(undefined, 'fr-CA,fr;q=0.9,en;q=0.5') // 'fr'
 */
export function pickLang(query: string | undefined, acceptLanguage: string | undefined): Lang {
  const asked = query?.trim().toLowerCase().slice(0, 2);
  if (asked === 'en' || asked === 'fr') return asked;
  let best: { lang: Lang; q: number } | null = null;
  for (const part of (acceptLanguage ?? '').split(',')) {
    const [tag = '', ...params] = part.trim().toLowerCase().split(';');
    const base = tag.split('-')[0];
    if (base !== 'en' && base !== 'fr') continue;
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (!Number.isFinite(q) || q <= 0) continue;
    if (!best || q > best.q) best = { lang: base, q };
  }
  return best?.lang ?? 'en';
}

/** Why a submitted field was refused; the page words it in the visitor's language. */
export type FieldError = 'required' | 'invalidEmail' | 'tooLong' | 'emailTaken';

export const MAX_FIELD_LENGTH = 500;

/**
 * Reads the submitted values of a form's fields: trimmed text, email required
 * and checked. Absent fields read as empty.
 *
 * @example readFormValues(['email'], { email: ' Ana@Example.com ' }) // { values: { email: 'ana@example.com' }, errors: {} }
 */
export function readFormValues(fields: readonly string[], input: Record<string, unknown>): { values: Record<string, string>; errors: Record<string, FieldError> } {
  const values: Record<string, string> = {};
  const errors: Record<string, FieldError> = {};
  for (const field of fields) {
    const raw = input[field];
    const text = (typeof raw === 'string' ? raw : Array.isArray(raw) && typeof raw[0] === 'string' ? raw[0] : '').trim();
    values[field] = text;
    if (text.length > MAX_FIELD_LENGTH) errors[field] = 'tooLong';
    else if (field === 'email') {
      values.email = normalizeEmail(text);
      if (text === '') errors.email = 'required';
      else if (!isValidEmail(values.email)) errors.email = 'invalidEmail';
    }
  }
  return { values, errors };
}

/** A form as a page uses it: a configured one, or the built-in default of its kind (`id` null). */
export interface PageForm {
  id: number | null;
  kind: FormKind;
  spec: FormSpec;
}

/** Whether a page of this form shows the tracking-consent checkbox. */
export function showsConsentField(form: PageForm): boolean {
  if (form.kind !== 'subscription' && form.kind !== 'profile') return false;
  return form.spec.trackingConsentField ?? form.kind === 'profile';
}

/** Whether an unsubscribe page offers the tracking opt-out instead. */
export function offersTrackingOptOut(form: PageForm, project: { settings: { tracking: { enabled: boolean } } }): boolean {
  if (form.kind !== 'unsubscribe') return false;
  return form.spec.offerTrackingOptOut ?? (form.id === null && project.settings.tracking.enabled);
}

export const DEFAULT_CONFIRMATION_HOURS = 48;
export const MAX_CONFIRMATION_HOURS = 720;

/**
 * How long a subscription form's confirmation link stays valid, in milliseconds.
 *
 * @example confirmationTtlMs({}) // 172800000 (48 h)
 */
export function confirmationTtlMs(spec: FormSpec): number {
  return (spec.confirmationHours ?? DEFAULT_CONFIRMATION_HOURS) * 3_600_000;
}

/**
 * Whether a subscription from this form must wait for the person's
 * confirmation: always with `doubleOptIn`, and for an address already known
 * whatever the option — a public form never changes an existing contact on
 * its own (issue 9: anyone who knows an address could otherwise flip its
 * consent and overwrite its fields).
 *
 * @example needsConfirmation({ doubleOptIn: false }, true) // true
 */
export function needsConfirmation(spec: FormSpec, addressKnown: boolean): boolean {
  return spec.doubleOptIn === true || addressKnown;
}

/**
 * The confirmation email's text: the form's wording with the link and its
 * validity filled in; a wording that forgot `{{url}}` still gets the link.
 * One hour is singular where the default wordings say `{{hours}} hours` /
 * `{{hours}} heures` (a form may be set to confirm within 1 hour).
 *
 * @example confirmationEmailText('Open {{url}} within {{hours}} h', 'https://x/f/confirm/t', 48) // 'Open https://x/f/confirm/t within 48 h'
 * @example confirmationEmailText('Valid for {{hours}} hours: {{url}}', 'https://x/f/confirm/t', 1) // 'Valid for 1 hour: https://x/f/confirm/t'
 */
export function confirmationEmailText(template: string, url: string, hours: number): string {
  const singular = hours === 1 ? template.replace(/\{\{hours\}\} (hour|heure)s\b/g, '1 $1') : template;
  const text = singular.replaceAll('{{hours}}', String(hours));
  return text.includes('{{url}}') ? text.replaceAll('{{url}}', url) : `${text}\n\n${url}`;
}

/**
 * Checks a form's spec against its kind; throws `InvalidInput` naming the first bad field.
 *
 * @example checkFormSpec('unsubscribe', { fields: ['email'] }) // throws fields: only subscription and profile forms have fields
 */
export function checkFormSpec(kind: FormKind, spec: FormSpec): void {
  if (spec.fields !== undefined) {
    if (kind !== 'subscription' && kind !== 'profile') throw badInput('fields', 'only subscription and profile forms have fields');
    spec.fields.forEach((field, i) => {
      if (!isFormField(field)) throw badInput(`fields.${i}`, `unknown field ${JSON.stringify(field)} (expected email, phone or fields.<name>)`);
    });
    if (new Set(spec.fields).size !== spec.fields.length) throw badInput('fields', 'a field is listed twice');
  }
  if (spec.trackingConsentField !== undefined && kind !== 'subscription' && kind !== 'profile') {
    throw badInput('trackingConsentField', 'only subscription and profile forms have a tracking-consent checkbox');
  }
  if (spec.offerTrackingOptOut !== undefined && kind !== 'unsubscribe') {
    throw badInput('offerTrackingOptOut', 'only unsubscribe forms offer the tracking opt-out');
  }
  if (spec.doubleOptIn !== undefined && kind !== 'subscription') throw badInput('doubleOptIn', 'only subscription forms have a double opt-in');
  if (spec.confirmationHours !== undefined) {
    if (kind !== 'subscription') throw badInput('confirmationHours', 'only subscription forms send confirmation emails');
    if (!Number.isInteger(spec.confirmationHours) || spec.confirmationHours < 1 || spec.confirmationHours > MAX_CONFIRMATION_HOURS) {
      throw badInput('confirmationHours', `must be a whole number of hours from 1 to ${MAX_CONFIRMATION_HOURS}`);
    }
  }
  for (const [lang, texts] of Object.entries(spec.texts ?? {})) {
    for (const field of Object.keys(texts?.fieldLabels ?? {})) {
      if (!isFormField(field)) throw badInput(`texts.${lang}.fieldLabels.${field}`, 'unknown field');
    }
  }
}

/** What a form's spec is made from: the spec fields of a form's input or patch. */
export interface FormSpecInput {
  fields?: string[] | undefined;
  trackingConsentField?: boolean | undefined;
  offerTrackingOptOut?: boolean | undefined;
  doubleOptIn?: boolean | undefined;
  confirmationHours?: number | undefined;
  texts?: FormSpec['texts'] | undefined;
}

/**
 * A form's spec: `base` with the given parts of `input` replaced.
 *
 * @example formSpecOf({ fields: ['email'] }, { trackingConsentField: true }) // { trackingConsentField: true, fields: ['email'] }
 */
export function formSpecOf(input: FormSpecInput, base: FormSpec = {}): FormSpec {
  const spec: FormSpec = { ...base };
  if (input.fields !== undefined) spec.fields = input.fields;
  if (input.trackingConsentField !== undefined) spec.trackingConsentField = input.trackingConsentField;
  if (input.offerTrackingOptOut !== undefined) spec.offerTrackingOptOut = input.offerTrackingOptOut;
  if (input.doubleOptIn !== undefined) spec.doubleOptIn = input.doubleOptIn;
  if (input.confirmationHours !== undefined) spec.confirmationHours = input.confirmationHours;
  if (input.texts !== undefined) spec.texts = input.texts;
  return spec;
}

/**
 * What a subscription form shows a person who leaves the consent box
 * unticked (hashed as the proof of a double opt-in request).
 */
export function subscriptionWording(texts: { title: string; intro: string; submit: string }): string {
  return `${texts.title}\n${texts.intro}\n${texts.submit}`;
}

/**
 * What the double opt-in confirmation page shows before its button: its
 * text, and the consent wording the person agreed to when the box was ticked.
 */
export function confirmationWording(texts: { confirmTitle: string; confirmText: string; confirmButton: string }, consentLabel: string | null): string {
  return [texts.confirmTitle, texts.confirmText, ...(consentLabel === null ? [] : [consentLabel]), texts.confirmButton].join('\n');
}

/**
 * What a person reads before pressing a button of the tracking opt-out page:
 * the page's explanation and the button's label (hashed as the proof).
 */
export function optOutWording(texts: { intro: string; refuseButton: string; acceptButton: string }, accept: boolean): string {
  return `${texts.intro}\n${accept ? texts.acceptButton : texts.refuseButton}`;
}

/**
 * What a person reads before pressing the unsubscribe button: the page's
 * explanation and the button's label (hashed as the proof).
 */
export function unsubscribeWording(texts: { intro: string; submit: string }): string {
  return `${texts.intro}\n${texts.submit}`;
}
