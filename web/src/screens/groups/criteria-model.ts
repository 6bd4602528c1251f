/*
 * The criteria tree of SPEC §11 as the builder edits it: every node may be negated (`{not: …}`),
 * groups combine with all / any, clauses are field or behavioural. `toCriteria` gives exactly the
 * JSON the API takes; `fromCriteria` reads it back (nested `not`s fold into one flag).
 */

export type Combine = 'all' | 'any';
export type Behavior = 'received' | 'opened' | 'clicked' | 'visited' | 'submitted';
export type FieldOp = 'eq' | 'neq' | 'contains' | 'startsWith' | 'endsWith' | 'in' | 'gt' | 'lt' | 'exists' | 'before' | 'after' | 'withinDays';
export type FieldKind = 'email' | 'status' | 'trackingStatus' | 'custom' | 'score';
export type ValueType = 'text' | 'number' | 'boolean';

export const BEHAVIORS: readonly Behavior[] = ['received', 'opened', 'clicked', 'visited', 'submitted'];
/** The operators each kind of field takes (src/domain/criteria.ts). */
export const FIELD_OPS: Record<FieldKind, readonly FieldOp[]> = {
  email: ['eq', 'neq', 'contains', 'startsWith', 'endsWith', 'in', 'exists'],
  status: ['eq', 'neq', 'in'],
  trackingStatus: ['eq', 'neq', 'in'],
  custom: ['eq', 'neq', 'contains', 'startsWith', 'endsWith', 'in', 'gt', 'lt', 'exists', 'before', 'after', 'withinDays'],
  score: ['eq', 'neq', 'in', 'gt', 'lt'],
};
export const ENUMS = { status: ['active', 'inactive', 'quarantine'], trackingStatus: ['accepted', 'refused', 'unanswered'] } as const;
/** The optional parts each behaviour accepts. */
export const BEHAVIOR_PARTS: Record<Behavior, readonly ('sendingId' | 'messageId' | 'linkUrl' | 'eventName' | 'formId' | 'withinDays' | 'minCount' | 'humanOnly')[]> = {
  received: ['messageId', 'sendingId', 'withinDays', 'minCount'],
  opened: ['messageId', 'sendingId', 'withinDays', 'minCount', 'humanOnly'],
  clicked: ['messageId', 'sendingId', 'linkUrl', 'withinDays', 'minCount', 'humanOnly'],
  visited: ['eventName', 'linkUrl', 'withinDays', 'minCount', 'humanOnly'],
  submitted: ['formId', 'withinDays', 'minCount', 'humanOnly'],
};

interface Base {
  id: string;
  negated: boolean;
}
export interface GroupNode extends Base {
  kind: 'group';
  combine: Combine;
  children: CNode[];
}
export interface FieldNode extends Base {
  kind: 'field';
  field: string;
  op: FieldOp;
  /** As typed; `in` takes values separated by commas. */
  value: string;
  valueType: ValueType;
}
export interface BehaviorNode extends Base {
  kind: 'behavior';
  behavior: Behavior;
  sendingId: string;
  messageId: string;
  linkUrl: string;
  eventName: string;
  formId: string;
  withinDays: string;
  minCount: string;
  humanOnly: boolean;
}
export type CNode = GroupNode | FieldNode | BehaviorNode;

let counter = 0;
const nextId = () => `n${++counter}`;

export const newGroup = (combine: Combine = 'all', children: CNode[] = []): GroupNode => ({ id: nextId(), negated: false, kind: 'group', combine, children });
export const newField = (): FieldNode => ({ id: nextId(), negated: false, kind: 'field', field: 'email', op: 'endsWith', value: '', valueType: 'text' });
export const newBehavior = (behavior: Behavior = 'opened'): BehaviorNode => ({
  id: nextId(),
  negated: false,
  kind: 'behavior',
  behavior,
  sendingId: '',
  messageId: '',
  linkUrl: '',
  eventName: '',
  formId: '',
  withinDays: '',
  minCount: '',
  humanOnly: false,
});

export function fieldKind(field: string): FieldKind {
  if (field === 'email' || field === 'status' || field === 'trackingStatus') return field;
  return field.startsWith('score.') ? 'score' : 'custom';
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown) => (v === undefined || v === null ? '' : String(v));

