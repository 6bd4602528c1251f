// Contacts are matched by email, so normalisation decides whether a merge updates a person or
// creates a duplicate; signed links decide whether one person can act on another's consent.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isValidEmail, normalizeEmail } from './contact.js';
import { contactLinkPath, signContactLink, verifyContactLink } from './signed-link.js';

describe('normalizeEmail and isValidEmail', () => {
  it('emails compare case-insensitively after trimming', () => {
    expect(normalizeEmail('  Ana@Example.COM \t')).toBe('ana@example.com');
    fc.assert(
      fc.property(fc.emailAddress(), fc.stringMatching(/^[ \t]{0,3}$/), (email, pad) => {
        const variant = `${pad}${email.toUpperCase()}${pad}`;
        expect(normalizeEmail(variant)).toBe(normalizeEmail(email));
        expect(normalizeEmail(normalizeEmail(email))).toBe(normalizeEmail(email));
      }),
    );
  });

  it.each(['ana@example.com', 'a.b+tag@sub.example.co', 'x_y-z@exa-mple.org'])('%s is valid', (email) => {
    expect(isValidEmail(email)).toBe(true);
  });

  it.each(['', 'ana', 'ana@', '@example.com', 'ana@example', 'ana@@example.com', 'a na@example.com', 'ana@exa mple.com', 'ana@example.c', `${'a'.repeat(250)}@example.com`])(
    '%j is invalid',
    (email) => {
      expect(isValidEmail(email)).toBe(false);
    },
  );
});

describe('signed contact links', () => {
  const secrets = ['first-secret', 'older-secret'];

  it('round-trips project and contact for each purpose', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('unsubscribe', 'tracking-optout', 'profile' as const),
        fc.integer({ min: 1, max: 2 ** 40 }),
        fc.integer({ min: 1, max: 2 ** 40 }),
        (purpose, projectId, contactId) => {
          const token = signContactLink(secrets, purpose, projectId, contactId);
          expect(verifyContactLink(secrets, purpose, token)).toEqual({ projectId, contactId });
          expect(contactLinkPath(purpose, token)).toBe(`/f/${purpose}/${token}`);
        },
      ),
    );
  });

  it('a link cannot be moved to another contact, project or page', () => {
    const token = signContactLink(secrets, 'tracking-optout', 3, 42);
    const [, , mac] = token.split('.');
    expect(verifyContactLink(secrets, 'tracking-optout', `3.43.${mac}`)).toBeNull();
    expect(verifyContactLink(secrets, 'tracking-optout', `4.42.${mac}`)).toBeNull();
    expect(verifyContactLink(secrets, 'unsubscribe', token)).toBeNull();
    expect(verifyContactLink(secrets, 'profile', token)).toBeNull();
  });

  it('any altered character of the token is rejected', () => {
    const token = signContactLink(secrets, 'unsubscribe', 12, 3456);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: token.length - 1 }), fc.constantFrom(...'0123456789abcXYZ-_.'), (i, ch) => {
        fc.pre(token[i] !== ch);
        const tampered = token.slice(0, i) + ch + token.slice(i + 1);
        expect(verifyContactLink(secrets, 'unsubscribe', tampered)).toBeNull();
      }),
    );
    expect(verifyContactLink(secrets, 'unsubscribe', '')).toBeNull();
    expect(verifyContactLink(secrets, 'unsubscribe', `${token}x`)).toBeNull();
  });

  it('rotation: the first secret signs, every listed secret verifies, a dropped secret no longer does', () => {
    const old = signContactLink(['older-secret'], 'profile', 1, 2);
    expect(verifyContactLink(secrets, 'profile', old)).toEqual({ projectId: 1, contactId: 2 });
    expect(verifyContactLink(['first-secret'], 'profile', old)).toBeNull();
    expect(signContactLink(secrets, 'profile', 1, 2)).toBe(signContactLink(['first-secret'], 'profile', 1, 2));
  });
});
