import type { TrackingMode } from './consent.js';
import type { EmailLang, FooterOverrides } from './email-footer.js';

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
  /** `contact`: the controller's contact details (privacy address), shown on consent receipts. */
  branding: { name: string | null; logoUrl: string | null; color: string | null; contact: string | null };
  /** The language of what trackguard adds to the project's emails (the footer). */
  language: EmailLang;
  /** The project's own footer sentences and link label, per language (empty = the built-in ones). */
  emailFooter: FooterOverrides;
}

export type ProjectSettingsPatch = {
  tracking?: Partial<ProjectSettings['tracking']>;
  retentionDays?: number;
  branding?: Partial<ProjectSettings['branding']>;
  language?: EmailLang;
  emailFooter?: FooterOverrides;
};

export const DEFAULT_SETTINGS: ProjectSettings = {
  tracking: { enabled: false, mode: 'opt-out', anonymizePastOnRefusal: true, optOutFooter: true, minAnonymousGroup: 0, honorGpc: true },
  retentionDays: 0,
  branding: { name: null, logoUrl: null, color: null, contact: null },
  language: 'en',
  emailFooter: {},
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
    language: patch.language ?? settings.language,
    emailFooter: {
      ...settings.emailFooter,
      ...Object.fromEntries(Object.entries(patch.emailFooter ?? {}).map(([lang, texts]) => [lang, { ...settings.emailFooter[lang as EmailLang], ...texts }])),
    },
  };
}
