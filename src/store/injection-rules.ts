import type { InjectionRule } from '../domain/injection.js';
import type { Db } from './database.js';

/* The injection rules repository: each rule is stored as its JSON spec. */

type RuleSpec = Omit<InjectionRule, 'id'>;

const toRule = (row: { id: number; spec: string }): InjectionRule => ({ ...(JSON.parse(row.spec) as RuleSpec), id: row.id });

export async function insertInjectionRule(db: Db, projectId: number, rule: RuleSpec, now: number): Promise<number> {
  const row = await db
    .insertInto('injection_rules')
    .values({ project_id: projectId, name: rule.name, spec: JSON.stringify(rule), created_at: now, updated_at: now })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function updateInjectionRule(db: Db, projectId: number, ruleId: number, rule: RuleSpec, now: number): Promise<void> {
  await db
    .updateTable('injection_rules')
    .set({ name: rule.name, spec: JSON.stringify(rule), updated_at: now })
    .where('project_id', '=', projectId)
    .where('id', '=', ruleId)
    .execute();
}

/** Deletes a rule; false when there was none. */
export async function deleteInjectionRule(db: Db, projectId: number, ruleId: number): Promise<boolean> {
  const result = await db.deleteFrom('injection_rules').where('project_id', '=', projectId).where('id', '=', ruleId).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export async function getInjectionRule(db: Db, projectId: number, ruleId: number): Promise<InjectionRule | undefined> {
  const row = await db.selectFrom('injection_rules').select(['id', 'spec']).where('project_id', '=', projectId).where('id', '=', ruleId).executeTakeFirst();
  return row && toRule(row);
}

export async function listInjectionRules(db: Db, projectId: number): Promise<InjectionRule[]> {
  const rows = await db.selectFrom('injection_rules').select(['id', 'spec']).where('project_id', '=', projectId).orderBy('id').execute();
  return rows.map(toRule);
}