/** Reads a stored tree; a part it cannot read becomes an empty `all` group (which the API would also refuse to save as such). */
export function fromCriteria(tree: unknown, negated = false): CNode {
  if (!isObject(tree)) return newGroup();
  if ('not' in tree) return fromCriteria(tree.not, !negated);
  for (const combine of ['all', 'any'] as const) {
    if (combine in tree) {
      const children = Array.isArray(tree[combine]) ? (tree[combine] as unknown[]).map((c) => fromCriteria(c)) : [];
      return { ...newGroup(combine, children), negated };
    }
  }
  if ('behavior' in tree) {
    const b = BEHAVIORS.includes(tree.behavior as Behavior) ? (tree.behavior as Behavior) : 'opened';
    return {
      ...newBehavior(b),
      negated,
      sendingId: text(tree.sendingId),
      messageId: text(tree.messageId),
      linkUrl: text(tree.linkUrl),
      eventName: text(tree.eventName),
      formId: text(tree.formId),
      withinDays: text(tree.withinDays),
      minCount: text(tree.minCount),
      humanOnly: tree.humanOnly === true,
    };
  }
  if ('field' in tree) {
    const value = tree.value;
    const first = Array.isArray(value) ? value[0] : value;
    const valueType: ValueType = typeof first === 'number' ? 'number' : typeof first === 'boolean' ? 'boolean' : 'text';
    return {
      ...newField(),
      negated,
      field: text(tree.field) || 'email',
      op: (tree.op as FieldOp) ?? 'eq',
      value: Array.isArray(value) ? value.map(text).join(', ') : text(value),
      valueType,
    };
  }
  return newGroup();
}

function scalar(raw: string, node: FieldNode): string | number | boolean {
  const kind = fieldKind(node.field);
  const trimmed = raw.trim();
  if (kind === 'score' || node.valueType === 'number') {
    const n = Number(trimmed);
    return trimmed !== '' && Number.isFinite(n) ? n : trimmed;
  }
  if (node.valueType === 'boolean') return trimmed === 'true' ? true : trimmed === 'false' ? false : trimmed;
  return kind === 'custom' || kind === 'email' ? raw : trimmed;
}

function fieldValue(node: FieldNode): { value?: unknown } {
  switch (node.op) {
    case 'exists':
      return node.value === 'false' ? { value: false } : {};
    case 'in':
      return {
        value: node.value
          .split(',')
          .map((v) => v.trim())
          .filter((v) => v !== '')
          .map((v) => scalar(v, node)),
      };
    case 'gt':
    case 'lt':
    case 'withinDays': {
      const n = Number(node.value.trim());
      return { value: node.value.trim() !== '' && Number.isFinite(n) ? n : node.value };
    }
    case 'before':
    case 'after':
      return { value: node.value.trim() };
    default:
      return { value: scalar(node.value, node) };
  }
}

const integer = (raw: string): number | string => (/^\d+$/.test(raw.trim()) ? Number(raw.trim()) : raw);

/** The JSON the API takes. Empty optional parts of a behavioural clause are left out. */
export function toCriteria(node: CNode): unknown {
  let out: unknown;
  if (node.kind === 'group') out = { [node.combine]: node.children.map(toCriteria) };
  else if (node.kind === 'field') out = { field: node.field, op: node.op, ...fieldValue(node) };
  else {
    const parts = BEHAVIOR_PARTS[node.behavior];
    const b: Record<string, unknown> = { behavior: node.behavior };
    for (const part of parts) {
      if (part === 'humanOnly') {
        if (node.humanOnly) b.humanOnly = true;
      } else if (node[part].trim() !== '') {
        b[part] = part === 'withinDays' || part === 'minCount' ? integer(node[part]) : node[part].trim();
      }
    }
    out = b;
  }
  return node.negated ? { not: out } : out;
}

/** The path the API names a node's problems by (`criteria.all[0].not`), given its parent's. */
export const innerPath = (node: CNode, path: string) => (node.negated ? `${path}.not` : path);

/** Whether the tree holds a behavioural clause (such a campaign condition removes untracked contacts). */
export function hasBehavior(node: CNode): boolean {
  return node.kind === 'behavior' || (node.kind === 'group' && node.children.some(hasBehavior));
}

/** Replaces the node with `id` (or removes it when `next` is null), anywhere in the tree. */
export function replaceNode(root: CNode, id: string, next: CNode | null): CNode {
  if (root.kind !== 'group') return root;
  const children: CNode[] = [];
  for (const child of root.children) {
    if (child.id === id) {
      if (next) children.push(next);
    } else children.push(replaceNode(child, id, next));
  }
  return { ...root, children };
}
