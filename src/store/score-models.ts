import type { AliasableExpression, Selectable } from 'kysely';
import type { ScoreRule } from '../domain/criteria.js';
import type { Db } from './database.js';
import type { ScoreModelTable } from './schema.js';

/* The score models repository, and the queries that read contacts' scores (compiled by domain/criteria-sql.ts). */

export interface ScoreModel {
  id: number;
  projectId: number;
  name: string;
  rules: ScoreRule[];
  createdAt: number;
  updatedAt: number;
}

export function toScoreModel(row: Selectable<ScoreModelTable>): ScoreModel {
  return { id: row.id, projectId: row.project_id, name: row.name, rules: JSON.parse(row.rules) as ScoreRule[], createdAt: row.created_at, updatedAt: row.updated_at };
}

export async function insertScoreModel(db: Db, projectId: number, model: { name: string; rules: ScoreRule[] }, now: number): Promise<ScoreModel> {
  const row = await db
    .insertInto('score_models')
    .values({ project_id: projectId, name: model.name, rules: JSON.stringify(model.rules), created_at: now, updated_at: now })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toScoreModel(row);
}

export async function listScoreModels(db: Db, projectId: number): Promise<ScoreModel[]> {
  const rows = await db.selectFrom('score_models').selectAll().where('project_id', '=', projectId).orderBy('id').execute();
  return rows.map(toScoreModel);
}

export async function getScoreModel(db: Db, projectId: number, modelId: number): Promise<ScoreModel | undefined> {
  const row = await db.selectFrom('score_models').selectAll().where('project_id', '=', projectId).where('id', '=', modelId).executeTakeFirst();
  return row && toScoreModel(row);
}

export async function updateScoreModel(db: Db, projectId: number, modelId: number, change: { name?: string; rules?: ScoreRule[] }, now: number): Promise<void> {
  await db
    .updateTable('score_models')
    .set({ ...(change.name === undefined ? {} : { name: change.name }), ...(change.rules === undefined ? {} : { rules: JSON.stringify(change.rules) }), updated_at: now })
    .where('project_id', '=', projectId)
    .where('id', '=', modelId)
    .execute();
}

export async function deleteScoreModel(db: Db, projectId: number, modelId: number): Promise<void> {
  await db.deleteFrom('score_models').where('project_id', '=', projectId).where('id', '=', modelId).execute();
}

/** The rules of the given models (all the project's when `ids` is omitted), keyed by model id as text. */
export async function scoreRulesOf(db: Db, projectId: number, ids?: readonly string[]): Promise<Map<string, ScoreRule[]>> {
  if (ids !== undefined && ids.length === 0) return new Map();
  let query = db.selectFrom('score_models').select(['id', 'rules']).where('project_id', '=', projectId);
  if (ids !== undefined) query = query.where('id', 'in', ids.map(Number));
  const rows = await query.execute();
  return new Map(rows.map((r) => [String(r.id), JSON.parse(r.rules) as ScoreRule[]]));
}

/** How many of the project's contacts have each score (`score` compiled over `contacts as c`), lowest first. */
export async function contactsPerScore(db: Db, projectId: number, score: AliasableExpression<number>): Promise<{ score: number; n: number }[]> {
  const rows = await db
    .selectFrom(db.selectFrom('contacts as c').select(score.as('score')).where('c.project_id', '=', projectId).as('s'))
    .select(['s.score', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy('s.score')
    .orderBy('s.score')
    .execute();
  return rows.map((r) => ({ score: Number(r.score), n: Number(r.n) }));
}

/** One contact's score in each model (expressions over `contacts as c`, by model id); undefined for a contact outside the project. */
export async function contactScores(db: Db, projectId: number, contactId: number, scores: Map<string, AliasableExpression<number>>): Promise<Record<string, number> | undefined> {
  const row = await db
    .selectFrom('contacts as c')
    .select('c.id')
    .select([...scores].map(([id, score]) => score.as(`m${id}`)))
    .where('c.project_id', '=', projectId)
    .where('c.id', '=', contactId)
    .executeTakeFirst();
  if (!row) return undefined;
  const values = row as Record<string, unknown>;
  return Object.fromEntries([...scores.keys()].map((id) => [id, Number(values[`m${id}`])]));
}
