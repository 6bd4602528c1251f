import { describe, expect, it } from 'vitest';
import { CSRF_TTL_MS, issueCsrfToken, originAllowed, verifyCsrfToken } from './csrf.js';

const NOW = Date.UTC(2026, 10, 29, 12);

describe('form CSRF token', () => {
  const token = issueCsrfToken(['s1'], '/f/unsubscribe/1.2.abc', NOW);

  it('is valid for its own page within two hours, with any secret of the rotation', () => {
    expect(verifyCsrfToken(['s1'], '/f/unsubscribe/1.2.abc', token, NOW + CSRF_TTL_MS - 1000)).toBe(true);
    expect(verifyCsrfToken(['s0', 's1'], '/f/unsubscribe/1.2.abc', token, NOW)).toBe(true);
  });

  it('is refused for another page, after expiry, from the future, with another secret or altered', () => {
    expect(verifyCsrfToken(['s1'], '/f/unsubscribe/1.3.abc', token, NOW)).toBe(false);
    expect(verifyCsrfToken(['s1'], '/f/unsubscribe/1.2.abc', token, NOW + CSRF_TTL_MS + 1000)).toBe(false);
    expect(verifyCsrfToken(['s1'], '/f/unsubscribe/1.2.abc', issueCsrfToken(['s1'], '/f/unsubscribe/1.2.abc', NOW + 3_600_000), NOW)).toBe(false);
    expect(verifyCsrfToken(['s2'], '/f/unsubscribe/1.2.abc', token, NOW)).toBe(false);
    const [at, mac] = token.split('.') as [string, string];
    expect(verifyCsrfToken(['s1'], '/f/unsubscribe/1.2.abc', `${(Number.parseInt(at, 36) + 60).toString(36)}.${mac}`, NOW)).toBe(false);
    expect(verifyCsrfToken(['s1'], '/f/unsubscribe/1.2.abc', undefined, NOW)).toBe(false);
  });

  it("accepts no Origin, the public URL's origin or the requested host; refuses any other origin and 'null'", () => {
    expect(originAllowed(undefined, 'https://mail.example.com', 'mail.example.com')).toBe(true);
    expect(originAllowed('https://mail.example.com', 'https://mail.example.com', 'internal:8787')).toBe(true);
    expect(originAllowed('http://127.0.0.1:4321', 'https://mail.example.com', '127.0.0.1:4321')).toBe(true);
    expect(originAllowed('https://evil.example', 'https://mail.example.com', 'mail.example.com')).toBe(false);
    expect(originAllowed('null', 'https://mail.example.com', 'mail.example.com')).toBe(false);
    expect(originAllowed('not a url', 'https://mail.example.com', 'mail.example.com')).toBe(false);
  });
});
