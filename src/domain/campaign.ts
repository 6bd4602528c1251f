import { type Criteria, validateCriteria } from './criteria.js';
import { AppError, type FieldProblem } from './errors.js';

/*
 * Campaigns (SPEC §11): an entry, a start node and a graph of nodes.
 * - send: send a message to the contacts reaching it, then `next`;
 * - wait: hold the contacts for an ISO 8601 duration, then `next`;
 * - condition: a criteria tree, `yes` / `no`; when the tree holds a behavioural
 *   clause, untracked contacts leave the campaign here (rule 9);
 * - end: the contact has completed the campaign.
 */

export type CampaignEntry = { groupId: string } | { api: true };

export type CampaignNode =
  | { id: string; type: 'send'; messageId: string; next: string }
  | { id: string; type: 'wait'; duration: string; next: string }
  | { id: string; type: 'condition'; criteria: Criteria; yes: string; no: string }
  | { id: string; type: 'end' };

export interface CampaignSpec {
  entry: CampaignEntry;
  start: string;
  nodes: CampaignNode[];
}

export type CampaignStatus = 'draft' | 'running' | 'paused' | 'finished';
/** Where a contact is in a campaign: moving through it, done, or gone (untracked at a behavioural condition, or erased). */
export type CampaignContactState = 'active' | 'completed' | 'left_untracked' | 'left';

/** A stored campaign: its definition and lifecycle (dates in epoch ms). */
export interface Campaign extends CampaignSpec {
  id: number;
  projectId: number;
  name: string;
  status: CampaignStatus;
  createdAt: number;
  updatedAt: number;
  startedAt: number | null;
}

export const CAMPAIGN_LIMITS = { maxNodes: 200, maxDurationMs: 5 * 366 * 86_400_000 } as const;

const NODE_ID = /^[A-Za-z0-9_-]{1,64}$/;
const ID = /^[0-9]{1,15}$/;
// PnYnMnWnDTnHnMnS without fractions; years and months are taken as 365 and 30 days.
const DURATION = /^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?!$)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;
const UNIT_MS = [365 * 86_400_000, 30 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000] as const;
const NODE_KEYS: Record<CampaignNode['type'], readonly string[]> = {
  send: ['id', 'type', 'messageId', 'next'],
  wait: ['id', 'type', 'duration', 'next'],
  condition: ['id', 'type', 'criteria', 'yes', 'no'],
  end: ['id', 'type'],
};
/** The keys of a node that name another node. */
const LINKS: Record<CampaignNode['type'], readonly ('next' | 'yes' | 'no')[]> = { send: ['next'], wait: ['next'], condition: ['yes', 'no'], end: [] };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isId = (v: unknown): boolean => (typeof v === 'string' && ID.test(v)) || (typeof v === 'number' && Number.isSafeInteger(v) && v >= 1);

/**
 * An ISO 8601 duration in milliseconds, or undefined when it is not one.
 *
 * @example parseDuration('PT1H') // 3_600_000
 * @example parseDuration('P2D') // 172_800_000
 */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text);
  if (!m) return undefined;
  let ms = 0;
  UNIT_MS.forEach((unit, i) => {
    const part = m[i + 1];
    if (part !== undefined) ms += Number(part) * unit;
  });
  return ms;
}

/**
 * Checks an untrusted campaign definition and returns every problem with its
 * path (empty when valid): node shapes, links to existing nodes, durations,
 * criteria, unreachable nodes and loops that never wait.
 *
 * @example validateCampaignSpec({ entry: { api: true }, start: 'a', nodes: [{ id: 'a', type: 'end' }] }) // []
 */
