import { randomBytes } from 'node:crypto';
import { type Algorithm, hash, verify } from '@node-rs/argon2';
import { AppError, badInput, notFound } from '../domain/errors.js';
import type { Role } from '../domain/permissions.js';
import type { Db } from '../store/database.js';
import {
  type Language,
  type User,
  deleteUser,
  existingProjectIds,
  hasAnotherOwner,
  hasAnyUser,
  insertUser,
  listUsers,
  setUserProjects,
  toUser,
  updateUser,
  userIdByEmail,
  userProjectIds,
  userRowByEmail,
  userRowById,
} from '../store/users.js';

export { LANGUAGES } from '../store/users.js';
export type { Language, User } from '../store/users.js';

export interface UserInput {
  email: string;
  name?: string | null;
  password?: string;
  role: Role;
  projectIds: number[];
  language?: Language | null;
}

export type UserPatch = Partial<UserInput>;

// OWASP's Argon2id baseline (19 MiB, 2 passes, 1 lane). 2 is Algorithm.Argon2id (a const enum, not importable as a value).
const ARGON2 = { algorithm: 2 as Algorithm, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** A user's email is their sign-in name: trimmed and lower-cased, one `@`, no spaces (`admin@localhost` is fine). */
export function normalizeUserEmail(email: string): string {
  const normalized = email.trim().toLowerCase();
  if (!/^[^\s@]+@[^\s@]+$/.test(normalized) || normalized.length > 254) throw badInput('email', 'must be an email address');
  return normalized;
}

export const hashPassword = (password: string): Promise<string> => hash(password, ARGON2);

/** Named users of the admin app (SPEC §13), their roles and projects; passwords hashed with Argon2id. */
export class UserService {
  // Unknown emails are checked against this hash, so they take as long as a wrong password.
  private decoy: Promise<string> | undefined;

  constructor(
    private readonly db: Db,
    private readonly clock: () => number,
  ) {}

  async list(): Promise<User[]> {
    return listUsers(this.db);
  }

  async get(userId: number): Promise<User> {
    const row = await userRowById(this.db, userId);
    if (!row) throw notFound('User', userId);
    return toUser(row, await this.projectIdsOf(userId));
  }

  async projectIdsOf(userId: number): Promise<number[]> {
    return userProjectIds(this.db, userId);
  }

  async create(input: UserInput): Promise<User> {
    const email = normalizeUserEmail(input.email);
    await this.assertProjectsExist(input.projectIds);
    const passwordHash = input.password === undefined ? null : await hashPassword(input.password);
    const now = this.clock();
    const id = await this.db.transaction().execute(async (trx) => {
      await assertEmailFree(trx, email);
      const userId = await insertUser(trx, { email, name: input.name ?? null, passwordHash, role: input.role, language: input.language ?? null }, now);
      await setUserProjects(trx, userId, input.projectIds);
      return userId;
    });
    return this.get(id);
  }

  async update(userId: number, patch: UserPatch): Promise<User> {
    const email = patch.email === undefined ? undefined : normalizeUserEmail(patch.email);
    if (patch.projectIds) await this.assertProjectsExist(patch.projectIds);
    const passwordHash = patch.password === undefined ? undefined : await hashPassword(patch.password);
    await this.db.transaction().execute(async (trx) => {
      const row = await userRowById(trx, userId);
      if (!row) throw notFound('User', userId);
      if (email !== undefined && email !== row.email) await assertEmailFree(trx, email);
      if (row.role === 'owner' && patch.role !== undefined && patch.role !== 'owner') await assertAnotherOwner(trx, userId);
      await updateUser(
        trx,
        userId,
        {
          ...(email !== undefined ? { email } : {}),
          ...(patch.name !== undefined ? { name: patch.name } : {}),
          ...(passwordHash !== undefined ? { passwordHash } : {}),
          ...(patch.role !== undefined ? { role: patch.role } : {}),
          ...(patch.language !== undefined ? { language: patch.language } : {}),
        },
        this.clock(),
      );
      if (patch.projectIds) await setUserProjects(trx, userId, patch.projectIds);
    });
    return this.get(userId);
  }

  /** Removes the user, their project memberships and every session they had. The last owner cannot be removed. */
  async remove(userId: number): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const row = await userRowById(trx, userId);
      if (!row) throw notFound('User', userId);
      if (row.role === 'owner') await assertAnotherOwner(trx, userId);
      await deleteUser(trx, userId);
    });
  }

  /** The user whose email and password these are, or null; unknown emails cost as much time as wrong passwords. */
  async verifyCredentials(email: string, password: string): Promise<User | null> {
    const normalized = email.trim().toLowerCase();
    const row = await userRowByEmail(this.db, normalized);
    this.decoy ??= hashPassword(randomBytes(16).toString('hex'));
    const stored = row?.password_hash ?? (await this.decoy);
    const ok = await verify(stored, password).catch(() => false);
    if (!row?.password_hash || !ok) return null;
    return toUser(row, await this.projectIdsOf(row.id));
  }

  async checkPassword(userId: number, password: string): Promise<boolean> {
    const row = await userRowById(this.db, userId);
    if (!row?.password_hash) return false;
    return verify(row.password_hash, password).catch(() => false);
  }

  /**
   * The owner of SPEC §13 at start. With an email and password (from
   * TRACKGUARD_ADMIN_EMAIL / TRACKGUARD_ADMIN_PASSWORD) that user exists, is an
   * owner and signs in with that password. Without them, the first start (no
   * user at all) creates `admin@localhost` with a generated password, returned
   * so the caller prints it once.
   */
  async ensureOwner(configured: { email?: string; password?: string }): Promise<{ email: string; password: string } | undefined> {
    if (configured.email && configured.password) {
      const email = normalizeUserEmail(configured.email);
      const existing = await userRowByEmail(this.db, email);
      if (!existing) {
        await this.createIgnoringRace({ email, password: configured.password });
        return undefined;
      }
      const same = existing.password_hash ? await verify(existing.password_hash, configured.password).catch(() => false) : false;
      if (existing.role !== 'owner' || !same) {
        await this.update(existing.id, { role: 'owner', ...(same ? {} : { password: configured.password }) });
      }
      return undefined;
    }
    if (await hasAnyUser(this.db)) return undefined;
    const password = randomBytes(12).toString('base64url');
    const created = await this.createIgnoringRace({ email: 'admin@localhost', password });
    return created ? { email: 'admin@localhost', password } : undefined;
  }

  // Two processes starting at once may both try: the second finds the user taken and leaves it.
  private async createIgnoringRace(input: { email: string; password: string }): Promise<boolean> {
    try {
      await this.create({ ...input, role: 'owner', projectIds: [] });
      return true;
    } catch (error) {
      if (error instanceof AppError && error.code === 'UserExists') return false;
      if ((await userIdByEmail(this.db, input.email)) !== undefined) return false;
      throw error;
    }
  }

  private async assertProjectsExist(projectIds: number[]): Promise<void> {
    if (projectIds.length === 0) return;
    const found = await existingProjectIds(this.db, projectIds);
    const index = projectIds.findIndex((id) => !found.has(id));
    if (index >= 0) throw badInput(`projects.${index}`, `project ${projectIds[index]} does not exist`);
  }
}

async function assertAnotherOwner(db: Db, userId: number): Promise<void> {
  if (!(await hasAnotherOwner(db, userId))) throw new AppError('LastOwner', 'The last owner cannot be removed or given another role: make another user owner first');
}


async function assertEmailFree(db: Db, email: string): Promise<void> {
  const taken = await userIdByEmail(db, email);
  if (taken !== undefined) throw new AppError('UserExists', `A user with this email already exists (user ${taken})`, [{ field: 'email', reason: 'already taken' }]);
}
