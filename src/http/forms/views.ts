import type { Contact } from '../../domain/contact.js';
import { type FieldError, type FormSpec, type FormTexts, type Lang, fieldLabel } from '../../domain/form.js';
import type { Project } from '../../services/projects.service.js';
import { html, SafeHtml } from './html.js';

/** Words of the page frame and error messages (forms' own texts are in the domain). */
const UI = {
  en: {
    languageNav: 'Language',
    summary: 'Please correct the following:',
    required: 'Enter your email address.',
    invalidEmail: 'Enter a valid email address, like name@example.com.',
    tooLong: 'This value is too long (500 characters at most).',
    emailTaken: 'This email address cannot be used. Enter another one.',
    address: 'Address',
    notFoundTitle: 'This link is not valid',
    notFoundText: 'The page does not exist or the link was changed. Use the link from your most recent message.',
    forbiddenTitle: 'This page has expired',
    forbiddenText: 'For your security, the form could not be sent. Go back to the page, reload it and try again.',
    tooManyTitle: 'Too many attempts',
    tooManyText: 'Please wait a minute before trying again.',
    badRequestTitle: 'The form could not be read',
    badRequestText: 'Go back to the page, reload it and try again.',
    errorTitle: 'Something went wrong',
    errorText: 'Please try again in a few minutes.',
    back: 'Back to the page',
    receipt: 'Download your consent receipt (JSON)',
    receiptNote: 'A signed record of this change, which you can keep as proof.',
  },
  fr: {
    languageNav: 'Langue',
    summary: 'Veuillez corriger ce qui suit :',
    required: 'Entrez votre adresse courriel.',
    invalidEmail: 'Entrez une adresse courriel valide, comme nom@exemple.com.',
    tooLong: 'Cette valeur est trop longue (500 caractères au plus).',
    emailTaken: 'Cette adresse courriel ne peut pas être utilisée. Entrez-en une autre.',
    address: 'Adresse',
    notFoundTitle: "Ce lien n'est pas valide",
    notFoundText: "La page n'existe pas ou le lien a été modifié. Utilisez le lien de votre message le plus récent.",
    forbiddenTitle: 'Cette page a expiré',
    forbiddenText: "Pour votre sécurité, le formulaire n'a pas pu être envoyé. Retournez à la page, rechargez-la et réessayez.",
    tooManyTitle: 'Trop de tentatives',
    tooManyText: 'Veuillez patienter une minute avant de réessayer.',
    badRequestTitle: "Le formulaire n'a pas pu être lu",
    badRequestText: 'Retournez à la page, rechargez-la et réessayez.',
    errorTitle: 'Une erreur est survenue',
    errorText: 'Veuillez réessayer dans quelques minutes.',
    back: 'Retour à la page',
    receipt: 'Télécharger votre reçu de consentement (JSON)',
    receiptNote: 'Une preuve signée de ce changement, à conserver.',
  },
} as const;

const DEFAULT_BRAND = '#1d4ed8';

function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = Number.parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

const contrast = (a: number, b: number): number => (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);

/**
 * The page colours from a project's brand colour: a colour that is not
 * `#rrggbb` is ignored, button text is white or near-black, whichever
 * contrasts more, and links keep the brand colour only if it reads on white.
 */
export function brandPalette(color: string | null): { brand: string; onBrand: string; link: string } {
  const brand = color && /^#[0-9a-fA-F]{6}$/.test(color) ? color.toLowerCase() : DEFAULT_BRAND;
  const l = luminance(brand);
  const onBrand = contrast(l, 1) >= contrast(l, luminance('#111111')) ? '#ffffff' : '#111111';
  const link = contrast(l, 1) >= 4.5 ? brand : DEFAULT_BRAND;
  return { brand, onBrand, link };
}

