import { type CNode, fromCriteria, newBehavior, newGroup, toCriteria } from '../groups/criteria-model';

/*
 * A campaign's workflow as the editor draws it: a tree of steps from the start node (a send or wait
 * leads to one next step, a condition to a yes and a no branch). A node reached a second time is drawn
 * as a "go to" that keeps the link. Node ids are kept, so the per-node counts stay attached.
 */

export type Unit = 'M' | 'H' | 'D' | 'W';
export type Step =
  | { id: string; type: 'send'; messageId: string; next: Step }
  | { id: string; type: 'wait'; amount: string; unit: Unit; next: Step }
  | { id: string; type: 'condition'; criteria: CNode; yes: Step; no: Step }
  | { id: string; type: 'end' }
  | { id: string; type: 'goto'; target: string };
export type StepType = 'send' | 'wait' | 'condition' | 'end';

interface RawNode {
  id: string;
  type: string;
  messageId?: string;
  duration?: string;
  next?: string;
  yes?: string;
  no?: string;
  criteria?: unknown;
}

let counter = 0;
const fresh = () => `step${Date.now().toString(36)}${++counter}`;

export const endStep = (): Step => ({ id: fresh(), type: 'end' });

/** A new step of a type, keeping what followed the old one where it can. */
export function changeType(step: Step, type: StepType): Step {
  const after = step.type === 'send' || step.type === 'wait' ? step.next : step.type === 'condition' ? step.yes : endStep();
  if (type === 'end') return { id: step.id, type: 'end' };
  if (type === 'send') return { id: step.id, type: 'send', messageId: '', next: after };
  if (type === 'wait') return { id: step.id, type: 'wait', amount: '1', unit: 'D', next: after };
  return { id: step.id, type: 'condition', criteria: newGroup('all', [newBehavior('opened')]), yes: after, no: endStep() };
}

/** What removing a step leaves: its next step, or a condition's yes branch. */
export function withoutStep(step: Step): Step {
  if (step.type === 'send' || step.type === 'wait') return step.next;
  if (step.type === 'condition') return step.yes;
  return step;
}

const DURATION = /^P(?:(\d+)W|(\d+)D|T(\d+)H|T(\d+)M)$/;

export function parseDuration(iso: string): { amount: string; unit: Unit } {
  const m = DURATION.exec(iso);
  if (!m) return { amount: iso, unit: 'D' };
  if (m[1]) return { amount: m[1], unit: 'W' };
  if (m[2]) return { amount: m[2], unit: 'D' };
  if (m[3]) return { amount: m[3], unit: 'H' };
  return { amount: m[4] ?? '1', unit: 'M' };
}

export function duration(amount: string, unit: Unit): string {
  const n = amount.trim();
  if (!/^\d+$/.test(n)) return n;
  return unit === 'W' ? `P${n}W` : unit === 'D' ? `P${n}D` : unit === 'H' ? `PT${n}H` : `PT${n}M`;
}

/** The stored graph as a tree from `start`. */
export function fromNodes(start: string, nodes: unknown[]): Step {
  const byId = new Map<string, RawNode>();
  for (const n of nodes) if (n && typeof n === 'object' && typeof (n as RawNode).id === 'string') byId.set((n as RawNode).id, n as RawNode);
  const drawn = new Set<string>();
  const walk = (id: string | undefined): Step => {
    if (id === undefined || !byId.has(id)) return endStep();
    if (drawn.has(id)) return { id: fresh(), type: 'goto', target: id };
    drawn.add(id);
    const n = byId.get(id)!;
    if (n.type === 'send') return { id, type: 'send', messageId: n.messageId ?? '', next: walk(n.next) };
    if (n.type === 'wait') return { id, type: 'wait', ...parseDuration(n.duration ?? 'P1D'), next: walk(n.next) };
    if (n.type === 'condition') return { id, type: 'condition', criteria: fromCriteria(n.criteria), yes: walk(n.yes), no: walk(n.no) };
    return { id, type: 'end' };
  };
  return walk(start);
}

/** The graph the API takes, and the path (`nodes[i]`) of each step for the problems it reports. */
export function toNodes(root: Step): { start: string; nodes: unknown[]; paths: Map<string, string> } {
  const nodes: unknown[] = [];
  const paths = new Map<string, string>();
  const add = (step: Step): string => {
    if (step.type === 'goto') return step.target;
    const index = nodes.length;
    paths.set(step.id, `nodes[${index}]`);
    nodes.push(null);
    let node: unknown;
    if (step.type === 'send') node = { id: step.id, type: 'send', messageId: step.messageId, next: add(step.next) };
    else if (step.type === 'wait') node = { id: step.id, type: 'wait', duration: duration(step.amount, step.unit), next: add(step.next) };
    else if (step.type === 'condition') {
      const criteria = toCriteria(step.criteria);
      const yes = add(step.yes);
      node = { id: step.id, type: 'condition', criteria, yes, no: add(step.no) };
    } else node = { id: step.id, type: 'end' };
    nodes[index] = node;
    return step.id;
  };
  const start = add(root);
  return { start, nodes, paths };
}

/** Replaces the step with `id` in the tree. */
export function replaceStep(root: Step, id: string, next: Step): Step {
  if (root.id === id) return next;
  if (root.type === 'send' || root.type === 'wait') return { ...root, next: replaceStep(root.next, id, next) };
  if (root.type === 'condition') return { ...root, yes: replaceStep(root.yes, id, next), no: replaceStep(root.no, id, next) };
  return root;
}

/** A sensible first workflow: send, wait two days, then a behavioural condition. */
export function starterFlow(): Step {
  return {
    id: fresh(),
    type: 'send',
    messageId: '',
    next: {
      id: fresh(),
      type: 'wait',
      amount: '2',
      unit: 'D',
      next: { id: fresh(), type: 'condition', criteria: newGroup('all', [newBehavior('opened')]), yes: endStep(), no: endStep() },
    },
  };
}
