import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Selectable } from 'kysely';
import { AppError, notFound } from '../domain/errors.js';
import { GENESIS_HASH } from '../domain/ledger.js';
import { applySettingsPatch, type ProjectSettings, type ProjectSettingsPatch, readSettings } from '../domain/project-settings.js';
import { appendConsentEntries, createLedgerHead, lockLedger } from '../store/consent-history.js';
import type { Db } from '../store/database.js';
import type { ProjectTable } from '../store/schema.js';

export interface Project {
  id: number;
  name: string;
  settings: ProjectSettings;
  ledgerSalt: string;
  createdAt: number;
  updatedAt: number;
}

export type Principal = { kind: 'admin' } | { kind: 'project'; projectId: number; keyId: number };

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();

function toProject(row: Selectable<ProjectTable>): Project {
  return {
    id: row.id,
    name: row.name,
    settings: readSettings(row.settings),
    ledgerSalt: row.ledger_salt,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Projects, their settings and their API keys (stored as SHA-256 hashes; the keys are 256-bit random). */
export class ProjectService {
  private readonly cache = new Map<number, { project: Project; at: number }>();
  private readonly principals = new Map<string, Principal>();
  private adminKeyHash: Buffer | undefined;

  constructor(
    private readonly db: Db,
    private readonly clock: () => number,
    /** Read-only connection for the hot path's cached reads (see Store.reader). */
    private readonly reader: Db = db,
  ) {}

  /**
   * Uses the configured admin key, or generates one at first start. Returns the
   * key only when it was just generated, so the caller can print it once.
   */
  async ensureAdminKey(configured: string | undefined): Promise<string | undefined> {
    if (configured) {
      this.adminKeyHash = sha256(configured);
      return undefined;
    }
    const stored = await this.db.selectFrom('meta').select('value').where('key', '=', 'admin_key_hash').executeTakeFirst();
    if (stored) {
      this.adminKeyHash = Buffer.from(stored.value, 'hex');
      return undefined;
    }
    const key = `tga_${randomBytes(24).toString('base64url')}`;
    const inserted = await this.db
      .insertInto('meta')
      .values({ key: 'admin_key_hash', value: sha256(key).toString('hex') })
      .onConflict((oc) => oc.column('key').doNothing())
      .returning('key')
      .executeTakeFirst();
    // Another process generated one first: use theirs (it printed it).
    if (!inserted) return this.ensureAdminKey(undefined);
    this.adminKeyHash = sha256(key);
    return key;
  }

  async authenticate(bearer: string): Promise<Principal | null> {
    const cached = this.principals.get(bearer);
    if (cached) return cached;
    const hash = sha256(bearer);
    let principal: Principal | null = null;
    if (this.adminKeyHash && timingSafeEqual(hash, this.adminKeyHash)) {
      principal = { kind: 'admin' };
    } else {
      const match = /^tgk_(\d+)_[A-Za-z0-9_-]+$/.exec(bearer);
      if (match) {
        const row = await this.db.selectFrom('api_keys').select(['id', 'project_id', 'key_hash']).where('id', '=', Number(match[1])).executeTakeFirst();
        const stored = row ? Buffer.from(row.key_hash, 'hex') : undefined;
        if (row && stored && stored.length === hash.length && timingSafeEqual(stored, hash)) {
          principal = { kind: 'project', projectId: row.project_id, keyId: row.id };
        }
      }
    }
    if (principal) {
      if (this.principals.size > 10_000) this.principals.clear();
      this.principals.set(bearer, principal);
    }
    return principal;
  }

  async create(name: string): Promise<Project> {
    const now = this.clock();
    const settings = readSettings('{}');
    const id = await this.db.transaction().execute(async (trx) => {
      const row = await trx
        .insertInto('projects')
        .values({ name, settings: JSON.stringify(settings), ledger_salt: randomBytes(16).toString('hex'), created_at: now, updated_at: now })
        .returning('id')
        .executeTakeFirstOrThrow();
      await createLedgerHead(trx, row.id, GENESIS_HASH);
      return row.id;
    });
    return this.get(id);
  }

  async list(): Promise<Project[]> {
    const rows = await this.db.selectFrom('projects').selectAll().orderBy('id').execute();
    return rows.map(toProject);
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
    const row = await db.selectFrom('projects').selectAll().where('id', '=', projectId).executeTakeFirst();
    if (!row) throw notFound('Project', projectId);
    const project = toProject(row);
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
      const row = await trx.selectFrom('projects').selectAll().where('id', '=', projectId).executeTakeFirst();
      if (!row) throw notFound('Project', projectId);
      const before = readSettings(row.settings);
      const after = applySettingsPatch(before, patch.settings ?? {});
      await trx
        .updateTable('projects')
        .set({ name: patch.name ?? row.name, settings: JSON.stringify(after), updated_at: now })
        .where('id', '=', projectId)
        .execute();
      if (!before.tracking.enabled && after.tracking.enabled) {
        await appendConsentEntries(trx, projectId, [
          { contactId: null, subjectHash: null, action: 'module-activation', date: now, recordedAt: now, source: 'module-activation', detail: `mode=${after.tracking.mode};by=${actor}` },
        ]);
      }
    });
    this.cache.delete(projectId);
    return this.get(projectId);
  }

  async issueKey(projectId: number, name: string): Promise<{ id: number; key: string; name: string; createdAt: number }> {
    await this.get(projectId);
    const secret = randomBytes(32).toString('base64url');
    const now = this.clock();
    // The key embeds its row id so authentication reads one row by primary key.
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .insertInto('api_keys')
        .values({ project_id: projectId, name, key_hash: 'pending', created_at: now })
        .returning('id')
        .executeTakeFirstOrThrow();
      const key = `tgk_${row.id}_${secret}`;
      await trx.updateTable('api_keys').set({ key_hash: sha256(key).toString('hex') }).where('project_id', '=', projectId).where('id', '=', row.id).execute();
      return { id: row.id, key, name, createdAt: now };
    });
  }

  /** Throws 404 unless the principal may reach the project (another project's key sees nothing). */
  assertAccess(principal: Principal, projectId: number): void {
    if (principal.kind === 'project' && principal.projectId !== projectId) throw notFound('Project', projectId);
  }

  assertAdmin(principal: Principal): void {
    if (principal.kind !== 'admin') throw new AppError('AdminKeyRequired', 403, 'This operation needs the admin key');
  }
}
