// The guides in docs/ are code (issue 12 item 6): every ```json example=<kind> block is a request body a reader
// will copy, so each is sent to the API it documents on both dialects and must be accepted, or the docs have rotted.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, dialects, startTestApp, type TestApp } from '../helpers/harness.js';

const DOCS = fileURLToPath(new URL('../../docs', import.meta.url));

/** Where each kind of example is sent, and the status that means "accepted". */
const ENDPOINTS = {
  criteria: { path: 'groups/count', wrap: (body: unknown) => ({ criteria: body }), status: 200 },
  group: { path: 'groups', wrap: (body: unknown) => body, status: 201 },
  'score-model': { path: 'score-models', wrap: (body: unknown) => body, status: 201 },
  campaign: { path: 'campaigns', wrap: (body: unknown) => body, status: 201 },
  'injection-rule': { path: 'injection-rules', wrap: (body: unknown) => body, status: 201 },
  message: { path: 'messages', wrap: (body: unknown) => body, status: 201 },
} as const;
type Kind = keyof typeof ENDPOINTS;

interface Example {
  file: string;
  line: number;
  kind: Kind;
  body: unknown;
}

/** Every ```json example=<kind> block of docs/*.md, parsed (a block that is not JSON fails here). */
function docExamples(): Example[] {
  const examples: Example[] = [];
  for (const file of readdirSync(DOCS).filter((f) => f.endsWith('.md'))) {
    const text = readFileSync(join(DOCS, file), 'utf8');
    for (const match of text.matchAll(/^```json example=([\w-]+)\n([\s\S]*?)^```$/gm)) {
      const kind = match[1] as Kind;
      const line = text.slice(0, match.index).split('\n').length;
      if (!(kind in ENDPOINTS)) throw new Error(`${file}:${line}: unknown example kind ${kind} (use ${Object.keys(ENDPOINTS).join(', ')})`);
      examples.push({ file, line, kind, body: JSON.parse(match[2]!) });
    }
  }
  return examples;
}

/** The example with its placeholder ids (messageId, groupId, sendingId, formId, score.<id>) replaced by real ones. */
function withIds(value: unknown, ids: Record<'messageId' | 'groupId' | 'sendingId' | 'formId' | 'scoreModel', string>): unknown {
  if (Array.isArray(value)) return value.map((v) => withIds(v, ids));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (key === 'messageId' || key === 'groupId' || key === 'sendingId' || key === 'formId') out[key] = ids[key];
    else if (key === 'field' && typeof v === 'string' && /^score\.\d+$/.test(v)) out[key] = `score.${ids.scoreModel}`;
    else out[key] = withIds(v, ids);
  }
  return out;
}

describe('docs examples', () => {
  it('every guide has examples, and every kind is shown at least once', () => {
    const examples = docExamples();
    const kinds = new Set(examples.map((e) => e.kind));
    expect([...kinds].sort()).toEqual(Object.keys(ENDPOINTS).sort());
    const files = new Set(examples.map((e) => e.file));
    for (const guide of ['merge-tags.md', 'criteria.md', 'campaigns.md', 'injection-rules.md']) expect(files).toContain(guide);
  });
});

/** The OpenAPI component each kind's documented trees are checked against (the body's keys, or the whole block). */
const DOCUMENTED: Record<Kind, Record<string, string>> = {
  criteria: { '': 'Criteria' },
  group: { criteria: 'Criteria' },
  'score-model': { rules: 'ScoreRules' },
  campaign: { entry: 'CampaignEntry', nodes: 'CampaignNodes' },
  'injection-rule': {},
  message: {},
};

