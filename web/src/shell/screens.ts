import type { ComponentType } from 'react';
import { CONSENT_SCREENS } from '../screens/consent-screens';
import { MARKETING_SCREENS } from '../screens/marketing-screens';

/**
 * The project screens: one entry gives a route under /admin/projects/{pid}/ and,
 * with `nav`, a link in the navigation (see docs/admin-app.md).
 * Each screen is its own chunk (`load`), so the first page downloads only the shell.
 */
export interface ProjectScreen {
  /** Route path below /admin/projects/:pid/ (react-router syntax). */
  path: string;
  /** i18n key of the navigation label; screens reached from another one have none. */
  nav?: string;
  load: () => Promise<{ default: ComponentType }>;
}

/** Marketing screens first (the dashboard is the project's home), then contacts, consent and privacy. */
export const PROJECT_SCREENS: ProjectScreen[] = [...MARKETING_SCREENS, ...CONSENT_SCREENS];
