// A probe found 500s and crashes from malformed input on many routes (issue 9, item 2). This suite walks every
// operation of the OpenAPI document (plus the hidden tracking and form routes) with fast-check inputs driven by
// the route schemas — valid, wrong types, boundary sizes, unicode edge cases, deep nesting, huge arrays — on both
// dialects, and fails on any 5xx. `npm test` runs it with a fixed seed and a short budget; `npm run fuzz` longer
// (FUZZ_BUDGET_MS per dialect, FUZZ_SEED).
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, createProject, dialects, startTestApp, type TestApp } from '../helpers/harness.js';
import { EDGE_STRINGS, hostileJson, invalidArbitrary, type JsonSchema, validArbitrary } from './schema-arbitrary.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261202);
const BUDGET_MS = Number(process.env.FUZZ_BUDGET_MS ?? 10_000);
const RUNS_PER_OPERATION = Number(process.env.FUZZ_RUNS ?? (process.env.FUZZ_BUDGET_MS ? 100_000 : 40));

interface Parameter {
  in: 'path' | 'query' | 'header';
  name: string;
  required?: boolean;
  schema: JsonSchema;
}

interface Operation {
  method: string;
  path: string;
  parameters: Parameter[];
  body?: JsonSchema;
}

interface Document {
  paths: Record<string, Record<string, { parameters?: Parameter[]; requestBody?: { content?: Record<string, { schema: JsonSchema }> } }>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

/** The hidden public routes a stranger reaches first (tracking links and hosted forms). */
const HIDDEN: Operation[] = ['/t/o/{token}', '/t/c/{token}', '/f/subscribe/{token}', '/f/confirm/{token}', '/f/profile/{token}', '/f/tracking-optout/{token}', '/f/unsubscribe/{token}'].flatMap((path) =>
  ['get', 'post'].map((method) => ({ method, path, parameters: [{ in: 'path' as const, name: 'token', required: true, schema: { type: 'string' } }], body: { type: 'object' } })),
);

function operationsOf(doc: Document): Operation[] {
  const operations: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const body = op.requestBody?.content?.['application/json']?.schema;
      operations.push({ method, path, parameters: op.parameters ?? [], ...(body ? { body } : {}) });
    }
  }
  // Deletions last: they remove the fixtures the other operations are aimed at.
  return [...operations.filter((o) => o.method !== 'delete'), ...HIDDEN, ...operations.filter((o) => o.method === 'delete')];
}

interface Request {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string;
}

