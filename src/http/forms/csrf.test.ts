import { describe, expect, it } from 'vitest';
import { CSRF_TTL_MS, issueCsrfToken, originAllowed, verifyCsrfToken } from './csrf.js';

// A form token must not outlive the hour nor travel to another form or contact's page;
// the single-use rule (a replay refused) is tested end to end in test/integration/form-tokens.test.ts.
const NOW = Date.UTC(2026, 10, 29, 12);

describe('form CSRF token', () => {
  const page = '/f/unsubscribe/1.2.abc';
  const token = issueCsrfToken(['s1'], page, NOW);

  it('is valid for its own page within the hour, with any secret of the rotation', () => {
    expect(CSRF_TTL_MS).toBeLessThanOrEqual(60 * 60 * 1000);
    expect(verifyCsrfToken(['s1'], page, token, NOW + CSRF_TTL_MS - 1000)).not.toBeNull();
    expect(verifyCsrfToken(['s0', 's1'], page, token, NOW)).not.toBeNull();
  });

  it('is unique per page shown, even within one second, and its claim lasts until it would expire', () => {
    const other = issueCsrfToken(['s1'], page, NOW);
    expect(other).not.toBe(token);
    const claim = verifyCsrfToken(['s1'], page, token, NOW);
    expect(claim?.id).not.toBe(verifyCsrfToken(['s1'], page, other, NOW)?.id);
    expect(claim!.expiresAt).toBeGreaterThanOrEqual(NOW + CSRF_TTL_MS - 1000);
  });

  it('is refused for another page, after expiry, from the future, with another secret or altered', () => {
    expect(verifyCsrfToken(['s1'], '/f/unsubscribe/1.3.abc', token, NOW)).toBeNull();
    expect(verifyCsrfToken(['s1'], page, token, NOW + CSRF_TTL_MS + 1000)).toBeNull();
    expect(verifyCsrfToken(['s1'], page, issueCsrfToken(['s1'], page, NOW + 3_600_000), NOW)).toBeNull();
    expect(verifyCsrfToken(['s2'], page, token, NOW)).toBeNull();
    const [at, nonce, mac] = token.split('.') as [string, string, string];
    expect(verifyCsrfToken(['s1'], page, `${(Number.parseInt(at, 36) + 60).toString(36)}.${nonce}.${mac}`, NOW)).toBeNull();
    expect(verifyCsrfToken(['s1'], page, `${at}.${nonce.startsWith('A') ? 'B' : 'A'}${nonce.slice(1)}.${mac}`, NOW)).toBeNull();
    expect(verifyCsrfToken(['s1'], page, `${at}.${mac}`, NOW)).toBeNull();
    expect(verifyCsrfToken(['s1'], page, undefined, NOW)).toBeNull();
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
