import type { TrackingMode } from './consent.js';

export interface ProjectSettings {
  tracking: {
    enabled: boolean;
    mode: TrackingMode;
    anonymizePastOnRefusal: boolean;
    /** Append a footer with the tracking opt-out link to every email while the module is on. */
    optOutFooter: boolean;
    /**
     * Small-group protection `k` (SPEC §14): a sending with fewer untracked
     * recipients shows and exports no anonymous activity. 0 = off; 5 recommended.
     */
    minAnonymousGroup: number;
    /** Global Privacy Control: a web event or form request with `Sec-GPC: 1` is recorded anonymously. */
    honorGpc: boolean;
  };
  /** Days after which identified events are anonymised; 0 keeps them. */
  retentionDays: number;
  branding: { name: string | null; logoUrl: string | null; color: string | null };
}

export type ProjectSettingsPatch = {
  tracking?: Partial<ProjectSettings['tracking']>;
  retentionDays?: number;
  branding?: Partial<ProjectSettings['branding']>;
};

export const DEFAULT_SETTINGS: ProjectSettings = {
  tracking: { enabled: false, mode: 'opt-out', anonymizePastOnRefusal: true, optOutFooter: true, minAnonymousGroup: 0, honorGpc: true },
  retentionDays: 0,
  branding: { name: null, logoUrl: null, color: null },
};

/**
 * Settings as stored, completed with defaults for keys added since.
 *
 * @example readSettings('{"tracking":{"enabled":true}}').tracking.mode // 'opt-out'
 */
export function readSettings(json: string): ProjectSettings {
  const stored = JSON.parse(json) as ProjectSettingsPatch;
  return applySettingsPatch(DEFAULT_SETTINGS, stored);
}

/**
 * A patch merged into settings, one level deep.
 *
 * @example applySettingsPatch(DEFAULT_SETTINGS, { tracking: { mode: 'opt-in' } }).tracking.enabled // false
 */
export function applySettingsPatch(settings: ProjectSettings, patch: ProjectSettingsPatch): ProjectSettings {
  return {
    tracking: { ...settings.tracking, ...patch.tracking },
    retentionDays: patch.retentionDays ?? settings.retentionDays,
    branding: { ...settings.branding, ...patch.branding },
  };
}
