import type { ProjectScreen } from '../shell/screens';

/** Contacts, their consent, imports, tracking settings and privacy (issue 10, SPEC §13). */
export const CONSENT_SCREENS: ProjectScreen[] = [
  { path: 'contacts', nav: 'consentNav.contacts', load: () => import('./contacts/contacts-page') },
  { path: 'contacts/:cid', load: () => import('./contacts/contact-page') },
  { path: 'imports', nav: 'consentNav.imports', load: () => import('./imports/imports-page') },
  { path: 'imports/new', load: () => import('./imports/import-new-page') },
  { path: 'imports/:iid', load: () => import('./imports/import-page') },
  { path: 'privacy', nav: 'consentNav.privacy', load: () => import('./privacy/privacy-page') },
  { path: 'settings/tracking', nav: 'consentNav.tracking', load: () => import('./tracking-settings/tracking-settings-page') },
];
