import type { Expression, SqlBool } from 'kysely';
import type { Contact } from '../domain/contact.js';
import { type Criteria, invalidCriteria, parseCriteria, referencedObjects, referencedScoreModels, type SqlDialect } from '../domain/criteria.js';
import { compileCriteria } from '../domain/criteria-sql.js';
import { AppError, badInput, notFound } from '../domain/errors.js';
import { missingIds } from '../store/references.js';
import type { Db } from '../store/database.js';
import {
  type Group,
  type GroupType,
  clearGroupMembers,
  countMatchingContacts,
  deleteGroup,
  getGroup,
  insertGroup,
  listGroups,
  matchingContactIds,
  matchingContacts,
  snapshotGroupMembers,
  storedMembership,
  updateGroup,
} from '../store/groups.js';
import { pageOf } from '../store/paging.js';
import type { ProjectService } from './projects.service.js';
import type { ScoringService } from './scoring.service.js';

export type { Group, GroupType } from '../store/groups.js';

export interface GroupInput {
  name: string;
  type?: GroupType;
  criteria: unknown;
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

  /** The tree's score models, once every score model, sending and message it names is known to be this project's. */
  private async scoreModelsOf(projectId: number, tree: Criteria) {
    const ids = referencedScoreModels(tree);
    const models = await this.scoring.rulesFor(projectId, ids);
    const problems = ids.filter((id) => !models.has(id)).map((id) => ({ field: 'criteria', reason: `unknown score model ${id} (in score.${id})` }));
    const named = referencedObjects(tree);
    // Forms are not checked: a form event is always its own project's, and a form may be deleted while groups still name it.
    const kinds = [
      ['sendings', 'sending', 'sendingId'],
      ['messages', 'message', 'messageId'],
    ] as const;
    for (const [table, noun, key] of kinds) {
      for (const id of await missingIds(this.db, table, projectId, named[table])) problems.push({ field: 'criteria', reason: `unknown ${noun} ${id} (in ${key}): not in project ${projectId}` });
    }
    if (problems.length > 0) throw invalidCriteria(problems);
    return models;
  }

  async create(projectId: number, input: GroupInput): Promise<Group> {
    const tree = parseCriteria(input.criteria);
    await this.scoreModelsOf(projectId, tree);
    const now = this.clock();
    const type = input.type ?? 'dynamic';
    const id = await insertGroup(this.db, projectId, { name: input.name, type, criteria: tree }, now);
    if (type === 'static') await this.snapshot(projectId, id, tree);
    return this.get(projectId, id);
  }

  async list(projectId: number): Promise<Group[]> {
    return listGroups(this.db, projectId);
  }

  async get(projectId: number, groupId: number): Promise<Group> {
    const group = await getGroup(this.db, projectId, groupId);
    if (!group) throw notFound('Group', groupId);
    return group;
  }

  /** Changing a static group's criteria or type to static takes a new snapshot. */
  async update(projectId: number, groupId: number, patch: Partial<GroupInput>): Promise<Group> {
    const group = await this.get(projectId, groupId);
    const changes: { name?: string; type?: GroupType; criteria?: Criteria } = {};
    let tree = group.criteria;
    if (patch.criteria !== undefined) {
      tree = parseCriteria(patch.criteria);
      await this.scoreModelsOf(projectId, tree);
      changes.criteria = tree;
    }
    if (patch.name !== undefined) changes.name = patch.name;
    if (patch.type !== undefined) changes.type = patch.type;
    await updateGroup(this.db, projectId, groupId, changes, this.clock());
    const type = patch.type ?? group.type;
    if (type === 'static' && (patch.criteria !== undefined || group.type !== 'static')) await this.snapshot(projectId, groupId, tree);
    if (type === 'dynamic' && group.type === 'static') await this.clearMembers(projectId, groupId);
    return this.get(projectId, groupId);
  }

  async delete(projectId: number, groupId: number): Promise<void> {
    await this.get(projectId, groupId);
    await this.db.transaction().execute((trx) => deleteGroup(trx, projectId, groupId));
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
    await this.db.transaction().execute((trx) => snapshotGroupMembers(trx, projectId, groupId, predicate, now));
  }

  private async clearMembers(projectId: number, groupId: number): Promise<void> {
    await clearGroupMembers(this.db, projectId, groupId);
  }

  /** A group's membership as a predicate over `contacts as c` (evaluated now for a dynamic group). */
  async membership(projectId: number, groupId: number, now = this.clock()): Promise<Expression<SqlBool>> {
    const group = await this.get(projectId, groupId);
    if (group.type === 'dynamic') return this.predicate(projectId, group.criteria, now);
    return storedMembership(projectId, groupId);
  }

  /**
   * The ids of a group's contacts as a Kysely select over `contacts as c`
   * (one column, `id`), for targeting a sending or a campaign at `{groupId}`.
   * Add your own cursor and order: `q.where('c.id', '>', cursor).orderBy('c.id').limit(500)`.
   * Throws GroupNotFound (404) for a group outside the project.
   */
  async contactIdsQuery(projectId: number, groupId: number, now = this.clock()) {
    const membership = await this.membership(projectId, groupId, now);
    return matchingContactIds(this.db, projectId, membership);
  }

  /** How many contacts a group holds: one SQL COUNT. */
  async count(projectId: number, groupId: number): Promise<number> {
    return countMatchingContacts(this.db, projectId, await this.membership(projectId, groupId));
  }

  /**
   * How many contacts an unsaved criteria tree matches now (the builder's live
   * count): the same compiled predicate a saved group uses, so the same rule 7.
   */
  async countCriteria(projectId: number, criteria: unknown): Promise<number> {
    return countMatchingContacts(this.db, projectId, await this.predicate(projectId, criteria));
  }

  /** One page of a group's contacts in id order. */
  async contacts(projectId: number, groupId: number, page: { cursor?: number; limit: number }): Promise<{ items: Contact[]; nextCursor: string | null }> {
    if (page.limit < 1 || page.limit > 1000) throw new AppError('InvalidInput', 'limit: must be 1 to 1000');
    const membership = await this.membership(projectId, groupId);
    return pageOf(await matchingContacts(this.db, projectId, membership, page), page.limit, (c) => c.id);
  }
}
