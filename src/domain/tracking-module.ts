import type { TrackingSettings } from './consent.js';

/*
 * A new project's tracking module is off (SPEC §1): consent values are recorded,
 * but not applied — every contact counts as tracked until the module is turned
 * on. Everything a user could misread while it is off says so, in these words.
 */

export type TrackingModuleState = 'on' | 'off';

export const trackingModuleOf = (settings: Pick<TrackingSettings, 'enabled'>): TrackingModuleState => (settings.enabled ? 'on' : 'off');

/** The hint shown beside consent figures while the module is off; null when it is on. */
export function trackingModuleHint(settings: Pick<TrackingSettings, 'enabled'>, projectId: number): string | null {
  if (settings.enabled) return null;
  return `The tracking module of project ${projectId} is off: consent values are recorded but not applied, so every contact is tracked (tracked: true) until it is turned on with PATCH /api/v1/projects/${projectId} {"tracking":{"enabled":true,"mode":"opt-out"|"opt-in"}}.`;
}
