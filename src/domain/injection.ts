import type { FieldProblem } from './errors.js';

/** SPEC §11 injection rule: parameters appended to clicked URLs of matching destinations. */
export interface InjectionRule {
  id: number;
  name: string;
  domains: string[];
  channels?: string[];
  communicationTypes?: string[];
  params: { name: string; value: string }[];
  autoApply: boolean;
  onlyTrackedContacts: boolean;
}

export interface InjectionContext {
  channel: string;
  communicationType: string;
  message: { id: number; name: string };
  sending: { id: number };
  /** null = anonymous click. */
  contact: { id: number; email: string | null; fields: Record<string, unknown> } | null;
  /** The contact's tracking status at the moment of the click. */
  tracked: boolean;
  /** The click's own tracking token, for `{{trackingToken}}` (the web snippet reads it on the landing page). */
  trackingToken?: string;
}

const CHANNELS = ['email', 'sms', 'push'];
const HOSTNAME = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;
const TAG = /\{\{\s*([^{}]*?)\s*\}\}/g;

type Resolver = (ctx: InjectionContext) => string | null;

const MESSAGE_TAGS: Record<string, Resolver> = {
  'message.name': (c) => c.message.name,
  'sending.id': (c) => String(c.sending.id),
};

function contactValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/**
 * A tag's value, or null when it is contact-level and no contact may be
 * used: an anonymous click (no contact, or a contact untracked right now).
 */
function resolver(tag: string): Resolver | null {
  const message = MESSAGE_TAGS[tag];
  if (message) return message;
  const contact = (read: (c: NonNullable<InjectionContext['contact']>) => unknown): Resolver => (ctx) =>
    ctx.contact && ctx.tracked ? contactValue(read(ctx.contact)) : null;
  if (tag === 'contact.id') return contact((c) => c.id);
  // Contact-level: a token names its contact, so it goes only with a tracked click.
  if (tag === 'trackingToken') return (ctx) => (ctx.contact && ctx.tracked && ctx.trackingToken ? ctx.trackingToken : null);
  if (tag === 'contact.email') return contact((c) => c.email);
  if (tag.startsWith('contact.fields.') && tag.length > 'contact.fields.'.length) {
    const key = tag.slice('contact.fields.'.length);
    return contact((c) => c.fields[key]);
  }
  return null;
}

function templateProblems(field: string, template: string): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const stripped = template.replace(TAG, (whole, tag: string) => {
    if (!resolver(tag)) problems.push({ field, reason: `unknown tag ${whole}; use a literal, {{message.name}}, {{sending.id}}, {{contact.id}}, {{contact.email}}, {{contact.fields.X}} or {{trackingToken}}` });
    return '';
  });
  if (stripped.includes('{{') || stripped.includes('}}')) problems.push({ field, reason: 'unbalanced {{ }}' });
  return problems;
}

const isStringArray = (value: unknown): value is string[] => Array.isArray(value) && value.every((v) => typeof v === 'string');

/**
 * Checks an injection rule's body beyond its JSON shape: domains are bare
 * hostnames, channels are known, parameter names are unique, and value
 * templates use only the allowed tags. Returns every problem found.
 *
 * @example validateInjectionRule({ name: 'utm', domains: ['https://x.com'], params: [] }) // [{ field: 'domains[0]', … }]
 */
