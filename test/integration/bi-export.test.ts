// The BI export is where event data leaves the product: anonymous events must carry
// no contact column value and no contact field, and the stream must page past one page.
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertEvents, insertSending } from '../helpers/activity.js';
import { ADMIN_KEY, createProject, dialects, startTestApp, type TestApp } from '../helpers/harness.js';

const T0 = Date.parse('2026-11-01T00:00:00Z');
const MIN = 60_000;

/** Our CSV output read back by an independent, well-kept parser (quoted cells, doubled quotes). */
const parseCsv = (text: string): string[][] => parse(text);

/** NDJSON lines of an export (read raw: the harness would parse `application/x-ndjson` as one JSON document). */
async function ndjson(t: TestApp, url: string): Promise<Record<string, unknown>[]> {
  const res = await t.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  expect(res.statusCode).toBe(200);
  expect(String(res.headers['content-type'])).toContain('application/x-ndjson');
  return res.body
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

for (const dialect of dialects()) {
  describe(`BI export of events (${dialect})`, () => {
    let t: TestApp;
    let pid: string;
    let ana: number;
    let bo: number;
    let sendingId: number;
    let messageId: number;

    beforeAll(async () => {
      t = await startTestApp(dialect);
      pid = await createProject(t, { tracking: { enabled: true } });
      const merged = await t.api<{ results: { contactId: string }[] }>('POST', `/api/v1/projects/${pid}/contacts/merge`, {
        records: [
          { email: 'ana@example.com', fields: { firstName: 'Ana, "the first"', city: '=cmd' } },
          { email: 'bo@example.com', fields: {} },
        ],
      });
      [ana, bo] = merged.body.results.map((r) => Number(r.contactId)) as [number, number];
      ({ sendingId, messageId } = await insertSending(t.ctx.store.db, Number(pid), ['https://example.com/a']));
      await insertEvents(t.ctx.store.db, Number(pid), [
        { contactId: ana, type: 'open', at: T0 + MIN, sendingId, messageId, machine: true, device: 'desktop' },
        { contactId: null, type: 'click', at: T0 + 2 * MIN, sendingId, messageId, linkIdx: 0 },
        { contactId: bo, type: 'click', at: T0 + 3 * MIN, sendingId, messageId, linkIdx: 0 },
        { contactId: null, type: 'web', at: T0 + 4 * MIN, url: 'https://example.com/pricing', name: 'signup' },
        { contactId: ana, type: 'open', at: T0 + 24 * 60 * MIN, sendingId, messageId },
      ]);
    });
    afterAll(async () => t?.close());

    it('a CSV export has the event columns plus the chosen contact fields, and anonymous events leave every contact cell empty', async () => {
      const res = await t.api<string>('GET', `/api/v1/projects/${pid}/exports/events?format=csv&fields=email,fields.firstName,fields.city`);
      expect(res.status).toBe(200);
      expect(String(res.headers['content-type'])).toContain('text/csv');
      const [header, ...rows] = parseCsv(res.body);
      expect(header).toEqual(['eventId', 'type', 'at', 'sendingId', 'messageId', 'linkUrl', 'channel', 'contactId', 'name', 'device', 'machine', 'webEventType', 'email', 'fields.firstName', 'fields.city']);
      expect(rows).toHaveLength(5);
      const byType = rows.map((r) => [r[1], r[7], r[12], r[13], r[14]]);
      expect(byType).toEqual([
        ['open', String(ana), 'ana@example.com', 'Ana, "the first"', "'=cmd"],
        ['click', '', '', '', ''],
        ['click', String(bo), 'bo@example.com', '', ''],
        ['web', '', '', '', ''],
        ['open', String(ana), 'ana@example.com', 'Ana, "the first"', "'=cmd"],
      ]);
      expect(rows[1]?.[5]).toBe('https://example.com/a');
      expect(rows[3]?.[5]).toBe('https://example.com/pricing');
      expect(rows[0]?.[2]).toBe(new Date(T0 + MIN).toISOString());
      // What the per-sending export carries: name, device, machine.
      expect(rows.map((r) => [r[1], r[8], r[9], r[10]])).toEqual([
        ['open', '', 'desktop', 'true'],
        ['click', '', '', 'false'],
        ['click', '', '', 'false'],
        ['web', 'signup', '', 'false'],
        ['open', '', '', 'false'],
      ]);
      expect(rows.every((r) => r[11] === '')).toBe(true);
    });

    it('a web event posted through the API keeps its type and its name in both formats', async () => {
      const other = await createProject(t, { tracking: { enabled: true } });
      await t.api('POST', `/api/v1/projects/${other}/contacts/merge`, { records: [{ email: 'cy@example.com' }] });
      for (const body of [
        { type: 'purchase', name: 'Pro plan', url: 'https://example.com/buy' },
        { type: 'signup' },
        { type: 'page_view', url: 'https://example.com/' },
      ]) {
        expect((await t.api('POST', `/api/v1/projects/${other}/events`, { email: 'cy@example.com', ...body })).status).toBe(202);
      }
      await t.ctx.events.flush();
      const records = await ndjson(t, `/api/v1/projects/${other}/exports/events?format=ndjson`);
      expect(records.map((r) => [r.type, r.webEventType, r.name])).toEqual([
        ['web', 'purchase', 'Pro plan'],
        ['web', 'signup', 'signup'],
        ['web', 'page_view', null],
      ]);
      expect(records[0]).toMatchObject({ linkUrl: 'https://example.com/buy', channel: 'web', machine: false, device: null });
      const csv = parseCsv((await t.api<string>('GET', `/api/v1/projects/${other}/exports/events?format=csv`)).body);
      expect(csv[1]?.slice(8, 12)).toEqual(['Pro plan', '', 'false', 'purchase']);
    });

    it('an NDJSON export gives anonymous events no contact keys at all', async () => {
      const records = await ndjson(t, `/api/v1/projects/${pid}/exports/events?format=ndjson&fields=email,fields.firstName`);
      expect(records).toHaveLength(5);
      const anonymous = records.filter((r) => r.contactId === null);
      expect(anonymous).toHaveLength(2);
      for (const r of anonymous) {
        expect(r).not.toHaveProperty('email');
        expect(r).not.toHaveProperty('fields.firstName');
      }
      expect(records[0]).toMatchObject({ type: 'open', name: null, device: 'desktop', machine: true, contactId: String(ana), email: 'ana@example.com', 'fields.firstName': 'Ana, "the first"', sendingId: String(sendingId) });
      expect(records[2]).toMatchObject({ contactId: String(bo), email: 'bo@example.com', 'fields.firstName': null });
    });

    it('from is inclusive and to exclusive', async () => {
      const from = new Date(T0 + 2 * MIN).toISOString();
      const to = new Date(T0 + 4 * MIN).toISOString();
      const records = await ndjson(t, `/api/v1/projects/${pid}/exports/events?format=ndjson&from=${from}&to=${to}`);
      expect(records.map((r) => r.contactId)).toEqual([null, String(bo)]);
      const day = await t.api<string>('GET', `/api/v1/projects/${pid}/exports/events?format=csv&from=2026-11-02`);
      expect(parseCsv(day.body)).toHaveLength(2);
    });

    it('without fields, no contact field columns are added', async () => {
      const res = await t.api<string>('GET', `/api/v1/projects/${pid}/exports/events`);
      expect(parseCsv(res.body)[0]).toEqual(['eventId', 'type', 'at', 'sendingId', 'messageId', 'linkUrl', 'channel', 'contactId', 'name', 'device', 'machine', 'webEventType']);
    });

    it('an unknown field or a bad date is refused with a problem before anything is streamed', async () => {
      const bad = await t.api<{ code: string; errors: { field: string }[] }>('GET', `/api/v1/projects/${pid}/exports/events?fields=email,password`);
      expect(bad.status).toBe(400);
      expect(bad.body.errors[0]?.field).toBe('fields');
      const date = await t.api<{ errors: { field: string }[] }>('GET', `/api/v1/projects/${pid}/exports/events?from=yesterday`);
      expect(date.status).toBe(400);
      expect(date.body.errors[0]?.field).toBe('from');
    });

    it('the export pages through more events than one page, in id order, once each', async () => {
      const other = await createProject(t, { tracking: { enabled: true } });
      const many = Array.from({ length: 4500 }, (_, i) => ({ contactId: null, type: 'web' as const, at: T0 + i, name: `e${i}` }));
      for (let i = 0; i < many.length; i += 500) await insertEvents(t.ctx.store.db, Number(other), many.slice(i, i + 500));
      const ids = (await ndjson(t, `/api/v1/projects/${other}/exports/events?format=ndjson`)).map((r) => Number(r.eventId));
      expect(ids).toHaveLength(4500);
      expect(new Set(ids).size).toBe(4500);
      expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    });

    it('a project key cannot export another project', async () => {
      const other = await createProject(t);
      const key = await t.api<{ key: string }>('POST', `/api/v1/projects/${other}/keys`, {});
      const res = await t.api('GET', `/api/v1/projects/${pid}/exports/events`, undefined, key.body.key);
      expect(res.status).toBe(404);
    });
  });
}
