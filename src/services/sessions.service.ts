import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { AppError } from '../domain/errors.js';
import { hmac } from '../domain/hmac.js';
import type { Role } from '../domain/permissions.js';
import type { Db } from '../store/database.js';
import { deleteSession, deleteUserSessions, insertSession, sessionWithUser, touchSession } from '../store/users.js';
import type { Language, UserService } from './users.service.js';

export interface SessionOptions {
  /** A session unused this long ends (default 2 h). */
  idleMs: number;
  /** A session ends this long after sign-in, used or not (default 12 h). */
  absoluteMs: number;
  /** Failed sign-ins allowed per email and per address within `failureWindowMs`. */
  maxFailuresPerEmail: number;
  maxFailuresPerAddress: number;
  failureWindowMs: number;
}

export const DEFAULT_SESSION_OPTIONS: SessionOptions = {
  idleMs: 2 * 3600_000,
  absoluteMs: 12 * 3600_000,
  maxFailuresPerEmail: 5,
  maxFailuresPerAddress: 20,
  failureWindowMs: 15 * 60_000,
};

/** The user a session belongs to, as read on each request. */
export interface SessionUser {
  userId: number;
  email: string;
  name: string | null;
  role: Role;
  language: Language | null;
  projectIds: number[];
}

// The session's last use is written at most once a minute: a request is one read, not a write.
const TOUCH_EVERY_MS = 60_000;

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/**
 * Server-side sessions of the admin app: the cookie carries a random id, the
 * database only its SHA-256, so a copy of the database signs no one in. Each
 * session has an idle and an absolute expiry, and a CSRF token derived from
 * its id (HMAC with the server secret) that every state-changing request made
 * with the cookie must echo.
 */
export class SessionService {
  private readonly failures = new FailureCounter();

  constructor(
    private readonly db: Db,
    private readonly clock: () => number,
    private readonly users: UserService,
    private readonly secret: string,
    readonly options: SessionOptions = DEFAULT_SESSION_OPTIONS,
  ) {}

  /**
   * Signs in: a new session id (to set as the cookie) and its user, or a 401
   * that says the same for an unknown email and a wrong password. Too many
   * failures for the email or the address answer 429 before any check.
   */
  async signIn(email: string, password: string, address: string): Promise<{ sessionId: string; user: SessionUser }> {
    const now = this.clock();
    const emailKey = `email:${email.trim().toLowerCase()}`;
    const addressKey = `address:${address}`;
    const { failureWindowMs: windowMs } = this.options;
    const retry =
      this.failures.blockedFor(emailKey, this.options.maxFailuresPerEmail, windowMs, now) ??
      this.failures.blockedFor(addressKey, this.options.maxFailuresPerAddress, windowMs, now);
    if (retry !== undefined) {
      throw new AppError('TooManySignInAttempts', `Too many failed sign-ins: try again in ${Math.ceil(retry / 1000)} s`);
    }
    const user = await this.users.verifyCredentials(email, password);
    if (!user) {
      this.failures.record(emailKey, now, windowMs);
      this.failures.record(addressKey, now, windowMs);
      throw new AppError('InvalidCredentials', 'The email or the password is not right');
    }
    this.failures.clear(emailKey);
    const sessionId = randomBytes(32).toString('base64url');
    await insertSession(this.db, sha256(sessionId), user.id, now);
    return { sessionId, user: { userId: user.id, email: user.email, name: user.name, role: user.role, language: user.language, projectIds: user.projectIds } };
  }

  /** The session's user, or null when the id is unknown, signed out or expired (an expired session is deleted). */
  async resolve(sessionId: string): Promise<SessionUser | null> {
    const idHash = sha256(sessionId);
    const row = await sessionWithUser(this.db, idHash);
    if (!row) return null;
    const now = this.clock();
    if (now - row.last_seen_at > this.options.idleMs || now - row.created_at > this.options.absoluteMs) {
      await deleteSession(this.db, idHash);
      return null;
    }
    if (now - row.last_seen_at >= TOUCH_EVERY_MS) {
      await touchSession(this.db, idHash, now);
    }
    return {
      userId: row.id,
      email: row.email,
      name: row.name,
      role: row.role as Role,
      language: (row.language as Language | null) ?? null,
      projectIds: row.role === 'owner' ? [] : await this.users.projectIdsOf(row.id),
    };
  }

  /** Ends the session on the server: its cookie no longer works anywhere. */
  async signOut(sessionId: string): Promise<void> {
    await deleteSession(this.db, sha256(sessionId));
  }

  /** Ends every session of a user but the given one (after a password change). */
  async endOtherSessions(userId: number, keep: string | undefined): Promise<void> {
    await deleteUserSessions(this.db, userId, keep === undefined || keep === '' ? undefined : sha256(keep));
  }

  /** The CSRF token of a session: bound to it, the same for its whole life, unknown to anyone without the server secret. */
  csrfToken(sessionId: string): string {
    return hmac(this.secret, `csrf:${sessionId}`, 32).toString('base64url');
  }

  checkCsrf(sessionId: string, token: string | undefined): boolean {
    if (!token) return false;
    const expected = Buffer.from(this.csrfToken(sessionId));
    const given = Buffer.from(token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}

/** Failed sign-ins per key within a sliding window, in memory, bounded in size. */
class FailureCounter {
  private readonly times = new Map<string, number[]>();

  /** Milliseconds until the next attempt is allowed, or undefined when allowed now. */
  blockedFor(key: string, max: number, windowMs: number, now: number): number | undefined {
    const recent = (this.times.get(key) ?? []).filter((t) => t > now - windowMs);
    if (recent.length < max) return undefined;
    return (recent[recent.length - max] ?? now) + windowMs - now;
  }

  record(key: string, now: number, windowMs: number): void {
    if (this.times.size > 50_000) {
      for (const [k, times] of this.times) if ((times[times.length - 1] ?? 0) <= now - windowMs) this.times.delete(k);
      if (this.times.size > 50_000) this.times.clear();
    }
    const recent = (this.times.get(key) ?? []).filter((t) => t > now - windowMs);
    recent.push(now);
    this.times.set(key, recent.slice(-100));
  }

  clear(key: string): void {
    this.times.delete(key);
  }
}
