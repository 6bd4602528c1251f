// The reference semantics of criteria: the SQL compiler is property-tested against this
// evaluator, so its reading of rule 7 under negation must itself be pinned down here.
import { describe, expect, it } from 'vitest';
import type { TrackingSettings } from './consent.js';
import { type ContactActivity, evaluateCriteria, scoreOf } from './criteria-evaluator.js';
import { type Criteria, hasBehaviorClause, validateCriteria, validateScoreRules } from './criteria.js';

const NOW = Date.UTC(2026, 0, 15);
const optOut: TrackingSettings = { enabled: true, mode: 'opt-out' };
const none: ContactActivity = { events: [], deliveries: [] };
const opened: ContactActivity = {
  events: [{ type: 'open', sendingId: 1, messageId: 1, linkUrl: null, name: null, url: null, formId: null, at: NOW - 1000, machine: false }],
  deliveries: [],
};
const refused = { email: 'r@x.org', status: 'active', hasTrackingConsent: false, fields: { plan: 'pro' } };
const accepted = { ...refused, hasTrackingConsent: true };
const ev = (tree: Criteria, contact = refused, activity = none, settings = optOut) => evaluateCriteria(tree, contact, activity, { settings, now: NOW });

describe('evaluateCriteria', () => {
  it('a behavioural clause and its negation both exclude an untracked contact', () => {
    expect(ev({ behavior: 'opened' }, refused, opened)).toBe(false);
    expect(ev({ not: { behavior: 'opened' } })).toBe(false);
    expect(ev({ not: { not: { behavior: 'opened' } } }, refused, opened)).toBe(false);
    expect(ev({ not: { behavior: 'opened' } }, accepted)).toBe(true);
  });

  it('negation is pushed to the leaves: field parts of a negated subtree still match untracked contacts', () => {
    expect(ev({ not: { all: [{ field: 'fields.plan', op: 'eq', value: 'free' }, { behavior: 'opened' }] } })).toBe(true);
    expect(ev({ not: { any: [{ field: 'fields.plan', op: 'eq', value: 'free' }, { behavior: 'opened' }] } })).toBe(false);
  });

  it('with the module off every contact is tracked', () => {
    expect(ev({ behavior: 'opened' }, refused, opened, { enabled: false, mode: 'opt-in' })).toBe(true);
  });

  it('a score gives untracked contacts field points only', () => {
    const rules = [
      { criteria: { behavior: 'opened' } as Criteria, points: 5, perOccurrence: true, max: 50 },
      { criteria: { field: 'fields.plan', op: 'eq', value: 'pro' } as Criteria, points: 3 },
    ];
    expect(scoreOf(rules, accepted, opened, { settings: optOut, now: NOW })).toBe(8);
    expect(scoreOf(rules, refused, opened, { settings: optOut, now: NOW })).toBe(3);
  });
});

describe('validateCriteria', () => {
  it('reports each problem with its path', () => {
    expect(validateCriteria({ all: [{ behavior: 'opened' }, { field: 'email', op: 'gt', value: 1 }] }).map((p) => p.field)).toEqual(['criteria.all[1].op']);
    expect(validateCriteria({ not: { behavior: 'opened', minCount: 0 } }).map((p) => p.field)).toEqual(['criteria.not.minCount']);
    expect(validateCriteria({ field: 'fields.x', op: 'in', value: [] }).map((p) => p.field)).toEqual(['criteria.value']);
    expect(validateCriteria({ behavior: 'opened' })).toEqual([]);
  });

  it('score rules cannot refer to scores, and per-occurrence rules need one behavioural clause', () => {
    const problems = validateScoreRules([
      { criteria: { field: 'score.1', op: 'gt', value: 1 }, points: 1 },
      { criteria: { not: { behavior: 'opened' } }, points: 1, perOccurrence: true },
    ]);
    expect(problems.map((p) => p.field)).toEqual(['rules[0].criteria.field', 'rules[1].perOccurrence']);
  });

  it('knows which trees hold behaviour (campaign conditions, rule 9)', () => {
    expect(hasBehaviorClause({ all: [{ field: 'email', op: 'exists' }, { not: { behavior: 'visited' } }] })).toBe(true);
    expect(hasBehaviorClause({ any: [{ field: 'email', op: 'exists' }] })).toBe(false);
  });
});
