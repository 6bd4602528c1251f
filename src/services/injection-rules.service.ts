import { AppError, notFound } from '../domain/errors.js';
import { type InjectionRule, validateInjectionRule } from '../domain/injection.js';
import type { Db } from '../store/database.js';

export type InjectionRuleInput = Omit<InjectionRule, 'id'>;

/** Injection rules (SPEC §11) and the cached view the click path reads. */
export class InjectionRuleService {
  private readonly cache = new Map<number, { rules: InjectionRule[]; at: number }>();

  constructor(
    private readonly db: Db,
    private readonly clock: () => number,
    /** Read-only connection for the click path (see Store.reader). */
    private readonly reader: Db = db,
  ) {}

  private validate(input: unknown): InjectionRuleInput {
    const problems = validateInjectionRule(input);
    if (problems.length > 0) {
      throw new AppError('InvalidInjectionRule', 400, problems.map((p) => `${p.field}: ${p.reason}`).join('; '), problems);
    }
    const rule = input as InjectionRuleInput;
    return {
      name: rule.name,
      domains: rule.domains,
      ...(rule.channels ? { channels: rule.channels } : {}),
      ...(rule.communicationTypes ? { communicationTypes: rule.communicationTypes } : {}),
      params: rule.params,
      autoApply: rule.autoApply ?? true,
      onlyTrackedContacts: rule.onlyTrackedContacts ?? true,
    };
  }

  async create(projectId: number, input: unknown): Promise<InjectionRule> {
    const rule = this.validate(input);
    const now = this.clock();
    const row = await this.db
      .insertInto('injection_rules')
      .values({ project_id: projectId, name: rule.name, spec: JSON.stringify(rule), created_at: now, updated_at: now })
      .returning('id')
      .executeTakeFirstOrThrow();
    this.cache.delete(projectId);
    return { id: row.id, ...rule };
  }

  async update(projectId: number, ruleId: number, patch: Record<string, unknown>): Promise<InjectionRule> {
    const current = await this.get(projectId, ruleId);
    const { id: _id, ...rest } = current;
    const rule = this.validate({ ...rest, ...patch });
    await this.db
      .updateTable('injection_rules')
      .set({ name: rule.name, spec: JSON.stringify(rule), updated_at: this.clock() })
      .where('project_id', '=', projectId)
      .where('id', '=', ruleId)
      .execute();
    this.cache.delete(projectId);
    return { id: ruleId, ...rule };
  }

  async remove(projectId: number, ruleId: number): Promise<void> {
    const result = await this.db.deleteFrom('injection_rules').where('project_id', '=', projectId).where('id', '=', ruleId).executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) throw notFound('InjectionRule', ruleId);
    this.cache.delete(projectId);
  }

  async get(projectId: number, ruleId: number): Promise<InjectionRule> {
    const row = await this.db.selectFrom('injection_rules').select(['id', 'spec']).where('project_id', '=', projectId).where('id', '=', ruleId).executeTakeFirst();
    if (!row) throw notFound('InjectionRule', ruleId);
    return { ...(JSON.parse(row.spec) as InjectionRuleInput), id: row.id };
  }

  list(projectId: number): Promise<InjectionRule[]> {
    return this.rulesFrom(this.db, projectId);
  }

  private async rulesFrom(db: Db, projectId: number): Promise<InjectionRule[]> {
    const rows = await db.selectFrom('injection_rules').select(['id', 'spec']).where('project_id', '=', projectId).orderBy('id').execute();
    return rows.map((row) => ({ ...(JSON.parse(row.spec) as InjectionRuleInput), id: row.id }));
  }

  /** The project's rules for the click path; a change here is seen at once, another process's within 2 s. */
  async cachedRules(projectId: number): Promise<InjectionRule[]> {
    const hit = this.cache.get(projectId);
    if (hit && this.clock() - hit.at < 2000) return hit.rules;
    const rules = await this.rulesFrom(this.reader, projectId);
    this.cache.set(projectId, { rules, at: this.clock() });
    return rules;
  }

  /** The contact values a rule may inject, read only for an identified click. */
  async contactValues(projectId: number, contactId: number): Promise<{ id: number; email: string | null; fields: Record<string, unknown> } | null> {
    const row = await this.reader.selectFrom('contacts').select(['id', 'email', 'fields']).where('project_id', '=', projectId).where('id', '=', contactId).executeTakeFirst();
    return row ? { id: row.id, email: row.email, fields: JSON.parse(row.fields) as Record<string, unknown> } : null;
  }
}