// A constant written here, never input: safe to embed as it is.
const STYLE = new SafeHtml(`*{box-sizing:border-box}
body{margin:0;font:1.0625rem/1.6 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#1a1a1a;background:#f3f4f6}
.page{max-width:36rem;margin:0 auto;padding:1.5rem 1rem 2rem}
.brand{display:flex;align-items:center;gap:.75rem;min-height:3rem;margin-bottom:1rem}
.brand img{max-height:3rem;max-width:10rem}
.brand span{font-weight:700;font-size:1.15rem}
main{background:#fff;border-radius:8px;padding:1.5rem 1.75rem 1.75rem;border-top:6px solid var(--brand);box-shadow:0 1px 3px rgba(0,0,0,.15)}
h1{font-size:1.6rem;line-height:1.25;margin:0 0 1rem}
h2{font-size:1.2rem;margin:1.75rem 0 .5rem}
p{margin:.5rem 0}
a{color:var(--link);text-underline-offset:2px}
.field{margin-top:1.1rem}
label{display:block;font-weight:600;margin-bottom:.3rem}
input[type=email],input[type=text],input[type=tel]{width:100%;padding:.6rem .7rem;font:inherit;color:#1a1a1a;background:#fff;border:2px solid #6b7280;border-radius:6px}
input[aria-invalid=true]{border-color:#b00020}
.check{display:flex;gap:.65rem;align-items:flex-start;margin-top:1.4rem}
.check input{width:1.35rem;height:1.35rem;margin:.15rem 0 0;flex:none;accent-color:var(--brand)}
.check label{font-weight:400;margin:0}
button{font:inherit;font-weight:700;margin-top:1.4rem;padding:.65rem 1.4rem;border-radius:6px;border:2px solid var(--brand);background:var(--brand);color:var(--on-brand);cursor:pointer}
button.secondary{background:#fff;color:#1a1a1a;border-color:#4b5563}
:focus-visible{outline:3px solid #111;outline-offset:3px}
input:focus-visible{outline-offset:1px}
.error{color:#b00020;font-weight:600;margin:.3rem 0 0}
.summary{border:2px solid #b00020;border-radius:6px;padding:.75rem 1rem;margin-bottom:1rem}
.summary ul{margin:.25rem 0 0;padding-left:1.25rem}
.status{background:#f1f5f9;border-left:4px solid #475569;padding:.75rem 1rem;margin:1rem 0}
.offer{border-top:1px solid #d1d5db;margin-top:1.75rem;padding-top:1rem}
footer{margin-top:1rem;font-size:.95rem;color:#374151}
footer a{color:#1f2937}`);

export interface PageFrame {
  lang: Lang;
  /** The project, for its branding; absent on pages that could not find one. */
  project?: Project | undefined;
  /** The request path, for the language links. */
  path: string;
}

function brandName(project: Project | undefined): string | null {
  if (!project) return null;
  return project.settings.branding.name ?? project.name;
}