export function validateInjectionRule(input: unknown): FieldProblem[] {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return [{ field: '', reason: 'must be an object' }];
  const rule = input as Record<string, unknown>;
  const problems: FieldProblem[] = [];
  if (typeof rule.name !== 'string' || rule.name.trim() === '') problems.push({ field: 'name', reason: 'must be a non-empty string' });
  if (!isStringArray(rule.domains) || rule.domains.length === 0) {
    problems.push({ field: 'domains', reason: 'must be a non-empty list of hostnames' });
  } else {
    rule.domains.forEach((domain, i) => {
      if (!HOSTNAME.test(domain)) problems.push({ field: `domains[${i}]`, reason: `"${domain}" is not a hostname (write example.com, without scheme or path)` });
    });
  }
  if (rule.channels !== undefined) {
    if (!isStringArray(rule.channels)) problems.push({ field: 'channels', reason: 'must be a list of channels' });
    else rule.channels.forEach((channel, i) => {
      if (!CHANNELS.includes(channel)) problems.push({ field: `channels[${i}]`, reason: `must be one of ${CHANNELS.join(', ')}` });
    });
  }
  if (rule.communicationTypes !== undefined && !isStringArray(rule.communicationTypes)) {
    problems.push({ field: 'communicationTypes', reason: 'must be a list of strings' });
  }
  for (const flag of ['autoApply', 'onlyTrackedContacts']) {
    if (rule[flag] !== undefined && typeof rule[flag] !== 'boolean') problems.push({ field: flag, reason: 'must be a boolean' });
  }
  if (!Array.isArray(rule.params) || rule.params.length === 0) {
    problems.push({ field: 'params', reason: 'must be a non-empty list of { name, value }' });
    return problems;
  }
  const seen = new Set<string>();
  rule.params.forEach((param: unknown, i) => {
    const p = (typeof param === 'object' && param !== null ? param : {}) as Record<string, unknown>;
    if (typeof p.name !== 'string' || p.name.trim() === '') problems.push({ field: `params[${i}].name`, reason: 'must be a non-empty string' });
    else if (seen.has(p.name)) problems.push({ field: `params[${i}].name`, reason: `duplicate parameter ${p.name}` });
    else seen.add(p.name);
    if (typeof p.value !== 'string') problems.push({ field: `params[${i}].value`, reason: 'must be a string' });
    else problems.push(...templateProblems(`params[${i}].value`, p.value));
  });
  return problems;
}

/** Fills a value template; null when it needs a contact the click may not be linked to. */
function fill(template: string, ctx: InjectionContext): string | null {
  let withheld = false;
  const value = template.replace(TAG, (whole, tag: string) => {
    const resolve = resolver(tag);
    if (!resolve) return whole;
    const v = resolve(ctx);
    if (v === null) withheld = true;
    return v ?? '';
  });
  return withheld ? null : value;
}

function ruleApplies(rule: InjectionRule, host: string, ctx: InjectionContext): boolean {
  if (!rule.autoApply) return false;
  if (rule.onlyTrackedContacts && !(ctx.tracked && ctx.contact)) return false;
  if (rule.channels && rule.channels.length > 0 && !rule.channels.includes(ctx.channel)) return false;
  if (rule.communicationTypes && rule.communicationTypes.length > 0 && !rule.communicationTypes.includes(ctx.communicationType)) return false;
  return rule.domains.some((d) => {
    const domain = d.toLowerCase().replace(/\.$/, '');
    return host === domain || host.endsWith(`.${domain}`);
  });
}

function decodeName(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw;
  }
}

/**
 * Adds the parameters of every matching rule to a click's destination.
 * The existing query (byte for byte) and fragment are kept; an injected
 * parameter replaces a same-named one. Contact-level values are filled only
 * for a tracked contact: for an anonymous click such a parameter is left out,
 * whatever the rule's options.
 *
 * @example applyInjection('https://shop.example.com/a?x=1#top', rules, ctx) // 'https://shop.example.com/a?x=1&utm_source=newsletter#top'
 */
export function applyInjection(url: string, rules: readonly InjectionRule[], ctx: InjectionContext): string {
  if (rules.length === 0) return url;
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase().replace(/\.$/, '');
  } catch {
    return url;
  }
  const injected = new Map<string, string>();
  for (const rule of rules) {
    if (!ruleApplies(rule, host, ctx)) continue;
    for (const param of rule.params) {
      const value = fill(param.value, ctx);
      if (value !== null) injected.set(param.name, value);
    }
  }
  if (injected.size === 0) return url;

  const hashAt = url.indexOf('#');
  const beforeHash = hashAt === -1 ? url : url.slice(0, hashAt);
  const fragment = hashAt === -1 ? '' : url.slice(hashAt);
  const queryAt = beforeHash.indexOf('?');
  const base = queryAt === -1 ? beforeHash : beforeHash.slice(0, queryAt);
  const query = queryAt === -1 ? '' : beforeHash.slice(queryAt + 1);
  const kept = query.split('&').filter((pair) => pair !== '' && !injected.has(decodeName(pair.split('=')[0]!)));
  const added = [...injected].map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`);
  return `${base}?${[...kept, ...added].join('&')}${fragment}`;
}