export function validateCampaignSpec(spec: { entry?: unknown; start?: unknown; nodes?: unknown }): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const { entry, start, nodes } = spec;
  if (!isObject(entry)) problems.push({ field: 'entry', reason: 'is required: {groupId} or {api: true}' });
  else if ('groupId' in entry) {
    if (Object.keys(entry).length !== 1) problems.push({ field: 'entry', reason: 'holds either groupId or api, nothing else' });
    if (!isId(entry.groupId)) problems.push({ field: 'entry.groupId', reason: 'must be a group id' });
  } else if ('api' in entry) {
    if (Object.keys(entry).length !== 1) problems.push({ field: 'entry', reason: 'holds either groupId or api, nothing else' });
    if (entry.api !== true) problems.push({ field: 'entry.api', reason: 'must be true' });
  } else problems.push({ field: 'entry', reason: 'must be {groupId} or {api: true}' });

  if (!Array.isArray(nodes) || nodes.length === 0) {
    problems.push({ field: 'nodes', reason: 'must be a non-empty array of nodes' });
    return problems;
  }
  if (nodes.length > CAMPAIGN_LIMITS.maxNodes) {
    problems.push({ field: 'nodes', reason: `a campaign holds at most ${CAMPAIGN_LIMITS.maxNodes} nodes` });
    return problems;
  }
  const byId = new Map<string, Record<string, unknown>>();
  nodes.forEach((node, i) => {
    const at = `nodes[${i}]`;
    if (!isObject(node)) {
      problems.push({ field: at, reason: 'must be an object {id, type, …}' });
      return;
    }
    const { id, type } = node;
    if (typeof id !== 'string' || !NODE_ID.test(id)) problems.push({ field: `${at}.id`, reason: 'must be 1 to 64 letters, digits, _ or -' });
    else if (byId.has(id)) problems.push({ field: `${at}.id`, reason: `duplicate node id ${id}` });
    if (typeof type !== 'string' || !(type in NODE_KEYS)) {
      problems.push({ field: `${at}.type`, reason: 'must be send, wait, condition or end' });
      return;
    }
    const kind = type as CampaignNode['type'];
    if (typeof id === 'string' && NODE_ID.test(id) && !byId.has(id)) byId.set(id, node);
    for (const key of Object.keys(node)) {
      if (!NODE_KEYS[kind].includes(key)) problems.push({ field: `${at}.${key}`, reason: `unknown property for a ${kind} node` });
    }
    for (const link of LINKS[kind]) {
      if (typeof node[link] !== 'string') problems.push({ field: `${at}.${link}`, reason: 'is required: the id of another node' });
    }
    if (kind === 'send' && !isId(node.messageId)) problems.push({ field: `${at}.messageId`, reason: 'must be a message id' });
    if (kind === 'wait') {
      const ms = typeof node.duration === 'string' ? parseDuration(node.duration) : undefined;
      if (ms === undefined) problems.push({ field: `${at}.duration`, reason: 'must be an ISO 8601 duration such as PT1H, P2D or P1DT12H' });
      else if (ms <= 0 || ms > CAMPAIGN_LIMITS.maxDurationMs) problems.push({ field: `${at}.duration`, reason: 'must be longer than zero and at most 5 years' });
    }
    if (kind === 'condition') {
      if (!('criteria' in node)) problems.push({ field: `${at}.criteria`, reason: 'is required' });
      else problems.push(...validateCriteria(node.criteria, `${at}.criteria`));
    }
  });

  // Links must name existing nodes; only then can the graph be walked.
  nodes.forEach((node, i) => {
    if (!isObject(node) || typeof node.type !== 'string' || !(node.type in LINKS)) return;
    for (const link of LINKS[node.type as CampaignNode['type']]) {
      const target = node[link];
      if (typeof target === 'string' && !byId.has(target)) problems.push({ field: `nodes[${i}].${link}`, reason: `no node ${target}` });
    }
  });
  if (typeof start !== 'string') problems.push({ field: 'start', reason: 'is required: the id of the first node' });
  else if (!byId.has(start)) problems.push({ field: 'start', reason: `no node ${start}` });
  if (problems.length > 0) return problems;

  const successors = (id: string): string[] => {
    const node = byId.get(id) as Record<string, unknown>;
    return LINKS[node.type as CampaignNode['type']].map((l) => node[l] as string);
  };
  const reachable = new Set<string>([start as string]);
  const queue = [start as string];
  while (queue.length > 0) {
    for (const next of successors(queue.shift() as string)) {
      if (!reachable.has(next)) {
        reachable.add(next);
        queue.push(next);
      }
    }
  }
  nodes.forEach((node, i) => {
    const id = (node as { id: string }).id;
    if (!reachable.has(id)) problems.push({ field: `nodes[${i}]`, reason: `node ${id} cannot be reached from start` });
  });
  // A loop must pass through a wait, or a contact would run round it forever in one step.
  const state = new Map<string, 'open' | 'done'>();
  const visit = (id: string): string | undefined => {
    state.set(id, 'open');
    for (const next of successors(id)) {
      if ((byId.get(next) as { type: string }).type === 'wait') continue;
      if (state.get(next) === 'open') return next;
      if (!state.has(next)) {
        const found = visit(next);
        if (found) return found;
      }
    }
    state.set(id, 'done');
    return undefined;
  };
  for (const id of byId.keys()) {
    if ((byId.get(id) as { type: string }).type === 'wait' || state.has(id)) continue;
    const looped = visit(id);
    if (looped) {
      problems.push({ field: 'nodes', reason: `the loop through node ${looped} has no wait node` });
      break;
    }
  }
  return problems;
}

/**
 * Validates and returns the spec typed, or throws a 400 `InvalidCampaign` listing every problem.
 *
 * @example parseCampaignSpec({ entry: { api: true }, start: 'a', nodes: [{ id: 'a', type: 'end' }] })
 */
export function parseCampaignSpec(spec: { entry?: unknown; start?: unknown; nodes?: unknown }): CampaignSpec {
  const problems = validateCampaignSpec(spec);
  if (problems.length > 0) {
    const detail = problems
      .slice(0, 5)
      .map((p) => `${p.field}: ${p.reason}`)
      .join('; ');
    throw new AppError('InvalidCampaign', detail, problems);
  }
  const entry = spec.entry as { groupId?: string | number; api?: true };
  const nodes = (spec.nodes as Record<string, unknown>[]).map((n) => (n.type === 'send' ? { ...n, messageId: String(n.messageId) } : n)) as CampaignNode[];
  return {
    entry: entry.groupId !== undefined ? { groupId: String(entry.groupId) } : { api: true },
    start: spec.start as string,
    nodes,
  };
}
