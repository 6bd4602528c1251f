import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeLink } from './link.js';

/** What a Location header may carry: the URL characters and `%XX` escapes, nothing else. */
const SAFE = /^(?:[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$/;

describe('normalizeLink', () => {
  it('percent-encodes controls, spaces, non-ASCII and a stray %, keeping valid escapes', () => {
    expect(normalizeLink('https://x.io/a b\r\n?q=é')).toBe('https://x.io/a%20b%0D%0A?q=%C3%A9');
    expect(normalizeLink('https://x.io/100%?a=%41')).toBe('https://x.io/100%25?a=%41');
    expect(normalizeLink('https://x.io/"<>^`{|}\\')).toBe('https://x.io/%22%3C%3E%5E%60%7B%7C%7D%5C');
    expect(normalizeLink('https://x.io/\uD83D\uDE00')).toBe('https://x.io/%F0%9F%98%80');
    expect(normalizeLink('https://x.io/\uD800x')).toBe('https://x.io/%EF%BF%BDx');
  });

  it('gives back a clean URL as it is', () => {
    const clean = 'https://example.com/p/a-b_c.d~e?x=1&y=%2F#top';
    expect(normalizeLink(clean)).toBe(clean);
  });

  it('always yields a header-safe URL, is idempotent, and leaves safe input unchanged (any string)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (url) => {
        const once = normalizeLink(url);
        expect(once).toMatch(SAFE);
        expect(normalizeLink(once)).toBe(once);
        if (SAFE.test(url)) expect(once).toBe(url);
      }),
      { numRuns: 2000 },
    );
  });
});
