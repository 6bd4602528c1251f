import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { notFound } from '../domain/errors.js';
import { GENESIS_HASH } from '../domain/ledger.js';
import { readScopes, type Role, type Scope } from '../domain/permissions.js';
import { applySettingsPatch, type ProjectSettingsPatch, readSettings } from '../domain/project-settings.js';
import { appendConsentEntries, createLedgerHead, lockLedger } from '../store/consent-history.js';
import { type ApiKey, activeKey, insertKey, listKeys, revokeKey, touchKey } from '../store/api-keys.js';
import type { Db } from '../store/database.js';
import type { Change } from './change-notifier.js';
import { getMeta, insertMetaIfAbsent } from '../store/meta.js';
import { type Project, getProject, insertProject, listProjects, updateProject } from '../store/projects.js';

export type { Project } from '../store/projects.js';

/**
 * Who a request acts as: the admin key, a project key (with its scopes) or a
 * signed-in user (with their role and, unless owner, the projects they reach).
 */
export type Principal =
  | { kind: 'admin' }
  | { kind: 'project'; projectId: number; keyId: number; scopes: Scope[] }
  | { kind: 'user'; userId: number; email: string; role: Role; projectIds: number[] };

export type { ApiKey } from '../store/api-keys.js';

// A key's last use is written at most once a minute: authentication stays one read.
const LAST_USED_EVERY_MS = 60_000;
const ADMIN_KEY_HASH = 'admin_key_hash';

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();

/** Whether the principal may reach the project at all: a project key its own, a user the projects they were given, owners and the admin key every one. */
export function canReach(principal: Principal, projectId: number): boolean {
  if (principal.kind === 'project') return principal.projectId === projectId;
  if (principal.kind === 'user') return principal.role === 'owner' || principal.projectIds.includes(projectId);
  return true;
}

/** Projects, their settings and their API keys (stored as SHA-256 hashes; the keys are 256-bit random). */
export class ProjectService {
  private readonly cache = new Map<number, { project: Project; at: number }>();
  private adminKeyHashes: Buffer[] = [];

  constructor(
    private readonly db: Db,
    private readonly clock: () => number,
    /** Read-only connection for the hot path's cached reads (see Store.reader). */
    private readonly reader: Db = db,
  ) {}

  /** Tells other processes about a committed change (set by the context when a change channel exists). */
  notify: (change: Change) => void = () => undefined;

  /** Drops a project's cached settings (changed on another process); `null`: every project. */
  forget(projectId: number | null): void {
    if (projectId === null) this.cache.clear();
    else this.cache.delete(projectId);
  }

  /**
   * Uses the configured admin keys (comma-separated: every one is accepted, so
   * a new key can be rolled out before the old one is removed), or generates
   * one at first start. Returns the key only when it was just generated, so
   * the caller can print it once.
   */
  async ensureAdminKey(configured: string | undefined): Promise<string | undefined> {
    const listed = (configured ?? '').split(',').map((k) => k.trim()).filter(Boolean);
    if (listed.length > 0) {
      this.adminKeyHashes = listed.map(sha256);
      return undefined;
    }
    const stored = await getMeta(this.db, ADMIN_KEY_HASH);
    if (stored) {
      this.adminKeyHashes = [Buffer.from(stored, 'hex')];
      return undefined;
    }
    const key = `tga_${randomBytes(24).toString('base64url')}`;
    const inserted = await insertMetaIfAbsent(this.db, ADMIN_KEY_HASH, sha256(key).toString('hex'));
    // Another process generated one first: use theirs (it printed it).
    if (!inserted) return this.ensureAdminKey(undefined);
    this.adminKeyHashes = [sha256(key)];
    return key;
  }

