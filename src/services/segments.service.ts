import { type Expression, type Selectable, type SqlBool, sql } from 'kysely';
import type { Contact } from '../domain/contact.js';
import { type Criteria, invalidCriteria, parseCriteria, referencedScoreModels, type SqlDialect } from '../domain/criteria.js';
import { compileCriteria } from '../domain/criteria-sql.js';
import { AppError, badInput, notFound } from '../domain/errors.js';
import { toContact } from '../store/contacts.js';
import type { Db } from '../store/database.js';
import type { GroupTable } from '../store/schema.js';
import type { ProjectService } from './projects.service.js';
import type { ScoringService } from './scoring.service.js';

export type GroupType = 'dynamic' | 'static';

export interface Group {
  id: number;
  projectId: number;
  name: string;
  type: GroupType;
  criteria: Criteria;
  /** When a static group's members were last snapshotted. */
  refreshedAt: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface GroupInput {
  name: string;
  type?: GroupType;
  criteria: unknown;
}

function toGroup(row: Selectable<GroupTable>): Group {
  return {
    id: row.id,
    projectId: row.project_id,
    name: row.name,
    type: row.type as GroupType,
    criteria: JSON.parse(row.criteria) as Criteria,
    refreshedAt: row.refreshed_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** The contact ids of a group, as a Kysely query over `contacts as c` (see {@link SegmentService.contactIdsQuery}). */
export type GroupContactIdsQuery = Awaited<ReturnType<SegmentService['contactIdsQuery']>>;

/**
 * Groups (segments). Dynamic groups are evaluated in SQL each time they are
 * used; static groups hold a snapshot of their members taken at creation or
 * on refresh. Counting and listing never load non-members into JavaScript.
 */
export class SegmentService {
  constructor(
    private readonly db: Db,
    private readonly clock: () => number,
    private readonly projects: ProjectService,
    private readonly scoring: ScoringService,
    private readonly dialect: SqlDialect,
  ) {}

  /**
   * A criteria tree compiled to a predicate over `contacts as c` for one project, with the
   * project's current tracking settings (campaign conditions use this too). Throws 400 on an
   * invalid tree or an unknown score model.
   */
  async predicate(projectId: number, criteria: unknown, now = this.clock()): Promise<Expression<SqlBool>> {
    const tree = parseCriteria(criteria);
    const project = await this.projects.get(projectId);
    const scoreModels = await this.scoreModelsOf(projectId, tree);
    return compileCriteria(tree, { projectId, settings: project.settings.tracking, now, dialect: this.dialect, scoreModels });
  }

  private async scoreModelsOf(projectId: number, tree: Criteria) {
    const ids = referencedScoreModels(tree);
    const models = await this.scoring.rulesFor(projectId, ids);
    const missing = ids.filter((id) => !models.has(id));
    if (missing.length > 0) throw invalidCriteria(missing.map((id) => ({ field: 'criteria', reason: `unknown score model ${id} (in score.${id})` })));
    return models;
  }

  async create(projectId: number, input: GroupInput): Promise<Group> {
    const tree = parseCriteria(input.criteria);
    await this.scoreModelsOf(projectId, tree);
    const now = this.clock();
    const type = input.type ?? 'dynamic';
    const row = await this.db
      .insertInto('groups')
      .values({ project_id: projectId, name: input.name, type, criteria: JSON.stringify(tree), refreshed_at: null, created_at: now, updated_at: now })
      .returning('id')
      .executeTakeFirstOrThrow();
    if (type === 'static') await this.snapshot(projectId, row.id, tree);
    return this.get(projectId, row.id);
  }

  async list(projectId: number): Promise<Group[]> {
    const rows = await this.db.selectFrom('groups').selectAll().where('project_id', '=', projectId).orderBy('id').execute();
    return rows.map(toGroup);
  }

  async get(projectId: number, groupId: number): Promise<Group> {
    const row = await this.db.selectFrom('groups').selectAll().where('project_id', '=', projectId).where('id', '=', groupId).executeTakeFirst();
    if (!row) throw notFound('Group', groupId);
    return toGroup(row);
  }

  /** Changing a static group's criteria or type to static takes a new snapshot. */
  async update(projectId: number, groupId: number, patch: Partial<GroupInput>): Promise<Group> {
    const group = await this.get(projectId, groupId);
    const changes: { name?: string; type?: GroupType; criteria?: string; updated_at: number } = { updated_at: this.clock() };
    let tree = group.criteria;
    if (patch.criteria !== undefined) {
      tree = parseCriteria(patch.criteria);
      await this.scoreModelsOf(projectId, tree);
      changes.criteria = JSON.stringify(tree);
    }
    if (patch.name !== undefined) changes.name = patch.name;
    if (patch.type !== undefined) changes.type = patch.type;
    await this.db.updateTable('groups').set(changes).where('project_id', '=', projectId).where('id', '=', groupId).execute();
    const type = patch.type ?? group.type;
    if (type === 'static' && (patch.criteria !== undefined || group.type !== 'static')) await this.snapshot(projectId, groupId, tree);
    if (type === 'dynamic' && group.type === 'static') await this.clearMembers(projectId, groupId);
    return this.get(projectId, groupId);
  }

  async delete(projectId: number, groupId: number): Promise<void> {
    await this.get(projectId, groupId);
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('group_members').where('project_id', '=', projectId).where('group_id', '=', groupId).execute();
      await trx.deleteFrom('groups').where('project_id', '=', projectId).where('id', '=', groupId).execute();
    });
  }

  /** Takes a new snapshot of a static group's members. */
  async refresh(projectId: number, groupId: number): Promise<Group> {
    const group = await this.get(projectId, groupId);
    if (group.type !== 'static') throw badInput('type', 'only static groups are snapshotted; dynamic groups are evaluated when used', 'GroupNotStatic');
    await this.snapshot(projectId, groupId, group.criteria);
    return this.get(projectId, groupId);
  }

  private async snapshot(projectId: number, groupId: number, tree: Criteria): Promise<void> {
    const now = this.clock();
    const predicate = await this.predicate(projectId, tree, now);
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('group_members').where('project_id', '=', projectId).where('group_id', '=', groupId).execute();
      await trx
        .insertInto('group_members')
        .columns(['project_id', 'group_id', 'contact_id'])
        .expression(
          trx
            .selectFrom('contacts as c')
            .select([sql.lit(projectId).as('project_id'), sql.lit(groupId).as('group_id'), 'c.id'])
            .where('c.project_id', '=', projectId)
            .where(predicate),
        )
        .execute();
      await trx.updateTable('groups').set({ refreshed_at: now }).where('project_id', '=', projectId).where('id', '=', groupId).execute();
    });
  }

  private async clearMembers(projectId: number, groupId: number): Promise<void> {
    await this.db.deleteFrom('group_members').where('project_id', '=', projectId).where('group_id', '=', groupId).execute();
  }

  /** A group's membership as a predicate over `contacts as c` (evaluated now for a dynamic group). */
  async membership(projectId: number, groupId: number, now = this.clock()): Promise<Expression<SqlBool>> {
    const group = await this.get(projectId, groupId);
    if (group.type === 'dynamic') return this.predicate(projectId, group.criteria, now);
    return sql<SqlBool>`c.id IN (SELECT gm.contact_id FROM group_members gm WHERE gm.project_id = ${projectId} AND gm.group_id = ${groupId})`;
  }

  /**
   * The ids of a group's contacts as a Kysely select over `contacts as c`
   * (one column, `id`), for targeting a sending or a campaign at `{groupId}`.
   * Add your own cursor and order: `q.where('c.id', '>', cursor).orderBy('c.id').limit(500)`.
   * Throws GroupNotFound (404) for a group outside the project.
   */
  async contactIdsQuery(projectId: number, groupId: number, now = this.clock()) {
    const membership = await this.membership(projectId, groupId, now);
    return this.db.selectFrom('contacts as c').select('c.id').where('c.project_id', '=', projectId).where(membership);
  }

  /** How many contacts a group holds: one SQL COUNT. */
  async count(projectId: number, groupId: number): Promise<number> {
    const membership = await this.membership(projectId, groupId);
    const row = await this.db
      .selectFrom('contacts as c')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('c.project_id', '=', projectId)
      .where(membership)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /**
   * How many contacts an unsaved criteria tree matches now (the builder's live
   * count): the same compiled predicate a saved group uses, so the same rule 7.
   */
  async countCriteria(projectId: number, criteria: unknown): Promise<number> {
    const predicate = await this.predicate(projectId, criteria);
    const row = await this.db
      .selectFrom('contacts as c')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('c.project_id', '=', projectId)
      .where(predicate)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** One page of a group's contacts in id order. */
  async contacts(projectId: number, groupId: number, page: { cursor?: number; limit: number }): Promise<{ items: Contact[]; nextCursor: string | null }> {
    if (page.limit < 1 || page.limit > 1000) throw new AppError('InvalidInput', 'limit: must be 1 to 1000');
    const membership = await this.membership(projectId, groupId);
    let query = this.db.selectFrom('contacts as c').selectAll('c').where('c.project_id', '=', projectId).where(membership);
    if (page.cursor !== undefined) query = query.where('c.id', '>', page.cursor);
    const rows = await query.orderBy('c.id').limit(page.limit + 1).execute();
    const items = rows.slice(0, page.limit).map(toContact);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > page.limit && last ? String(last.id) : null };
  }
}
