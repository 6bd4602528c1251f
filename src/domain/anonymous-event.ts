/** The longest user agent stored, on an identified event or a consent proof. */
export const MAX_USER_AGENT = 512;

/**
 * Rule 5: an anonymous event keeps its time to the minute only.
 *
 * @example toMinute(Date.UTC(2026, 10, 29, 6, 1, 30)) // Date.UTC(2026, 10, 29, 6, 1, 0)
 */
export const toMinute = (ms: number): number => ms - (ms % 60_000);

/**
 * A user agent as stored: cut to {@link MAX_USER_AGENT} characters.
 *
 * @example capUserAgent(undefined) // null
 */
export function capUserAgent(userAgent: string | null | undefined): string | null {
  return userAgent === null || userAgent === undefined ? null : userAgent.slice(0, MAX_USER_AGENT);
}

/**
 * A page's address without query or fragment: what an anonymous event may keep of a URL.
 *
 * @example withoutQuery('https://shop.example/p?email=a@b.c#x') // 'https://shop.example/p'
 */
export function withoutQuery(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return url.split(/[?#]/)[0] ?? '';
  }
}

/** The parts of an event that can point at a person, as the source saw them. */
export interface EventOrigin {
  /** The contact, set only when the contact is tracked at the moment of the event (rule 4). */
  contactId: number | null;
  at: number;
  ip?: string | null | undefined;
  userAgent?: string | null | undefined;
  url?: string | null | undefined;
  /** The recipient nonce of an anonymously issued token. */
  nonce?: string | null | undefined;
}

/** What of an {@link EventOrigin} is stored. */
export interface KeptOrigin {
  contactId: number | null;
  at: number;
  ip: string | null;
  userAgent: string | null;
  url: string | null;
  nonce: string | null;
}

/**
 * Rule 5, the one place that decides what an event keeps of its origin. An
 * identified event keeps the contact, exact time, IP address and user agent
 * (capped), and no nonce. An anonymous event keeps no contact, IP address or
 * user agent, its time to the minute, a URL without query or fragment, and
 * the recipient nonce when its token carried one.
 *
 * @example anonymousEvent({ contactId: null, at: 90_500, ip: '203.0.113.7', nonce: 'n' })
 * // { contactId: null, at: 60_000, ip: null, userAgent: null, url: null, nonce: 'n' }
 */
export function anonymousEvent(origin: EventOrigin): KeptOrigin {
  if (origin.contactId !== null) {
    return {
      contactId: origin.contactId,
      at: origin.at,
      ip: origin.ip ?? null,
      userAgent: capUserAgent(origin.userAgent),
      url: origin.url ?? null,
      nonce: null,
    };
  }
  return {
    contactId: null,
    at: toMinute(origin.at),
    ip: null,
    userAgent: null,
    url: origin.url === null || origin.url === undefined ? null : withoutQuery(origin.url),
    nonce: origin.nonce ?? null,
  };
}
