import { createHash } from 'node:crypto';
import { isValidEmail, normalizeEmail } from './contact.js';
import { badInput } from './errors.js';

export type FormKind = 'subscription' | 'profile' | 'tracking-optout' | 'unsubscribe';
export const FORM_KINDS: readonly FormKind[] = ['subscription', 'profile', 'tracking-optout', 'unsubscribe'];

export type Lang = 'en' | 'fr';
export const LANGS: readonly Lang[] = ['en', 'fr'];

/** The words of every hosted page; a form's `texts` override them key by key. */
export interface FormTexts {
  title: string;
  intro: string;
  submit: string;
  consentLabel: string;
  thanksTitle: string;
  thanksText: string;
  statusAccepted: string;
  statusRefused: string;
  statusUnanswered: string;
  refuseButton: string;
  acceptButton: string;
  refusedTitle: string;
  refusedText: string;
  acceptedTitle: string;
  acceptedText: string;
  changeMind: string;
  alreadyUnsubscribed: string;
  optOutOffer: string;
  optOutLink: string;
}

export const TEXT_KEYS = [
  'title',
  'intro',
  'submit',
  'consentLabel',
  'thanksTitle',
  'thanksText',
  'statusAccepted',
  'statusRefused',
  'statusUnanswered',
  'refuseButton',
  'acceptButton',
  'refusedTitle',
  'refusedText',
  'acceptedTitle',
  'acceptedText',
  'changeMind',
  'alreadyUnsubscribed',
  'optOutOffer',
  'optOutLink',
] as const satisfies readonly (keyof FormTexts)[];

/** What an admin configures on a form (stored as JSON in `forms.spec`). */
export interface FormSpec {
  /** `email`, `phone` or `fields.<name>`; email always comes first on subscription and profile forms. */
  fields?: string[];
  trackingConsentField?: boolean;
  offerTrackingOptOut?: boolean;
  texts?: Partial<Record<Lang, Partial<FormTexts> & { fieldLabels?: Record<string, string> }>>;
}

export interface Form {
  id: number;
  projectId: number;
  kind: FormKind;
  name: string;
  spec: FormSpec;
  createdAt: number;
  updatedAt: number;
}

const CONSENT_LABEL: Record<Lang, string> = {
  en: 'I agree that the opening of these messages and the clicks on their links are measured and linked to me, to improve them. I can withdraw this consent at any time.',
  fr: "J'accepte que l'ouverture de ces messages et les clics sur leurs liens soient mesurés et associés à ma personne, afin de les améliorer. Je peux retirer ce consentement en tout temps.",
};

const COMMON: Record<Lang, Pick<FormTexts, 'consentLabel' | 'statusAccepted' | 'statusRefused' | 'statusUnanswered'>> = {
  en: {
    consentLabel: CONSENT_LABEL.en,
    statusAccepted: 'You currently accept the measurement of your interactions with our messages.',
    statusRefused: 'You currently refuse the measurement of your interactions with our messages.',
    statusUnanswered: 'You have not yet told us whether you accept the measurement of your interactions with our messages.',
  },
  fr: {
    consentLabel: CONSENT_LABEL.fr,
    statusAccepted: 'Vous acceptez actuellement la mesure de vos interactions avec nos messages.',
    statusRefused: 'Vous refusez actuellement la mesure de vos interactions avec nos messages.',
    statusUnanswered: "Vous ne nous avez pas encore dit si vous acceptez la mesure de vos interactions avec nos messages.",
  },
};

