import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from 'node:crypto';

/*
 * The one HMAC of the project: tracking tokens, signed contact links and form
 * CSRF tokens all sign with the first configured secret and verify against
 * every secret (rotation), in constant time.
 */

// Cached key objects: signing ~20 links per recipient should not re-import the secret each time.
const keys = new Map<string, KeyObject>();
function keyFor(secret: string): KeyObject {
  let key = keys.get(secret);
  if (!key) {
    key = createSecretKey(Buffer.from(secret, 'utf8'));
    if (keys.size > 16) keys.clear();
    keys.set(secret, key);
  }
  return key;
}

/**
 * The first `bytes` bytes of HMAC-SHA256(secret, data).
 *
 * @example hmac('s3cret', 'u.1.42', 12) // <Buffer 12 bytes>
 */
export function hmac(secret: string, data: string | Uint8Array, bytes: number): Buffer {
  return createHmac('sha256', keyFor(secret)).update(data).digest().subarray(0, bytes);
}

/**
 * Whether `given` is the HMAC of `data` truncated to `bytes` under any of `secrets`.
 * Every secret is tried (no early exit) and compared with `timingSafeEqual`,
 * so timing reveals neither the MAC nor which secret matched.
 *
 * @example hmacMatches(['new', 'old'], 'u.1.42', given, 12) // true when signed with 'new' or 'old'
 */
export function hmacMatches(secrets: readonly string[], data: string | Uint8Array, given: Uint8Array, bytes: number): boolean {
  if (given.length !== bytes || bytes === 0) return false;
  let valid = false;
  for (const secret of secrets) {
    if (timingSafeEqual(given, hmac(secret, data, bytes))) valid = true;
  }
  return valid;
}

/**
 * A MAC written in base64url, decoded only when the text is the one canonical
 * encoding of its bytes: a last character that differs in unused bits alone
 * (`…B` for `…A`) would otherwise decode to the same MAC and let an altered
 * token through.
 *
 * @example macFromBase64url('AAAA') // <Buffer 00 00 00>; macFromBase64url('AAAB') // undefined
 */
export function macFromBase64url(text: string): Buffer | undefined {
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : undefined;
}
