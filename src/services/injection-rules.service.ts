import { AppError, badInput, notFound } from '../domain/errors.js';
import { applyInjection, type InjectionContext, type InjectionRule, validateInjectionRule } from '../domain/injection.js';
import { injectableContactValues } from '../store/contacts.js';
import type { Db } from '../store/database.js';
import type { Change } from './change-notifier.js';
import { deleteInjectionRule, getInjectionRule, insertInjectionRule, listInjectionRules, updateInjectionRule } from '../store/injection-rules.js';

export type InjectionRuleInput = Omit<InjectionRule, 'id'>;

export interface InjectionExampleInput {
  /** A saved rule, or a draft body (as POST would take it); exactly one. */
  ruleId?: number | undefined;
  rule?: unknown;
  url: string;
  channel?: string | undefined;
  communicationType?: string | undefined;
  /** Whose values fill the tracked click; a sample contact when absent. */
  contactId?: number | undefined;
}

export interface InjectionExample {
  url: string;
  /** Whether the rule's domains, channels and communication types match this click at all. */
  matches: boolean;
  /** The destination a tracked contact's click is redirected to. */
  tracked: string;
  /** The destination an anonymous click is redirected to: contact-level values are never filled. */
  anonymous: string;
  /** Parameters of the rule that an anonymous click does not get. */
  withheldFromAnonymous: string[];
  contact: { id: number; email: string | null } | null;
}

/** Sample values for the example of a tracked click when no contact is chosen. */
const SAMPLE_CONTACT = { id: 42, email: 'name@example.com', fields: { firstName: 'Ana' } };
/** What `{{trackingToken}}` shows in an example: a real one exists only for a real click. */
const EXAMPLE_TRACKING_TOKEN = 'TRACKING-TOKEN';


/** Injection rules (SPEC §11) and the cached view the click path reads. */
export class InjectionRuleService {
  private readonly cache = new Map<number, { rules: InjectionRule[]; at: number }>();

  constructor(
    private readonly db: Db,
    private readonly clock: () => number,
    /** Read-only connection for the click path (see Store.reader). */
    private readonly reader: Db = db,
  ) {}

  /** Tells other processes about a committed change (set by the context when a change channel exists). */
  notify: (change: Change) => void = () => undefined;

  /** Drops a project's cached rules (changed on another process); `null`: every project. */
  forget(projectId: number | null): void {
    if (projectId === null) this.cache.clear();
    else this.cache.delete(projectId);
  }

  private changed(projectId: number): void {
    this.cache.delete(projectId);
    this.notify({ kind: 'injection-rules', projectId });
  }

  private validate(input: unknown): InjectionRuleInput {
    const problems = validateInjectionRule(input);
    if (problems.length > 0) {
      throw new AppError('InvalidInjectionRule', problems.map((p) => `${p.field}: ${p.reason}`).join('; '), problems);
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

  /**
   * What a rule (saved or draft) does to one destination: the URL a tracked
   * click and an anonymous click are redirected to, computed by the very
   * function the click path uses. A rule chosen on a message applies even
   * without auto-apply, so the example applies it either way.
   */
  async example(projectId: number, input: InjectionExampleInput): Promise<InjectionExample> {
    if ((input.ruleId === undefined) === (input.rule === undefined)) throw badInput('rule', 'give either ruleId or a draft rule');
    const rule: InjectionRule = input.ruleId !== undefined ? await this.get(projectId, input.ruleId) : { id: 0, ...this.validate(input.rule) };
    if (!/^https?:\/\/[^\s]+$/i.test(input.url) || !URL.canParse(input.url)) {
      throw badInput('url', 'must be an absolute http(s) URL, like https://shop.example.com/sale');
    }
    let contact: InjectionContext['contact'] = SAMPLE_CONTACT;
    if (input.contactId !== undefined) {
      contact = await this.contactValues(projectId, input.contactId);
      if (!contact) throw notFound('Contact', input.contactId);
    }
    const base = {
      channel: input.channel ?? rule.channels?.[0] ?? 'email',
      communicationType: input.communicationType ?? rule.communicationTypes?.[0] ?? 'newsletter',
      message: { id: 0, name: 'Example message' },
      sending: { id: 0 },
      trackingToken: EXAMPLE_TRACKING_TOKEN,
    };
    const applied = [{ ...rule, autoApply: true }];
    const tracked = applyInjection(input.url, applied, { ...base, contact, tracked: true });
    const anonymous = applyInjection(input.url, applied, { ...base, contact: null, tracked: false });
    const anonymousCtx = { ...base, contact: null, tracked: false };
    // One parameter at a time, as an anonymous click would get it: unchanged means withheld.
    const alone = (params: InjectionRule['params'], onlyTrackedContacts: boolean) =>
      applyInjection(input.url, [{ ...rule, autoApply: true, onlyTrackedContacts, params }], anonymousCtx) !== input.url;
    const matches = alone([{ name: '_probe', value: '1' }], false);
    return {
      url: input.url,
      matches,
      tracked,
      anonymous,
      withheldFromAnonymous: matches ? rule.params.filter((p) => !alone([p], rule.onlyTrackedContacts)).map((p) => p.name) : [],
      contact: input.contactId !== undefined && contact ? { id: contact.id, email: contact.email } : null,
    };
  }

  async create(projectId: number, input: unknown): Promise<InjectionRule> {
    const rule = this.validate(input);
    const now = this.clock();
    const id = await insertInjectionRule(this.db, projectId, rule, now);
    this.changed(projectId);
    return { id, ...rule };
  }

  async update(projectId: number, ruleId: number, patch: Record<string, unknown>): Promise<InjectionRule> {
    const current = await this.get(projectId, ruleId);
    const { id: _id, ...rest } = current;
    const rule = this.validate({ ...rest, ...patch });
    await updateInjectionRule(this.db, projectId, ruleId, rule, this.clock());
    this.changed(projectId);
    return { id: ruleId, ...rule };
  }

  async remove(projectId: number, ruleId: number): Promise<void> {
    if (!(await deleteInjectionRule(this.db, projectId, ruleId))) throw notFound('InjectionRule', ruleId);
    this.changed(projectId);
  }

  async get(projectId: number, ruleId: number): Promise<InjectionRule> {
    const rule = await getInjectionRule(this.db, projectId, ruleId);
    if (!rule) throw notFound('InjectionRule', ruleId);
    return rule;
  }

  list(projectId: number): Promise<InjectionRule[]> {
    return listInjectionRules(this.db, projectId);
  }

  /** The project's rules for the click path; a change here is seen at once, another process's within 2 s. */
  async cachedRules(projectId: number): Promise<InjectionRule[]> {
    const hit = this.cache.get(projectId);
    if (hit && this.clock() - hit.at < 2000) return hit.rules;
    const rules = await listInjectionRules(this.reader, projectId);
    this.cache.set(projectId, { rules, at: this.clock() });
    return rules;
  }

  /** The contact values a rule may inject, read only for an identified click. */
  async contactValues(projectId: number, contactId: number): Promise<{ id: number; email: string | null; fields: Record<string, unknown> } | null> {
    return (await injectableContactValues(this.reader, projectId, contactId)) ?? null;
  }
}
