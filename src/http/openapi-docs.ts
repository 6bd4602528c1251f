import { type TSchema, Type } from '@sinclair/typebox';

/*
 * The real structure of the API's free-form trees (criteria, score rules,
 * campaign entries and nodes, sending targets), for the OpenAPI document only.
 *
 * Routes declare these trees permissively (`documented(…)`: any JSON) because
 * the domain validators (`validateCriteria`, `validateScoreRules`,
 * `validateCampaignSpec`) check them and answer one problem per field, with
 * the path and the allowed keys; ajv must not answer first with its own, less
 * helpful errors. `withDocumentedSchemas` then swaps each marked schema of the
 * generated document for a `$ref` to the components below, so clients and
 * readers see the structure. The prose reference is docs/*.md.
 */

const MARK = 'x-trackguard-schema';

/** The documented structures, each a component of the OpenAPI document. */
export type DocumentedName = 'Criteria' | 'FieldClause' | 'BehaviorClause' | 'ScoreRule' | 'ScoreRules' | 'CampaignEntry' | 'CampaignNode' | 'CampaignNodes' | 'SendingTarget';

const Id = Type.String({ pattern: '^[0-9]{1,15}$', description: 'an id of this project (a string of digits)' });
const IdOrNumber = Type.Union([Id, Type.Integer({ minimum: 1 })]);
const ref = (name: DocumentedName): TSchema => Type.Unsafe({ $ref: `#/components/schemas/${name}` });
const Days = Type.Integer({ minimum: 1, maximum: 36_500 });
const Scalar = Type.Union([Type.String({ maxLength: 1000 }), Type.Number(), Type.Boolean()]);

const FieldClause = Type.Object(
  {
    field: Type.Union(
      [
        Type.Union([Type.Literal('email'), Type.Literal('status'), Type.Literal('trackingStatus')]),
        Type.String({ pattern: '^fields\\.[A-Za-z_][A-Za-z0-9_]{0,63}$', description: 'a custom field: fields.<name>' }),
        Type.String({ pattern: '^score\\.[0-9]{1,15}$', description: "the contact's score in a model: score.<modelId> (not in score rules)" }),
      ],
      { description: 'email, status, trackingStatus, fields.<name> or score.<modelId>' },
    ),
    op: Type.Union(
      ['eq', 'neq', 'contains', 'startsWith', 'endsWith', 'in', 'gt', 'lt', 'exists', 'before', 'after', 'withinDays'].map((op) => Type.Literal(op)),
      { description: 'which operators a field takes: docs/criteria.md#field-clauses' },
    ),
    value: Type.Optional(
      Type.Union([Scalar, Type.Array(Scalar, { minItems: 1, maxItems: 1000 })], {
        description: 'a string, number or boolean; a list of 1 to 1000 for `in`; a date for before/after; days for withinDays; optional for exists',
      }),
    ),
  },
  { additionalProperties: false, description: 'What the contact is. A field clause and its negation match every contact, tracked or not.' },
);

const BehaviorClause = Type.Object(
  {
    behavior: Type.Union(['received', 'opened', 'clicked', 'visited', 'submitted'].map((b) => Type.Literal(b))),
    sendingId: Type.Optional(IdOrNumber),
    messageId: Type.Optional(IdOrNumber),
    linkUrl: Type.Optional(Type.String({ minLength: 1, maxLength: 1000, description: 'clicked: the link destination; visited: the page URL' })),
    eventName: Type.Optional(Type.String({ minLength: 1, maxLength: 1000, description: 'visited: the web event name' })),
    formId: Type.Optional(IdOrNumber),
    withinDays: Type.Optional(Days),
    minCount: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
    humanOnly: Type.Optional(Type.Boolean({ description: 'leave out machine-flagged events' })),
  },
  {
    additionalProperties: false,
    description:
      'What the contact did. Positive or negated, it never matches an untracked contact. Keys per behavior: received (sendingId, messageId, withinDays, minCount), ' +
      'opened (+ humanOnly), clicked (+ linkUrl), visited (eventName, linkUrl, withinDays, minCount, humanOnly), submitted (formId, withinDays, minCount, humanOnly). See docs/criteria.md#behavioural-clauses',
  },
);

const Criteria: TSchema = Type.Union(
  [
    Type.Object({ all: Type.Array(ref('Criteria'), { description: 'every child matches; [] matches everyone' }) }, { additionalProperties: false }),
    Type.Object({ any: Type.Array(ref('Criteria'), { description: 'one child matches; [] matches no one' }) }, { additionalProperties: false }),
    Type.Object({ not: ref('Criteria') }, { additionalProperties: false }),
    ref('FieldClause'),
    ref('BehaviorClause'),
  ],
  { description: 'A criteria tree (groups, campaign conditions, score rules): at most 12 levels and 300 nodes. See docs/criteria.md' },
);

