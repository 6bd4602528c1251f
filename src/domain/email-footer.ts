import { escapeHtml } from './escape-html.js';

/*
 * The footer trackguard appends to every email while the tracking module is on
 * (SPEC §2, issue 12 item 10). It tells each recipient what applies to them:
 * a tracked recipient how to refuse, an untracked one that nothing is tracked
 * and how to allow it — never "you can refuse" about a message that does not
 * track them. In the project's language, and editable in its texts.
 */

export const EMAIL_LANGS = ['en', 'fr'] as const;
export type EmailLang = (typeof EMAIL_LANGS)[number];

export interface FooterTexts {
  /** The sentence for a tracked recipient, before the link. */
  tracked: string;
  /** The sentence for an untracked recipient, before the link. */
  untracked: string;
  /** The label of the link to the tracking preferences page. */
  link: string;
}

export type FooterOverrides = Partial<Record<EmailLang, Partial<FooterTexts>>>;

const BUILT_IN: Record<EmailLang, FooterTexts> = {
  en: {
    tracked: 'We measure the opens and clicks of this email. You can refuse it at any time:',
    untracked: 'The opens and clicks of this email are not measured for you. If you wish to allow it:',
    link: 'tracking preferences',
  },
  fr: {
    tracked: 'Nous mesurons les ouvertures et les clics de ce courriel. Vous pouvez le refuser à tout moment :',
    untracked: "Les ouvertures et les clics de ce courriel ne sont pas mesurés pour vous. Si vous souhaitez l'autoriser :",
    link: 'préférences de suivi',
  },
};

/** The footer texts of a language: the project's own where it set them, the built-in ones otherwise. */
export function footerTexts(lang: EmailLang, overrides: FooterOverrides = {}): FooterTexts {
  return { ...BUILT_IN[lang], ...Object.fromEntries(Object.entries(overrides[lang] ?? {}).filter(([, v]) => typeof v === 'string' && v.trim() !== '')) };
}

/**
 * The footer of one recipient's email, as HTML and text.
 *
 * @example emailFooter({ tracked: false, lang: 'fr', preferencesUrl: 'https://x/f/tracking-optout/…' }).text
 * // "Les ouvertures et les clics de ce courriel ne sont pas mesurés pour vous. Si vous souhaitez l'autoriser : https://x/f/tracking-optout/…"
 */
export function emailFooter(input: { tracked: boolean; lang: EmailLang; preferencesUrl: string; overrides?: FooterOverrides }): { html: string; text: string } {
  const texts = footerTexts(input.lang, input.overrides);
  const sentence = input.tracked ? texts.tracked : texts.untracked;
  return {
    html: `<p style="font-size:12px;color:#555">${escapeHtml(sentence)} <a href="${escapeHtml(input.preferencesUrl)}">${escapeHtml(texts.link)}</a>.</p>`,
    text: `${sentence} ${input.preferencesUrl}`,
  };
}
