import type { Contact } from '../../domain/contact.js';
import { formFields, formTexts } from '../../domain/form.js';
import { offersTrackingOptOut, type PageForm, showsConsentField } from '../../domain/form.js';
import type { Project } from '../../services/projects.service.js';
import type { SafeHtml } from './html.js';
import { fieldsPage, type PageFrame, trackingPage, unsubscribePage } from './views.js';

export interface HostedPageInput {
  frame: PageFrame;
  project: Project;
  form: PageForm;
  /** The contact of a per-contact page (profile, tracking opt-out, unsubscribe); ignored by a subscription form. */
  contact: Contact;
  csrf: string;
  /** The signed tracking opt-out path of this contact, for the unsubscribe page's offer. */
  optOutPath: string;
}

/** The contact of a page that has none (a subscription form), and of the admin preview: no values. */
export const NO_CONTACT: Contact = {
  id: 0,
  projectId: 0,
  email: null,
  externalId: null,
  phone: null,
  fields: {},
  status: 'active',
  hasTrackingConsent: null,
  dtTrackingConsent: null,
  createdAt: 0,
  updatedAt: 0,
};

/** A profile page shows the contact's current values. */
function profileValues(fields: string[], contact: Contact): Record<string, string> {
  return Object.fromEntries(
    fields.map((f) => {
      const value = f === 'email' ? contact.email : f === 'phone' ? contact.phone : contact.fields[f.slice('fields.'.length)];
      return [f, value === null || value === undefined ? '' : String(value)];
    }),
  );
}

/**
 * The page a hosted form answers a GET with: used by the public `/f/` routes
 * and by the admin preview, so the preview is the very page a visitor gets.
 */
export function hostedFormPage({ frame, project, form, contact, csrf, optOutPath }: HostedPageInput): SafeHtml {
  const texts = formTexts(form.kind, frame.lang, form.spec);
  switch (form.kind) {
    case 'subscription': {
      const state = { fields: formFields(form.spec), values: {}, errors: {}, consent: { shown: showsConsentField(form), checked: false } };
      return fieldsPage(frame, texts, form.spec, csrf, state);
    }
    case 'profile': {
      const fields = formFields(form.spec);
      const state = { fields, values: profileValues(fields, contact), errors: {}, consent: { shown: showsConsentField(form), checked: contact.hasTrackingConsent === true } };
      return fieldsPage(frame, texts, form.spec, csrf, state);
    }
    case 'tracking-optout':
      return trackingPage(frame, texts, contact, csrf);
    case 'unsubscribe': {
      const optOut = offersTrackingOptOut(form, project) ? `${optOutPath}?lang=${frame.lang}` : null;
      return unsubscribePage(frame, texts, contact, csrf, optOut);
    }
  }
}
