import type { Selectable } from 'kysely';
import { referencedScoreModels, type ScoreRule, type SqlDialect, validateScoreRules } from '../domain/criteria.js';
import { compileScore } from '../domain/criteria-sql.js';
import { AppError, notFound } from '../domain/errors.js';
import type { Db } from '../store/database.js';
import type { ScoreModelTable } from '../store/schema.js';
import type { ProjectService } from './projects.service.js';

export interface ScoreModel {
  id: number;
  projectId: number;
  name: string;
  rules: ScoreRule[];
  createdAt: number;
  updatedAt: number;
}

export interface ScoreDistribution {
  modelId: string;
  contacts: number;
  min: number;
  max: number;
  mean: number;
  /** Contacts whose score is in [from, to). */
  buckets: { from: number; to: number; count: number }[];
}

export interface ScoreModelInput {
  name: string;
  rules: unknown;
}

function toModel(row: Selectable<ScoreModelTable>): ScoreModel {
  return { id: row.id, projectId: row.project_id, name: row.name, rules: JSON.parse(row.rules) as ScoreRule[], createdAt: row.created_at, updatedAt: row.updated_at };
}

function parseRules(rules: unknown): ScoreRule[] {
  const problems = validateScoreRules(rules);
  if (problems.length > 0) {
    throw new AppError('InvalidScoreRules', problems.slice(0, 5).map((p) => `${p.field}: ${p.reason}`).join('; '), problems);
  }
  return rules as ScoreRule[];
}

/**
 * Score models and contacts' scores. Scores are computed in SQL when read,
 * from current events and current consent: an untracked contact has no
 * behavioural points, and loses them the moment they become untracked (rule 8).
 */
export class ScoringService {
  constructor(
    private readonly db: Db,
    private readonly clock: () => number,
    private readonly projects: ProjectService,
    private readonly dialect: SqlDialect,
  ) {}

  async create(projectId: number, input: ScoreModelInput): Promise<ScoreModel> {
    const rules = parseRules(input.rules);
    const now = this.clock();
    const row = await this.db
      .insertInto('score_models')
      .values({ project_id: projectId, name: input.name, rules: JSON.stringify(rules), created_at: now, updated_at: now })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toModel(row);
  }

  async list(projectId: number): Promise<ScoreModel[]> {
    const rows = await this.db.selectFrom('score_models').selectAll().where('project_id', '=', projectId).orderBy('id').execute();
    return rows.map(toModel);
  }

  async get(projectId: number, modelId: number): Promise<ScoreModel> {
    const row = await this.db.selectFrom('score_models').selectAll().where('project_id', '=', projectId).where('id', '=', modelId).executeTakeFirst();
    if (!row) throw notFound('ScoreModel', modelId);
    return toModel(row);
  }

  async update(projectId: number, modelId: number, patch: Partial<ScoreModelInput>): Promise<ScoreModel> {
    await this.get(projectId, modelId);
    const changes: { name?: string; rules?: string; updated_at: number } = { updated_at: this.clock() };
    if (patch.name !== undefined) changes.name = patch.name;
    if (patch.rules !== undefined) changes.rules = JSON.stringify(parseRules(patch.rules));
    await this.db.updateTable('score_models').set(changes).where('project_id', '=', projectId).where('id', '=', modelId).execute();
    return this.get(projectId, modelId);
  }

  /**
   * How the project's contacts spread over a model's scores: one SQL pass
   * groups contacts by score, then the scores are cut into at most `buckets`
   * equal-width ranges [from, to). Untracked contacts score on field rules only.
   */
  async distribution(projectId: number, modelId: number, buckets = 10): Promise<ScoreDistribution> {
    const model = await this.get(projectId, modelId);
    const project = await this.projects.get(projectId);
    const options = { projectId, settings: project.settings.tracking, now: this.clock(), dialect: this.dialect, scoreModels: new Map([[String(modelId), model.rules]]) };
    const score = compileScore(model.rules, options);
    const rows = await this.db
      .selectFrom(this.db.selectFrom('contacts as c').select(score.as('score')).where('c.project_id', '=', projectId).as('s'))
      .select(['s.score', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('s.score')
      .orderBy('s.score')
      .execute();
    const counts = rows.map((r) => ({ score: Number(r.score), n: Number(r.n) }));
    const contacts = counts.reduce((sum, c) => sum + c.n, 0);
    if (counts.length === 0) return { modelId: String(modelId), contacts: 0, min: 0, max: 0, mean: 0, buckets: [] };
    const min = counts[0]!.score;
    const max = counts[counts.length - 1]!.score;
    const width = Math.max(1, Math.ceil((max - min + 1) / buckets));
    const out: ScoreDistribution['buckets'] = [];
    for (let from = min; from <= max; from += width) out.push({ from, to: from + width, count: 0 });
    for (const c of counts) out[Math.floor((c.score - min) / width)]!.count += c.n;
    const mean = counts.reduce((sum, c) => sum + c.score * c.n, 0) / contacts;
    return { modelId: String(modelId), contacts, min, max, mean: Math.round(mean * 100) / 100, buckets: out };
  }

  /** Refuses to delete a model that a group's criteria still use. */
  async delete(projectId: number, modelId: number): Promise<void> {
    await this.get(projectId, modelId);
    const groups = await this.db.selectFrom('groups').select(['id', 'criteria']).where('project_id', '=', projectId).execute();
    const user = groups.find((g) => referencedScoreModels(JSON.parse(g.criteria)).includes(String(modelId)));
    if (user) throw new AppError('ScoreModelInUse', `score model ${modelId} is used by group ${user.id}`);
    await this.db.deleteFrom('score_models').where('project_id', '=', projectId).where('id', '=', modelId).execute();
  }

  /** The rules of the given models (all the project's when `ids` is omitted), keyed by model id as text. */
  async rulesFor(projectId: number, ids?: readonly string[]): Promise<Map<string, ScoreRule[]>> {
    if (ids !== undefined && ids.length === 0) return new Map();
    let query = this.db.selectFrom('score_models').select(['id', 'rules']).where('project_id', '=', projectId);
    if (ids !== undefined) query = query.where('id', 'in', ids.map(Number));
    const rows = await query.execute();
    return new Map(rows.map((r) => [String(r.id), JSON.parse(r.rules) as ScoreRule[]]));
  }

  /**
   * A contact's score in every model of the project, for the contact card: `{ "<modelId>": 15 }`.
   * One SQL query; throws ContactNotFound for a contact outside the project.
   */
  async scoresFor(projectId: number, contactId: number): Promise<Record<string, number>> {
    const project = await this.projects.get(projectId);
    const models = await this.rulesFor(projectId);
    const options = { projectId, settings: project.settings.tracking, now: this.clock(), dialect: this.dialect, scoreModels: models };
    const row = await this.db
      .selectFrom('contacts as c')
      .select('c.id')
      .select([...models].map(([id, rules]) => compileScore(rules, options).as(`m${id}`)))
      .where('c.project_id', '=', projectId)
      .where('c.id', '=', contactId)
      .executeTakeFirst();
    if (!row) throw notFound('Contact', contactId);
    const values = row as Record<string, unknown>;
    return Object.fromEntries([...models.keys()].map((id) => [id, Number(values[`m${id}`])]));
  }
}
