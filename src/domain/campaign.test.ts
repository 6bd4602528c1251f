// A campaign graph is checked before it can run: a dangling edge, a loop without a wait or an
// unreachable node would stall or spin a running campaign; behaviour anywhere in a condition keeps untracked contacts out.
import { describe, expect, it } from 'vitest';
import { parseDuration, validateCampaignSpec } from './campaign.js';
import { hasBehaviorClause } from './criteria.js';

const base = {
  entry: { api: true },
  start: 's',
  nodes: [
    { id: 's', type: 'send', messageId: '1', next: 'w' },
    { id: 'w', type: 'wait', duration: 'P2D', next: 'c' },
    { id: 'c', type: 'condition', criteria: { behavior: 'opened' }, yes: 'e', no: 'e' },
    { id: 'e', type: 'end' },
  ],
};

describe('campaign spec', () => {
  it('parses ISO 8601 durations to milliseconds', () => {
    expect(parseDuration('PT1H')).toBe(3_600_000);
    expect(parseDuration('P2D')).toBe(172_800_000);
    expect(parseDuration('P1DT12H30M5S')).toBe(86_400_000 + 12 * 3_600_000 + 30 * 60_000 + 5000);
    expect(parseDuration('P1W')).toBe(7 * 86_400_000);
    for (const bad of ['P', 'PT', '1H', 'PT1.5H', 'P1H', 'pt1h', '']) expect(parseDuration(bad)).toBeUndefined();
  });

  it('accepts a valid send, wait, condition, end graph', () => {
    expect(validateCampaignSpec(base)).toEqual([]);
    expect(validateCampaignSpec({ ...base, entry: { groupId: '4' } })).toEqual([]);
  });

  it('reports dangling links, a missing start, bad durations and invalid criteria by field', () => {
    const problems = validateCampaignSpec({
      entry: { api: false },
      start: 'x',
      nodes: [
        { id: 's', type: 'send', messageId: 'abc', next: 'nowhere' },
        { id: 'w', type: 'wait', duration: '1 hour', next: 's' },
        { id: 'c', type: 'condition', criteria: { field: 'email', op: 'gt', value: 1 }, yes: 's', no: 's' },
      ],
    });
    const fields = problems.map((p) => p.field);
    expect(fields).toEqual(
      expect.arrayContaining(['entry.api', 'nodes[0].messageId', 'nodes[0].next', 'nodes[1].duration', 'nodes[2].criteria.op', 'start']),
    );
  });

  it('rejects unreachable nodes, duplicate ids, unknown properties and loops without a wait', () => {
    const unreachable = validateCampaignSpec({ ...base, nodes: [...base.nodes, { id: 'lost', type: 'end' }] });
    expect(unreachable).toEqual([{ field: 'nodes[4]', reason: 'node lost cannot be reached from start' }]);
    const dup = validateCampaignSpec({ ...base, nodes: [...base.nodes, { id: 'e', type: 'end', extra: 1 }] });
    expect(dup.map((p) => p.field)).toEqual(['nodes[4].id', 'nodes[4].extra']);
    const loop = validateCampaignSpec({
      entry: { api: true },
      start: 'c',
      nodes: [
        { id: 'c', type: 'condition', criteria: { field: 'status', op: 'eq', value: 'active' }, yes: 's', no: 'e' },
        { id: 's', type: 'send', messageId: '1', next: 'c' },
        { id: 'e', type: 'end' },
      ],
    });
    expect(loop).toEqual([{ field: 'nodes', reason: expect.stringContaining('has no wait node') }]);
    const waitingLoop = validateCampaignSpec({
      entry: { api: true },
      start: 'c',
      nodes: [
        { id: 'c', type: 'condition', criteria: { field: 'status', op: 'eq', value: 'active' }, yes: 'w', no: 'e' },
        { id: 'w', type: 'wait', duration: 'PT1H', next: 'c' },
        { id: 'e', type: 'end' },
      ],
    });
    expect(waitingLoop).toEqual([]);
  });

  it('a condition holds behaviour when any clause, even negated or nested, is behavioural', () => {
    expect(hasBehaviorClause({ not: { behavior: 'opened' } })).toBe(true);
    expect(hasBehaviorClause({ any: [{ field: 'email', op: 'exists' }, { all: [{ behavior: 'clicked' }] }] })).toBe(true);
    expect(hasBehaviorClause({ all: [{ field: 'email', op: 'exists' }, { not: { field: 'status', op: 'eq', value: 'active' } }] })).toBe(false);
  });
});
