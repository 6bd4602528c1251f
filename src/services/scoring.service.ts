import { referencedScoreModels, type ScoreRule, type SqlDialect, validateScoreRules } from '../domain/criteria.js';
import { compileScore } from '../domain/criteria-sql.js';
import { AppError, notFound } from '../domain/errors.js';
import type { Db } from '../store/database.js';
import { listGroups } from '../store/groups.js';
import {
  type ScoreModel,
  contactScores,
  contactsPerScore,
  deleteScoreModel,
  getScoreModel,
  insertScoreModel,
  listScoreModels,
  scoreRulesOf,
  updateScoreModel,
} from '../store/score-models.js';
import type { ProjectService } from './projects.service.js';

export type { ScoreModel } from '../store/score-models.js';

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
    return insertScoreModel(this.db, projectId, { name: input.name, rules }, now);
  }

  async list(projectId: number): Promise<ScoreModel[]> {
    return listScoreModels(this.db, projectId);
  }

  async get(projectId: number, modelId: number): Promise<ScoreModel> {
    const model = await getScoreModel(this.db, projectId, modelId);
    if (!model) throw notFound('ScoreModel', modelId);
    return model;
  }

  async update(projectId: number, modelId: number, patch: Partial<ScoreModelInput>): Promise<ScoreModel> {
    await this.get(projectId, modelId);
    const changes: { name?: string; rules?: ScoreRule[] } = {};
    if (patch.name !== undefined) changes.name = patch.name;
    if (patch.rules !== undefined) changes.rules = parseRules(patch.rules);
    await updateScoreModel(this.db, projectId, modelId, changes, this.clock());
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
    const counts = await contactsPerScore(this.db, projectId, score);
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
    const groups = await listGroups(this.db, projectId);
    const user = groups.find((g) => referencedScoreModels(g.criteria).includes(String(modelId)));
    if (user) throw new AppError('ScoreModelInUse', `score model ${modelId} is used by group ${user.id}`);
    await deleteScoreModel(this.db, projectId, modelId);
  }

  /** The rules of the given models (all the project's when `ids` is omitted), keyed by model id as text. */
  async rulesFor(projectId: number, ids?: readonly string[]): Promise<Map<string, ScoreRule[]>> {
    return scoreRulesOf(this.db, projectId, ids);
  }

  /**
   * A contact's score in every model of the project, for the contact card: `{ "<modelId>": 15 }`.
   * One SQL query; throws ContactNotFound for a contact outside the project.
   */
  async scoresFor(projectId: number, contactId: number): Promise<Record<string, number>> {
    const project = await this.projects.get(projectId);
    const models = await this.rulesFor(projectId);
    const options = { projectId, settings: project.settings.tracking, now: this.clock(), dialect: this.dialect, scoreModels: models };
    const scores = await contactScores(this.db, projectId, contactId, new Map([...models].map(([id, rules]) => [id, compileScore(rules, options)])));
    if (!scores) throw notFound('Contact', contactId);
    return scores;
  }
}