const ScoreRule = Type.Object(
  {
    criteria: ref('Criteria'),
    points: Type.Integer({ minimum: -1_000_000, maximum: 1_000_000 }),
    perOccurrence: Type.Optional(Type.Boolean({ description: 'points per matching event; the criteria must be one behavioural clause' })),
    max: Type.Optional(Type.Integer({ description: "caps the rule's points" })),
    withinDays: Type.Optional(Days),
  },
  { additionalProperties: false, description: 'Untracked contacts get no behavioural points. See docs/criteria.md#score-rules' },
);

const next = Type.String({ description: 'the id of another node' });
const NodeId = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' });
const CampaignNode = Type.Union(
  [
    Type.Object({ id: NodeId, type: Type.Literal('send'), messageId: IdOrNumber, next }, { additionalProperties: false }),
    Type.Object(
      { id: NodeId, type: Type.Literal('wait'), duration: Type.String({ description: 'ISO 8601, whole numbers: PT30M, PT1H, P2D, P1DT12H, P1W (a month = 30 days, a year = 365); at most 5 years' }), next },
      { additionalProperties: false },
    ),
    Type.Object({ id: NodeId, type: Type.Literal('condition'), criteria: ref('Criteria'), yes: next, no: next }, { additionalProperties: false }),
    Type.Object({ id: NodeId, type: Type.Literal('end') }, { additionalProperties: false }),
  ],
  { description: 'At a condition holding a behavioural clause, untracked contacts leave the campaign (neither branch). See docs/campaigns.md#nodes' },
);

const CampaignEntry = Type.Union(
  [
    Type.Object({ groupId: IdOrNumber }, { additionalProperties: false, description: "the group's members at start" }),
    Type.Object({ api: Type.Literal(true) }, { additionalProperties: false, description: 'contacts added through POST …/campaigns/{id}/contacts' }),
  ],
  { description: 'See docs/campaigns.md#the-definition' },
);

const SendingTarget = Type.Union(
  [
    Type.Object({ all: Type.Literal(true) }, { additionalProperties: false, description: 'every active contact with an address for the channel' }),
    Type.Object({ groupId: IdOrNumber }, { additionalProperties: false, description: "the group's members when the sending is created" }),
    Type.Object({ contactIds: Type.Array(IdOrNumber, { maxItems: 100_000 }) }, { additionalProperties: false, description: 'these contacts' }),
  ],
  { description: 'Who a sending goes to. See docs/reports.md' },
);

/** The documentation components, by the name a `documented()` schema refers to. */
const COMPONENTS: Record<DocumentedName, TSchema> = {
  Criteria,
  FieldClause,
  BehaviorClause,
  ScoreRule,
  ScoreRules: Type.Array(ref('ScoreRule'), { maxItems: 100, description: 'At most 100 rules; a score is their sum. See docs/criteria.md#score-rules' }),
  CampaignEntry,
  CampaignNode,
  CampaignNodes: Type.Array(ref('CampaignNode'), { minItems: 1, maxItems: 200, description: 'Every node reachable from start; every loop passes a wait node. See docs/campaigns.md' }),
  SendingTarget,
};

/**
 * A route schema that accepts any JSON (the domain validator checks it) and
 * appears in the OpenAPI document as the named structure.
 *
 * @example body: Type.Object({ criteria: documented('Criteria', 'who the group holds') })
 */
export function documented(name: DocumentedName, description?: string): TSchema {
  return Type.Unknown({ [MARK]: name, ...(description ? { description } : {}) });
}

/** Deep copy of `value` with every `documented()` schema replaced by a `$ref` to its component (its description kept). */
function replaceMarked(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(replaceMarked);
  if (value === null || typeof value !== 'object') return value;
  const node = value as Record<string, unknown>;
  const name = node[MARK];
  if (typeof name === 'string' && name in COMPONENTS) {
    return { $ref: `#/components/schemas/${name}`, ...(typeof node.description === 'string' ? { description: node.description } : {}) };
  }
  return Object.fromEntries(Object.entries(node).map(([key, child]) => [key, replaceMarked(child)]));
}

/**
 * The `transformObject` of @fastify/swagger: the generated document with the
 * documentation components added and the marked schemas pointing to them.
 */
export function withDocumentedSchemas<T extends object>(document: T): T {
  const doc = replaceMarked(document) as T & { components?: { schemas?: Record<string, unknown> } };
  doc.components = { ...doc.components, schemas: { ...doc.components?.schemas, ...JSON.parse(JSON.stringify(COMPONENTS)) } };
  return doc;
}

/** The documentation components as JSON Schema (for tests that check examples against them). */
export const documentedComponents = (): Record<DocumentedName, unknown> => JSON.parse(JSON.stringify(COMPONENTS));