for (const dialect of dialects()) {
  describe(`API fuzz (${dialect})`, () => {
    let t: TestApp;
    let doc: Document;
    /** Real ids by the collection segment before a path parameter (`contacts` → a contact id). */
    const ids: Record<string, string> = {};

    beforeAll(async () => {
      t = await startTestApp(dialect, {}, undefined, { formRateLimit: { max: 1_000_000, windowMs: 60_000 } });
      doc = t.app.swagger() as Document;
      const pid = await createProject(t, { tracking: { enabled: true, mode: 'opt-out' } });
      ids.projects = pid;
      const base = `/api/v1/projects/${pid}`;
      const created = async (url: string, body: unknown) => {
        const res = await t.api<{ id?: string; results?: { contactId: string }[] }>('POST', url, body);
        expect(res.status, `${url}: ${JSON.stringify(res.body)}`).toBeLessThan(300);
        return res.body;
      };
      ids.contacts = (await created(`${base}/contacts/merge`, { records: [{ email: 'fuzz@example.com', hasTrackingConsent: true }] })).results?.[0]?.contactId as string;
      ids.messages = (await created(`${base}/messages`, { channel: 'email', name: 'fuzz', communicationType: 'newsletter', subject: 'S', html: '<a href="https://example.com/x">x</a>' })).id as string;
      ids.groups = (await created(`${base}/groups`, { name: 'fuzz', criteria: { field: 'email', op: 'exists' } })).id as string;
      ids.sendings = (await created(`${base}/sendings`, { messageId: ids.messages, target: { contactIds: [ids.contacts] } })).id as string;
      ids['injection-rules'] = (await created(`${base}/injection-rules`, { name: 'utm', domains: ['example.com'], params: [{ name: 'utm_source', value: 'news' }] })).id ?? '1';
      ids.keys = (await created(`${base}/keys`, { name: 'fuzz' })).id as string;
      const importRes = await t.app.inject({ method: 'POST', url: `${base}/imports`, headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'text/csv' }, payload: 'email\nimp@example.com\n' });
      ids.imports = JSON.parse(importRes.body).id;
    });
    afterAll(() => t?.close());

    function pathValue(path: string, name: string): fc.Arbitrary<string> {
      const segments = path.split('/');
      const collection = segments[segments.indexOf(`{${name}}`) - 1] ?? '';
      const real = ids[collection] ?? (collection === 'campaigns' || collection === 'score-models' || collection === 'forms' || collection === 'users' ? '1' : undefined);
      const junk = fc.oneof(fc.constantFrom('0', '-1', '1.5', 'abc', '9'.repeat(30), '%00', '%ZZ', '%F0%9F%98%80', 'A'.repeat(300), 'A'.repeat(20_000)), fc.string({ maxLength: 30 }).map(encodeURIComponent));
      return real ? fc.oneof({ weight: 3, arbitrary: fc.constant(real) }, { weight: 2, arbitrary: junk }) : junk;
    }

    function requestArbitrary(op: Operation): fc.Arbitrary<Request> {
      const resolve = (ref: string) => doc.components?.schemas?.[ref.split('/').pop() as string];
      const queryParams = op.parameters.filter((p) => p.in === 'query');
      const names = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string);
      const path = fc.tuple(...names.map((name) => pathValue(op.path, name))).map((values) => names.reduce((url, name, i) => url.replace(`{${name}}`, values[i] as string), op.path));
      const queryValue = (p: Parameter) =>
        fc.oneof({ weight: 3, arbitrary: validArbitrary(p.schema, resolve) }, { weight: 1, arbitrary: fc.constantFrom(...EDGE_STRINGS) }, { weight: 1, arbitrary: hostileJson });
      const query = fc
        .tuple(...queryParams.map((p) => fc.option(queryValue(p).map((v) => [p.name, typeof v === 'string' ? v : JSON.stringify(v) ?? ''] as const), { nil: undefined })))
        .map((pairs) => pairs.filter((p): p is readonly [string, string] => p !== undefined));
      const bodySchema = op.body ?? { type: 'object' };
      const body = fc.oneof(
        { weight: 4, arbitrary: validArbitrary(bodySchema, resolve).map((v) => ({ type: 'application/json', text: JSON.stringify(v) ?? 'null' })) },
        { weight: 3, arbitrary: invalidArbitrary(bodySchema, resolve).map((v) => ({ type: 'application/json', text: JSON.stringify(v) ?? 'null' })) },
        { weight: 1, arbitrary: fc.constantFrom('{', '{"a":', '[1,2', '\u0000', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{"x":1}}}', '').map((text) => ({ type: 'application/json', text })) },
        { weight: 1, arbitrary: fc.constantFrom('text/csv', 'multipart/form-data', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'text/plain', 'application/xml').chain((type) => fc.string({ maxLength: 200 }).map((text) => ({ type, text }))) },
      );
      const auth = fc.oneof({ weight: 9, arbitrary: fc.constant(`Bearer ${ADMIN_KEY}`) }, { weight: 1, arbitrary: fc.constantFrom('', 'Bearer ', 'Bearer x', `Basic ${ADMIN_KEY}`, `Bearer ${'k'.repeat(5000)}`) });
      return fc.record({ path, query, body, auth }).map(({ path: url, query: pairs, body: b, auth: authorization }) => {
        const qs = pairs.length > 0 ? `?${pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v.replace(/[\ud800-\udfff]/g, '\ufffd'))}`).join('&')}` : '';
        const withBody = op.method !== 'get' && op.method !== 'delete';
        return {
          method: op.method.toUpperCase(),
          url: url + qs,
          headers: { ...(authorization ? { authorization } : {}), ...(withBody ? { 'content-type': b.type } : {}) },
          ...(withBody ? { payload: b.text } : {}),
        };
      });
    }

    it('no generated request to any route gets a 5xx', async () => {
      const operations = operationsOf(doc);
      expect(operations.length).toBeGreaterThan(80);
      const perOperation = Math.max(Math.floor(BUDGET_MS / operations.length), 20);
      const failures: string[] = [];
      let requests = 0;
      for (const [i, op] of operations.entries()) {
        const property = fc.asyncProperty(requestArbitrary(op), async (request) => {
          requests++;
          const res = await t.app.inject(request as InjectOptions);
          if (res.statusCode >= 500) throw new Error(`${res.statusCode} ${res.body.slice(0, 300)}`);
          // Error answers are problem+json, framework-level ones included (hosted pages answer HTML).
          if (res.statusCode >= 400 && !String(res.headers['content-type']).includes('problem+json') && !request.url.startsWith('/f/') && !request.url.startsWith('/t/')) {
            throw new Error(`${res.statusCode} answered as ${res.headers['content-type']}: ${res.body.slice(0, 200)}`);
          }
        });
        // Rounds of 5 runs until the operation's share of the budget is spent: every route gets at least 5.
        const started = Date.now();
        for (let round = 0; round * 5 < RUNS_PER_OPERATION && (round === 0 || Date.now() - started < perOperation); round++) {
          const seed = SEED + i * 1000 + round;
          const details = await fc.check(property, { seed, numRuns: 5, endOnFailure: true });
          if (details.failed) {
            const example = details.counterexample?.[0] as Request | undefined;
            const reason = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
            failures.push(`${op.method.toUpperCase()} ${op.path} (seed ${seed}): ${reason}\n  request: ${String(JSON.stringify(example)).slice(0, 600)}`);
            break;
          }
        }
      }
      expect(failures, `${requests} requests`).toEqual([]);
      expect(requests).toBeGreaterThan(operations.length * 3);
    }, BUDGET_MS * 3 + 60_000);
  });
}