function safeLogoUrl(url: string | null): string | null {
  return url && /^https?:\/\/[^\s"'<>]+$/i.test(url) ? url : null;
}

/** The whole HTML document around a page body: language, branding, one `h1` (given by the body), language links. */
export function layout(frame: PageFrame, title: string, body: SafeHtml): SafeHtml {
  const name = brandName(frame.project);
  const logo = safeLogoUrl(frame.project?.settings.branding.logoUrl ?? null);
  const palette = brandPalette(frame.project?.settings.branding.color ?? null);
  const other: Lang = frame.lang === 'en' ? 'fr' : 'en';
  const otherName = other === 'en' ? 'English' : 'Français';
  return html`<!doctype html>
<html lang="${frame.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<link rel="icon" href="data:,">
<title>${name ? `${title} – ${name}` : title}</title>
<style>:root{--brand:${palette.brand};--on-brand:${palette.onBrand};--link:${palette.link}}
${STYLE}</style>
</head>
<body>
<div class="page">
${name || logo ? html`<header class="brand">${logo ? html`<img src="${logo}" alt="${name ? '' : 'Logo'}">` : ''}${name ? html`<span>${name}</span>` : ''}</header>` : ''}
<main>
${body}
</main>
<footer><nav aria-label="${UI[frame.lang].languageNav}"><a href="${frame.path}?lang=${other}" hreflang="${other}" lang="${other}">${otherName}</a></nav></footer>
</div>
</body>
</html>
`;
}

/** The action URL of a page's form: the same path, keeping the language. */
const actionOf = (frame: PageFrame): string => `${frame.path}?lang=${frame.lang}`;

const csrfField = (csrf: string): SafeHtml => html`<input type="hidden" name="csrf" value="${csrf}">`;

/** French typography puts a space before a colon. */
const colon = (lang: Lang): string => (lang === 'fr' ? '\u00a0: ' : ': ');

function fieldId(field: string): string {
  return `f-${field.replace(/[^A-Za-z0-9_-]/g, '-')}`;
}

function errorText(lang: Lang, error: FieldError): string {
  return UI[lang][error];
}

const INPUT_TYPE: Record<string, string> = { email: 'email', phone: 'tel' };
const AUTOCOMPLETE: Record<string, string> = { email: 'email', phone: 'tel', 'fields.firstName': 'given-name', 'fields.lastName': 'family-name', 'fields.company': 'organization' };

export interface FieldsFormState {
  fields: string[];
  values: Record<string, string>;
  errors: Record<string, FieldError>;
  consent: { shown: boolean; checked: boolean };
}

/** A subscription or profile page: fields with labels and tied error messages, the optional consent checkbox. */
export function fieldsPage(frame: PageFrame, texts: FormTexts, spec: FormSpec, csrf: string, state: FieldsFormState, note?: SafeHtml): SafeHtml {
  const ui = UI[frame.lang];
  const errored = state.fields.filter((f) => state.errors[f]);
  const summary =
    errored.length > 0
      ? html`<div class="summary" role="alert"><p><strong>${ui.summary}</strong></p><ul>${errored.map(
          (f) => html`<li><a href="#${fieldId(f)}">${fieldLabel(f, frame.lang, spec)}${colon(frame.lang)}${errorText(frame.lang, state.errors[f]!)}</a></li>`,
        )}</ul></div>`
      : '';
  const inputs = state.fields.map((f) => {
    const id = fieldId(f);
    const error = state.errors[f];
    return html`<div class="field"><label for="${id}">${fieldLabel(f, frame.lang, spec)}</label>
<input type="${INPUT_TYPE[f] ?? 'text'}" id="${id}" name="${f}" value="${state.values[f] ?? ''}"${f === 'email' ? html` required` : ''}${
      AUTOCOMPLETE[f] ? html` autocomplete="${AUTOCOMPLETE[f]}"` : ''
    }${error ? html` aria-invalid="true" aria-describedby="${id}-error"` : ''} maxlength="500">
${error ? html`<p class="error" id="${id}-error">${errorText(frame.lang, error)}</p>` : ''}</div>`;
  });
  const consent = state.consent.shown
    ? html`<div class="check"><input type="checkbox" id="tracking-consent" name="trackingConsent" value="yes"${state.consent.checked ? html` checked` : ''}>
<label for="tracking-consent">${texts.consentLabel}</label></div>`
    : '';
  return layout(
    frame,
    texts.title,
    html`<h1>${texts.title}</h1>
${summary}${texts.intro ? html`<p>${texts.intro}</p>` : ''}${note ?? ''}
<form method="post" action="${actionOf(frame)}">
${csrfField(csrf)}
${inputs}
${consent}
<button type="submit">${texts.submit}</button>
</form>`,
  );
}

/**
 * The double opt-in confirmation page a link from the email opens: what is
 * confirmed (the consent wording, when the box was ticked) and one button.
 * Only the POST of that button confirms.
 */
export function confirmPage(frame: PageFrame, texts: FormTexts, csrf: string, consentLabel: string | null): SafeHtml {
  return layout(
    frame,
    texts.confirmTitle,
    html`<h1>${texts.confirmTitle}</h1>
<p>${texts.confirmText}</p>
${consentLabel === null ? '' : html`<p class="status">${consentLabel}</p>`}
<form method="post" action="${actionOf(frame)}">
${csrfField(csrf)}
<button type="submit">${texts.confirmButton}</button>
</form>`,
  );
}

/**
 * The link to the receipt of the change just made (SPEC §14), for a
 * confirmation page; nothing when the change wrote no history entry.
 */
export function receiptLink(lang: Lang, url: string | null): SafeHtml {
  const ui = UI[lang];
  return url ? html`<p class="receipt">${ui.receiptNote} <a href="${url}" type="application/json" download>${ui.receipt}</a></p>` : html``;
}

/** A confirmation page; `extra` adds what comes after (a way back, an offer). */
export function messagePage(frame: PageFrame, title: string, text: string, extra?: SafeHtml): SafeHtml {
  return layout(frame, title, html`<h1>${title}</h1>${text ? html`<p>${text}</p>` : ''}${extra ?? ''}`);
}

function statusText(texts: FormTexts, contact: Contact): string {
  if (contact.hasTrackingConsent === true) return texts.statusAccepted;
  if (contact.hasTrackingConsent === false) return texts.statusRefused;
  return texts.statusUnanswered;
}

function trackingButtons(frame: PageFrame, texts: FormTexts, csrf: string, actions: ('refuse' | 'accept')[]): SafeHtml {
  return html`<form method="post" action="${actionOf(frame)}">
${csrfField(csrf)}
${actions.map((a, i) => html`<button type="submit" name="action" value="${a}"${i > 0 ? html` class="secondary"` : ''}>${a === 'refuse' ? texts.refuseButton : texts.acceptButton}</button> `)}
</form>`;
}

/**
 * The tracking opt-out page: the explanation, the current status and the
 * buttons that make sense from it. Showing it changes nothing.
 */
export function trackingPage(frame: PageFrame, texts: FormTexts, contact: Contact, csrf: string): SafeHtml {
  const actions: ('refuse' | 'accept')[] = contact.hasTrackingConsent === true ? ['refuse'] : contact.hasTrackingConsent === false ? ['accept'] : ['refuse', 'accept'];
  return layout(
    frame,
    texts.title,
    html`<h1>${texts.title}</h1>
<p>${texts.intro}</p>
<p class="status">${statusText(texts, contact)}</p>
${trackingButtons(frame, texts, csrf, actions)}`,
  );
}

/** After a button of the opt-out page: what was recorded, and the way back. */
export function trackingDonePage(frame: PageFrame, texts: FormTexts, contact: Contact, csrf: string, receiptUrl: string | null = null): SafeHtml {
  const accepted = contact.hasTrackingConsent === true;
  const title = accepted ? texts.acceptedTitle : texts.refusedTitle;
  return layout(
    frame,
    title,
    html`<h1>${title}</h1>
<p role="status">${accepted ? texts.acceptedText : texts.refusedText}</p>
${receiptLink(frame.lang, receiptUrl)}
<h2>${texts.changeMind}</h2>
<p>${texts.intro}</p>
${trackingButtons(frame, texts, csrf, [accepted ? 'refuse' : 'accept'])}`,
  );
}

function optOutOffer(texts: FormTexts, optOutUrl: string | null): SafeHtml | string {
  return optOutUrl ? html`<div class="offer"><p>${texts.optOutOffer}</p><p><a href="${optOutUrl}">${texts.optOutLink}</a></p></div>` : '';
}

/** The unsubscribe page: the address concerned, the button, and the tracking opt-out offer when configured. */
export function unsubscribePage(frame: PageFrame, texts: FormTexts, contact: Contact, csrf: string, optOutUrl: string | null): SafeHtml {
  const ui = UI[frame.lang];
  const address = contact.email ?? contact.phone ?? '';
  const action =
    contact.status === 'inactive'
      ? html`<p class="status">${texts.alreadyUnsubscribed}</p>`
      : html`<p>${texts.intro}</p>
${address ? html`<p class="status">${ui.address}${colon(frame.lang)}<strong>${address}</strong></p>` : ''}
<form method="post" action="${actionOf(frame)}">
${csrfField(csrf)}
<button type="submit">${texts.submit}</button>
</form>`;
  return layout(frame, texts.title, html`<h1>${texts.title}</h1>\n${action}${optOutOffer(texts, optOutUrl)}`);
}

export function unsubscribedPage(frame: PageFrame, texts: FormTexts, optOutUrl: string | null, receiptUrl: string | null = null): SafeHtml {
  return messagePage(frame, texts.thanksTitle, texts.thanksText, html`${receiptLink(frame.lang, receiptUrl)}${optOutOffer(texts, optOutUrl)}`);
}

export type ErrorKind = 'notFound' | 'forbidden' | 'tooMany' | 'badRequest' | 'error';

/** An error page in the visitor's language, with a link back to the page when there is one. */
export function errorPage(frame: PageFrame, kind: ErrorKind, backTo?: string): SafeHtml {
  const ui = UI[frame.lang];
  const title = ui[`${kind}Title`];
  const text = ui[`${kind}Text`];
  return messagePage(frame, title, text, backTo ? html`<p><a href="${backTo}">${ui.back}</a></p>` : undefined);
}
