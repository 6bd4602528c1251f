// A criteria `in` list of ≥ 998 values and a sending to 40,000 or 100,000 contact ids gave 500s (SQLite's expression
// depth and placeholder caps): every long list now travels as one bound array parameter (issue 9, item 2).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, dialects, startTestApp, type TestApp } from '../helpers/harness.js';

for (const dialect of dialects()) {
  describe(`long id and value lists (${dialect})`, () => {
    let t: TestApp;
    let pid: string;
    let ids: string[];

    beforeAll(async () => {
      t = await startTestApp(dialect);
      pid = await createProject(t);
      const merged = await t.api<{ results: { contactId: string }[] }>('POST', `/api/v1/projects/${pid}/contacts/merge`, {
        records: Array.from({ length: 30 }, (_, i) => ({ email: `c${i}@example.com`, fields: { n: i, code: `k${i}` } })),
      });
      ids = merged.body.results.map((r) => r.contactId);
    });
    afterAll(() => t.close());

    async function countOf(criteria: unknown): Promise<number> {
      const group = await t.api<{ id: string }>('POST', `/api/v1/projects/${pid}/groups`, { name: `g${Math.random()}`, criteria });
      expect(group.status, JSON.stringify(group.body)).toBe(201);
      const count = await t.api<{ count: number }>('GET', `/api/v1/projects/${pid}/groups/${group.body.id}/count`);
      expect(count.status, JSON.stringify(count.body)).toBe(200);
      return count.body.count;
    }

    it('an `in` list of 1,000 emails, numbers or texts counts without a 500', async () => {
      const emails = Array.from({ length: 1000 }, (_, i) => `C${i}@Example.com`);
      expect(await countOf({ field: 'email', op: 'in', value: emails })).toBe(30);
      expect(await countOf({ field: 'fields.n', op: 'in', value: Array.from({ length: 1000 }, (_, i) => i * 2) })).toBe(15);
      expect(await countOf({ field: 'fields.code', op: 'in', value: [...Array.from({ length: 999 }, (_, i) => `x${i}`), 'k3'] })).toBe(1);
      expect(await countOf({ any: [{ field: 'fields.n', op: 'in', value: [1, '2', true] }, { field: 'status', op: 'in', value: ['quarantine'] }] })).toBe(2);
    });

    it('an `in` list over the limit is refused at save, naming the clause', async () => {
      const res = await t.api<{ errors: { field: string }[] }>('POST', `/api/v1/projects/${pid}/groups`, {
        name: 'too long',
        criteria: { field: 'email', op: 'in', value: Array.from({ length: 1001 }, (_, i) => `a${i}@example.com`) },
      });
      expect(res.status).toBe(400);
      expect(res.body.errors[0]?.field).toMatch(/criteria/);
    });

    it('a criteria string with a NUL byte is refused at save, not a 500 at count time', async () => {
      const res = await t.api('POST', `/api/v1/projects/${pid}/groups`, { name: 'nul', criteria: { field: 'fields.code', op: 'in', value: ['a\u0000'] } });
      expect(res.status).toBe(400);
    });

    it('a sending to 100,000 contact ids (the schema maximum) is created and reaches only the listed contacts', async () => {
      const message = await t.api<{ id: string }>('POST', `/api/v1/projects/${pid}/messages`, { channel: 'email', name: 'big', communicationType: 'newsletter', subject: 's', text: 'hello' });
      const listed = [...Array.from({ length: 100_000 - 3 }, (_, i) => 1_000_000 + i), Number(ids[0]), Number(ids[1]), Number(ids[2])];
      const res = await t.api<{ id: string; targeted: number }>('POST', `/api/v1/projects/${pid}/sendings`, { messageId: message.body.id, target: { contactIds: listed } });
      expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(201);
      while (await t.ctx.jobs.runOnce()) {
        // drain
      }
      const report = await t.api<{ recipients: { delivered: number } }>('GET', `/api/v1/projects/${pid}/sendings/${res.body.id}/report`);
      expect(report.status).toBe(200);
      expect(report.body.recipients.delivered).toBe(3);
      const over = await t.api('POST', `/api/v1/projects/${pid}/sendings`, { messageId: message.body.id, target: { contactIds: [...listed, 5] } });
      expect(over.status).toBeGreaterThanOrEqual(400);
      expect(over.status).toBeLessThan(500);
    });

    it('10,000 contact ids (the route maximum) enter an API-entry campaign in one call', async () => {
      const message = await t.api<{ id: string }>('POST', `/api/v1/projects/${pid}/messages`, { channel: 'email', name: 'camp', communicationType: 'newsletter', subject: 's', text: 'hi' });
      const created = await t.api<{ id: string }>('POST', `/api/v1/projects/${pid}/campaigns`, {
        name: 'api entry',
        entry: { api: true },
        start: 's',
        nodes: [
          { id: 's', type: 'send', messageId: message.body.id, next: 'e' },
          { id: 'e', type: 'end' },
        ],
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      expect((await t.api('POST', `/api/v1/projects/${pid}/campaigns/${created.body.id}/start`)).status).toBe(200);
      const contactIds = [...ids.slice(0, 5).map(Number), ...Array.from({ length: 10_000 - 5 }, (_, i) => 2_000_000 + i)];
      const res = await t.api<{ entered: number; ignored: number }>('POST', `/api/v1/projects/${pid}/campaigns/${created.body.id}/contacts`, { contactIds });
      expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(200);
      expect(res.body.entered).toBe(5);
    });
  });
}
