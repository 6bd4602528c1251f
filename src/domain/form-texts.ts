// The built-in texts of hosted pages per kind and language, and how a form's own texts override them.
import type { FormSpec } from './form.js';

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
  /** Double opt-in: the answer page after a subscription, whatever the address (no enumeration). */
  checkEmailTitle: string;
  checkEmailText: string;
  /** The confirmation email; `{{url}}` is replaced by the link and `{{hours}}` by its validity. */
  confirmEmailSubject: string;
  confirmEmailText: string;
  /** The page the email's link opens: a button, so a link scanner's GET confirms nothing. */
  confirmTitle: string;
  confirmText: string;
  confirmButton: string;
  /** A confirmation link that is forged, used already or expired. */
  confirmInvalidTitle: string;
  confirmInvalidText: string;
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
  'checkEmailTitle',
  'checkEmailText',
  'confirmEmailSubject',
  'confirmEmailText',
  'confirmTitle',
  'confirmText',
  'confirmButton',
  'confirmInvalidTitle',
  'confirmInvalidText',
] as const satisfies readonly (keyof FormTexts)[];

/** What an admin configures on a form (stored as JSON in `forms.spec`). */
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
    checkEmailTitle: 'Check your inbox',
    checkEmailText: 'If this address can be subscribed, we have sent it an email. Open the link it contains to confirm: nothing changes until you do.',
    confirmEmailSubject: 'Confirm your subscription',
    confirmEmailText:
      'Someone, probably you, asked to subscribe this address to our messages or to update its details.\n\nTo confirm, open this link and press the button:\n{{url}}\n\nThe link is valid for {{hours}} hours. If you did not ask for this, ignore this email: nothing will change.',
    confirmTitle: 'Confirm your subscription',
    confirmText: 'Press the button to confirm the request made with your address. Nothing changes until you do.',
    confirmButton: 'Confirm',
    confirmInvalidTitle: 'This confirmation link is not valid',
    confirmInvalidText: 'It has already been used, has expired or was changed. Fill in the form again to receive a new one.',
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
    checkEmailTitle: 'Consultez votre boîte de réception',
    checkEmailText: 'Si cette adresse peut être abonnée, nous lui avons envoyé un courriel. Ouvrez le lien qu’il contient pour confirmer : rien ne change avant.',
    confirmEmailSubject: 'Confirmez votre abonnement',
    confirmEmailText:
      'Quelqu’un, probablement vous, a demandé d’abonner cette adresse à nos messages ou de mettre à jour ses renseignements.\n\nPour confirmer, ouvrez ce lien et appuyez sur le bouton :\n{{url}}\n\nLe lien est valide pendant {{hours}} heures. Si vous n’avez rien demandé, ignorez ce courriel : rien ne changera.',
    confirmTitle: 'Confirmez votre abonnement',
    confirmText: 'Appuyez sur le bouton pour confirmer la demande faite avec votre adresse. Rien ne change avant.',
    confirmButton: 'Confirmer',
    confirmInvalidTitle: "Ce lien de confirmation n'est pas valide",
    confirmInvalidText: 'Il a déjà été utilisé, a expiré ou a été modifié. Remplissez de nouveau le formulaire pour en recevoir un autre.',
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
