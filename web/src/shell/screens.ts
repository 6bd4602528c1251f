import type { ComponentType } from 'react';

/**
 * The project screens: one entry gives a route under /admin/projects/{pid}/ and,
 * with `nav`, a link in the navigation. Part 2's screens are added here (see docs/admin-app.md).
 * Each screen is its own chunk (`load`), so the first page downloads only the shell.
 */
export interface ProjectScreen {
  /** Route path below /admin/projects/:pid/ (react-router syntax). */
  path: string;
  /** i18n key of the navigation label; screens reached from another one have none. */
  nav?: string;
  load: () => Promise<{ default: ComponentType }>;
}

export const PROJECT_SCREENS: ProjectScreen[] = [];
