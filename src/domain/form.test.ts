// The hosted form rules decide what a person reads and what is kept as proof of consent: the
// language, the texts, the fields shown, and the hash of the exact wording.
import { describe, expect, it } from 'vitest';
import { confirmationEmailText, fieldLabel, formFields, formTexts, pickLang, readFormValues, wordingHash } from './form.js';

describe('hosted form rules', () => {
  it('language: ?lang= wins, then the best Accept-Language by quality, else English', () => {
    expect(pickLang('fr', 'en')).toBe('fr');
    expect(pickLang('de', 'fr-CA,fr;q=0.9')).toBe('fr');
    expect(pickLang(undefined, 'de-DE,en;q=0.4,fr;q=0.8')).toBe('fr');
    expect(pickLang(undefined, 'fr;q=0,en;q=0.1')).toBe('en');
    expect(pickLang(undefined, 'de')).toBe('en');
    expect(pickLang(undefined, undefined)).toBe('en');
  });

  it("a form's texts override the defaults of its kind and language; blank ones do not", () => {
    const texts = formTexts('unsubscribe', 'fr', { texts: { fr: { submit: 'Partir', title: '  ' }, en: { intro: 'x' } } });
    expect(texts.submit).toBe('Partir');
    expect(texts.title).toBe('Désabonnement');
    expect(formTexts('unsubscribe', 'en', {}).submit).toBe('Unsubscribe');
  });

  it('email is always the first field, once; unknown fields are dropped', () => {
    expect(formFields({ fields: ['fields.firstName', 'email', 'password', 'phone'] })).toEqual(['email', 'fields.firstName', 'phone']);
    expect(formFields({})).toEqual(['email']);
  });

  it('labels: the form’s own, a known one, or the custom field name spelled out', () => {
    expect(fieldLabel('fields.firstName', 'fr', {})).toBe('Prénom');
    expect(fieldLabel('fields.favouriteColour', 'en', {})).toBe('Favourite colour');
    expect(fieldLabel('email', 'en', { texts: { en: { fieldLabels: { email: 'Your email' } } } })).toBe('Your email');
  });

  it('submitted values: trimmed, email required and checked and lower-cased, too long refused', () => {
    expect(readFormValues(['email', 'fields.a'], { email: ' Ana@Example.COM ', 'fields.a': [' x ', 'y'] })).toEqual({ values: { email: 'ana@example.com', 'fields.a': 'x' }, errors: {} });
    expect(readFormValues(['email'], {}).errors).toEqual({ email: 'required' });
    expect(readFormValues(['email'], { email: 'nope' }).errors).toEqual({ email: 'invalidEmail' });
    expect(readFormValues(['email', 'phone'], { email: 'a@b.co', phone: 'x'.repeat(501) }).errors).toEqual({ phone: 'tooLong' });
  });

  it('the confirmation email says "1 hour", not "1 hours", when a form gives one hour to confirm', () => {
    const url = 'https://x.example/f/confirm/t';
    for (const [lang, one, many] of [['en', 'valid for 1 hour.', 'valid for 48 hours.'], ['fr', 'valide pendant 1 heure.', 'valide pendant 48 heures.']] as const) {
      const template = formTexts('subscription', lang, {}).confirmEmailText;
      expect(confirmationEmailText(template, url, 1)).toContain(one);
      expect(confirmationEmailText(template, url, 48)).toContain(many);
      expect(confirmationEmailText(template, url, 1)).toContain(url);
    }
    expect(confirmationEmailText('Open {{url}} within {{hours}} h', url, 1)).toBe(`Open ${url} within 1 h`);
  });

  it('the wording hash is the SHA-256 hex of the exact text', () => {
    expect(wordingHash('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(wordingHash('abc ')).not.toBe(wordingHash('abc'));
  });
});