  /**
   * The principal of a bearer key, or null. Project keys are read from the
   * database on every request (one primary-key read), so a revoked key stops
   * working at once in every process.
   */
  async authenticate(bearer: string): Promise<Principal | null> {
    const hash = sha256(bearer);
    // Every admin key is compared, so the time taken does not say which one matched.
    let admin = false;
    for (const stored of this.adminKeyHashes) admin = timingSafeEqual(hash, stored) || admin;
    if (admin) return { kind: 'admin' };
    const match = /^tgk_(\d+)_[A-Za-z0-9_-]+$/.exec(bearer);
    if (!match) return null;
    const row = await activeKey(this.db, Number(match[1]));
    const stored = row ? Buffer.from(row.key_hash, 'hex') : undefined;
    if (!row || !stored || stored.length !== hash.length || !timingSafeEqual(stored, hash)) return null;
    const now = this.clock();
    if (row.last_used_at === null || now - row.last_used_at >= LAST_USED_EVERY_MS) {
      await touchKey(this.db, row.project_id, row.id, now);
    }
    return { kind: 'project', projectId: row.project_id, keyId: row.id, scopes: readScopes(row.scopes) };
  }

  async create(name: string): Promise<Project> {
    const now = this.clock();
    const settings = readSettings('{}');
    const id = await this.db.transaction().execute(async (trx) => {
      const projectId = await insertProject(trx, { name, settings, ledgerSalt: randomBytes(16).toString('hex') }, now);
      await createLedgerHead(trx, projectId, GENESIS_HASH);
      return projectId;
    });
    return this.get(id);
  }

  async list(): Promise<Project[]> {
    return listProjects(this.db);
  }

  get(projectId: number): Promise<Project> {
    return this.load(this.db, projectId);
  }

  /** The project, from a short-lived cache: the hot paths read settings on every hit. */
  async getCached(projectId: number): Promise<Project> {
    const hit = this.cache.get(projectId);
    if (hit && this.clock() - hit.at < 2000) return hit.project;
    return this.load(this.reader, projectId);
  }

  private async load(db: Db, projectId: number): Promise<Project> {
    const project = await getProject(db, projectId);
    if (!project) throw notFound('Project', projectId);
    this.cache.set(projectId, { project, at: this.clock() });
    return project;
  }

  /**
   * Changes name and settings. Turning the tracking module on writes one
   * `module-activation` entry to the project's consent history; turning it
   * off keeps every consent value so reactivation restores them.
   */
  async update(projectId: number, patch: { name?: string; settings?: ProjectSettingsPatch }, actor: string): Promise<Project> {
    const now = this.clock();
    await this.db.transaction().execute(async (trx) => {
      await lockLedger(trx, projectId);
      const current = await getProject(trx, projectId);
      if (!current) throw notFound('Project', projectId);
      const before = current.settings;
      const after = applySettingsPatch(before, patch.settings ?? {});
      await updateProject(trx, projectId, { name: patch.name ?? current.name, settings: after }, now);
      if (!before.tracking.enabled && after.tracking.enabled) {
        await appendConsentEntries(trx, projectId, [
          { contactId: null, subjectHash: null, action: 'module-activation', date: now, recordedAt: now, source: 'module-activation', detail: `mode=${after.tracking.mode};by=${actor}` },
        ]);
      }
    });
    this.cache.delete(projectId);
    this.notify({ kind: 'project', projectId });
    return this.get(projectId);
  }

  async issueKey(projectId: number, name: string, scopes: Scope[]): Promise<ApiKey & { key: string }> {
    await this.get(projectId);
    const secret = randomBytes(32).toString('base64url');
    const now = this.clock();
    const stored = [...new Set(scopes)].join(',');
    // The key embeds its row id so authentication reads one row by primary key.
    return this.db.transaction().execute(async (trx) => {
      const { id, key } = await insertKey(
        trx,
        projectId,
        { name, scopes: stored, secretOf: (keyId) => `tgk_${keyId}_${secret}`, hashOf: (text) => sha256(text).toString('hex') },
        now,
      );
      return { id, projectId, key, name, scopes: readScopes(stored), createdAt: now, lastUsedAt: null };
    });
  }

  /** The project's keys that are not revoked, oldest first (never their secret). */
  async listKeys(projectId: number): Promise<ApiKey[]> {
    await this.get(projectId);
    return listKeys(this.db, projectId);
  }

  /** Revokes a key: the next request made with it is refused (401). */
  async revokeKey(projectId: number, keyId: number): Promise<void> {
    if (!(await revokeKey(this.db, projectId, keyId, this.clock()))) throw notFound('Key', keyId);
  }

  /** Throws 404 unless the principal may reach the project (another project's key sees nothing). */
  assertAccess(principal: Principal, projectId: number): void {
    if (!canReach(principal, projectId)) throw notFound('Project', projectId);
  }
}