const BLANK: Record<Lang, FormTexts> = {
  en: {
    ...COMMON.en,
    title: '',
    intro: '',
    submit: 'Send',
    thanksTitle: 'Thank you',
    thanksText: '',
    refuseButton: 'Refuse the measurement',
    acceptButton: 'Accept the measurement',
    refusedTitle: 'Your refusal is recorded',
    refusedText: 'Your opens and clicks are no longer linked to you. You will keep receiving our messages.',
    acceptedTitle: 'Your consent is recorded',
    acceptedText: 'Thank you. Your opens and clicks help us improve our messages.',
    changeMind: 'Changed your mind?',
    alreadyUnsubscribed: 'This address is already unsubscribed: you will not receive our messages any more.',
    optOutOffer: 'You would rather keep receiving our messages? You can refuse the measurement of your interactions with them instead.',
    optOutLink: 'Manage the measurement of my interactions',
  },
  fr: {
    ...COMMON.fr,
    title: '',
    intro: '',
    submit: 'Envoyer',
    thanksTitle: 'Merci',
    thanksText: '',
    refuseButton: 'Refuser la mesure',
    acceptButton: 'Accepter la mesure',
    refusedTitle: 'Votre refus est enregistré',
    refusedText: 'Vos ouvertures et vos clics ne sont plus associés à votre personne. Vous continuerez de recevoir nos messages.',
    acceptedTitle: 'Votre consentement est enregistré',
    acceptedText: 'Merci. Vos ouvertures et vos clics nous aident à améliorer nos messages.',
    changeMind: "Vous avez changé d'avis?",
    alreadyUnsubscribed: 'Cette adresse est déjà désabonnée : vous ne recevrez plus nos messages.',
    optOutOffer: 'Vous préférez continuer de recevoir nos messages? Vous pouvez plutôt refuser la mesure de vos interactions avec eux.',
    optOutLink: 'Gérer la mesure de mes interactions',
  },
};

const BY_KIND: Record<FormKind, Record<Lang, Partial<FormTexts>>> = {
  subscription: {
    en: { title: 'Subscribe to our messages', intro: 'Leave your address to receive our news.', submit: 'Subscribe', thanksTitle: 'Thank you for subscribing', thanksText: 'Your subscription is recorded.' },
    fr: { title: 'Abonnez-vous à nos messages', intro: 'Laissez votre adresse pour recevoir nos nouvelles.', submit: "M'abonner", thanksTitle: 'Merci de votre abonnement', thanksText: 'Votre abonnement est enregistré.' },
  },
  profile: {
    en: { title: 'Your preferences', intro: 'Check and update the information we hold about you.', submit: 'Save', thanksTitle: 'Your preferences are saved', thanksText: 'Thank you for keeping your information up to date.' },
    fr: { title: 'Vos préférences', intro: 'Vérifiez et mettez à jour les renseignements que nous détenons sur vous.', submit: 'Enregistrer', thanksTitle: 'Vos préférences sont enregistrées', thanksText: 'Merci de garder vos renseignements à jour.' },
  },
  'tracking-optout': {
    en: {
      title: 'Measurement of your interactions',
      intro: 'To improve our messages, we measure whether they are opened and which of their links are clicked. You can refuse this measurement at any time without unsubscribing: you will keep receiving our messages.',
    },
    fr: {
      title: 'Mesure de vos interactions',
      intro: "Pour améliorer nos messages, nous mesurons s'ils sont ouverts et quels liens y sont cliqués. Vous pouvez refuser cette mesure en tout temps sans vous désabonner : vous continuerez de recevoir nos messages.",
    },
  },
  unsubscribe: {
    en: { title: 'Unsubscribe', intro: 'Do you want to stop receiving our messages at this address?', submit: 'Unsubscribe', thanksTitle: 'You are unsubscribed', thanksText: 'You will not receive our messages any more.' },
    fr: { title: 'Désabonnement', intro: 'Voulez-vous cesser de recevoir nos messages à cette adresse?', submit: 'Me désabonner', thanksTitle: 'Vous êtes désabonné', thanksText: 'Vous ne recevrez plus nos messages.' },
  },
};

/**
 * The texts of a page: built-in defaults for the kind and language, overridden
 * by the form's own texts (blank overrides are ignored).
 *
 * @example formTexts('unsubscribe', 'fr', {}).submit // 'Me désabonner'
 */
export function formTexts(kind: FormKind, lang: Lang, spec: FormSpec): FormTexts {
  const texts: FormTexts = { ...BLANK[lang], ...BY_KIND[kind][lang] };
  const custom = spec.texts?.[lang] ?? {};
  for (const key of TEXT_KEYS) {
    const value = custom[key];
    if (typeof value === 'string' && value.trim() !== '') texts[key] = value;
  }
  return texts;
}

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
  if (input.texts !== undefined) spec.texts = input.texts;
  return spec;
}

/**
 * What a person reads before pressing a button of the tracking opt-out page:
 * the page's explanation and the button's label (hashed as the proof).
 */
export function optOutWording(texts: { intro: string; refuseButton: string; acceptButton: string }, accept: boolean): string {
  return `${texts.intro}\n${accept ? texts.acceptButton : texts.refuseButton}`;
}