describe('the OpenAPI document describes the documented trees', () => {
  let t: TestApp;
  let doc: { paths: Record<string, Record<string, unknown>>; components: { schemas: Record<string, unknown> } };
  beforeAll(async () => {
    t = await startTestApp('sqlite');
    doc = (await t.api<typeof doc>('GET', '/api/openapi.json')).body;
  });
  afterAll(() => t?.close());

  it('gives criteria, score rules, campaign entries and nodes and sending targets real schemas that point to docs/', () => {
    type Operation = { requestBody: { content: { 'application/json': { schema: { properties: Record<string, { $ref?: string; description?: string }> } } } } };
    const body = (path: string, method: string) => {
      const operation = doc.paths[path]?.[method] as Operation | undefined;
      if (!operation) throw new Error(`no ${method} ${path} in the OpenAPI document`);
      return operation.requestBody.content['application/json'].schema.properties;
    };
    expect(body('/api/v1/projects/{pid}/groups', 'post').criteria?.$ref).toBe('#/components/schemas/Criteria');
    expect(body('/api/v1/projects/{pid}/groups/count', 'post').criteria?.$ref).toBe('#/components/schemas/Criteria');
    expect(body('/api/v1/projects/{pid}/score-models', 'post').rules?.$ref).toBe('#/components/schemas/ScoreRules');
    expect(body('/api/v1/projects/{pid}/campaigns', 'post').nodes?.$ref).toBe('#/components/schemas/CampaignNodes');
    expect(body('/api/v1/projects/{pid}/campaigns', 'post').entry?.$ref).toBe('#/components/schemas/CampaignEntry');
    const sending = doc.paths['/api/v1/projects/{pid}/sendings/{sid}']?.get as { responses: { 200: { content: { 'application/json': { schema: { properties: { target: { $ref: string } } } } } } } };
    expect(sending.responses[200].content['application/json'].schema.properties.target.$ref).toBe('#/components/schemas/SendingTarget');
    for (const name of ['Criteria', 'ScoreRules', 'CampaignNodes', 'CampaignEntry']) expect(JSON.stringify(doc.components.schemas[name])).toMatch(/docs\/\w[\w-]*\.md/);
    expect(JSON.stringify(doc)).not.toMatch(/SPEC/);
  });

  it('accepts every docs example under those schemas (they are not stricter than the API)', () => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    const check = (name: string, value: unknown) => ajv.validate({ $ref: `#/components/schemas/${name}`, components: doc.components }, value) || ajv.errorsText();
    const failures: string[] = [];
    for (const example of docExamples()) {
      for (const [key, name] of Object.entries(DOCUMENTED[example.kind])) {
        const value = key === '' ? example.body : (example.body as Record<string, unknown>)[key];
        const result = check(name, value);
        if (result !== true) failures.push(`docs/${example.file}:${example.line} ${name}: ${result}`);
      }
    }
    expect(failures).toEqual([]);
    expect(check('Criteria', { field: 'email', op: 'like', value: 'x' })).not.toBe(true);
  });
});

for (const dialect of dialects()) {
  describe(`docs examples are accepted by the API (${dialect})`, () => {
    let t: TestApp;
    let base: string;
    let ids: Parameters<typeof withIds>[1];

    beforeAll(async () => {
      t = await startTestApp(dialect);
      const pid = await createProject(t, { tracking: { enabled: true, mode: 'opt-out' } });
      base = `/api/v1/projects/${pid}`;
      const created = async (path: string, body: unknown): Promise<string> => {
        const res = await t.api<{ id?: string; results?: { contactId: string }[] }>('POST', `${base}/${path}`, body);
        expect(res.status, `${path}: ${JSON.stringify(res.body)}`).toBeLessThan(300);
        return res.body.id ?? res.body.results?.[0]?.contactId ?? '';
      };
      const contactId = await created('contacts/merge', { records: [{ email: 'ana@example.com', hasTrackingConsent: true, fields: { plan: 'pro' } }] });
      const messageId = await created('messages', { channel: 'email', name: 'fixture', communicationType: 'newsletter', subject: 'S', html: '<a href="https://shop.example.com/sale">x</a>' });
      ids = {
        messageId,
        groupId: await created('groups', { name: 'fixture', criteria: { field: 'email', op: 'exists' } }),
        sendingId: await created('sendings', { messageId, target: { contactIds: [contactId] } }),
        formId: await created('forms', { kind: 'subscription', name: 'fixture' }),
        scoreModel: await created('score-models', { name: 'fixture', rules: [{ criteria: { behavior: 'opened' }, points: 1 }] }),
      };
    });
    afterAll(() => t?.close());

    it('sends every example to its API and gets a success', async () => {
      const failures: string[] = [];
      const examples = docExamples();
      expect(examples.length).toBeGreaterThan(15);
      for (const example of examples) {
        const endpoint = ENDPOINTS[example.kind];
        const res = await t.api('POST', `${base}/${endpoint.path}`, endpoint.wrap(withIds(example.body, ids)));
        if (res.status !== endpoint.status) failures.push(`docs/${example.file}:${example.line} (${example.kind}): ${res.status} ${JSON.stringify(res.body)}`);
      }
      expect(failures).toEqual([]);
    });

    it('answers an unknown tag with the error merge-tags.md shows', async () => {
      const res = await t.api<{ errors: { field: string; reason: string }[] }>('POST', `${base}/messages/preview`, { channel: 'email', subject: 'S', html: '<p>\n\n{{contact.first name}}</p>' });
      expect(res.status).toBe(400);
      expect(readFileSync(join(DOCS, 'merge-tags.md'), 'utf8')).toContain(`"reason": "${res.body.errors[0]?.reason}"`);
    });
  });
}
