// The contacts export is how a privacy officer or a BI tool reads who consented to what: each contact's consent
// status must be the one the card shows, CSV cells must never run as formulas, and the stream must page by id.
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, createProject, dialects, startTestApp, type TestApp } from '../helpers/harness.js';

const HEADER = ['id', 'email', 'externalId', 'phone', 'status', 'trackingStatus', 'tracked', 'hasTrackingConsent', 'dtTrackingConsent', 'createdAt', 'updatedAt', 'fields'];

/** Our CSV output read back by an independent, well-kept parser (quoted cells, doubled quotes). */
const parseCsv = (text: string): string[][] => parse(text);

async function raw(t: TestApp, url: string, key = ADMIN_KEY) {
  return t.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}` } });
}

for (const dialect of dialects()) {
  describe(`contacts export (${dialect})`, () => {
    let t: TestApp;
    let pid: string;
    let ids: string[];

    beforeAll(async () => {
      t = await startTestApp(dialect);
      pid = await createProject(t, { tracking: { enabled: true, mode: 'opt-in' } });
      const merged = await t.api<{ results: { contactId: string }[] }>('POST', `/api/v1/projects/${pid}/contacts/merge`, {
        records: [
          { email: 'ana@example.com', externalId: 'crm-1', phone: '+33 6 12 34 56 78', hasTrackingConsent: true, dtTrackingConsent: '2026-01-02T03:04:05Z', fields: { firstName: 'Ana, "A"', city: '=cmd' } },
          { email: 'bo@example.com', hasTrackingConsent: false, dtTrackingConsent: '2026-02-01' },
          { externalId: '@risky', status: 'inactive' },
        ],
      });
      ids = merged.body.results.map((r) => r.contactId);
    });
    afterAll(async () => t?.close());

    it('a CSV export lists every contact with its consent status as the card says it, formulas neutralised', async () => {
      const res = await raw(t, `/api/v1/projects/${pid}/exports/contacts?format=csv`);
      expect(res.statusCode).toBe(200);
      expect(String(res.headers['content-type'])).toContain('text/csv');
      expect(String(res.headers['content-disposition'])).toContain(`project-${pid}-contacts.csv`);
      const [header, ...rows] = parseCsv(res.body);
      expect(header).toEqual(HEADER);
      expect(rows).toHaveLength(3);
      const [ana, bo, risky] = rows as [string[], string[], string[]];
      expect(ana.slice(0, 9)).toEqual([ids[0], 'ana@example.com', 'crm-1', "'+33 6 12 34 56 78", 'active', 'accepted', 'true', 'true', '2026-01-02T03:04:05.000Z']);
      expect(JSON.parse(ana[11]!)).toEqual({ firstName: 'Ana, "A"', city: '=cmd' });
      expect(bo.slice(0, 9)).toEqual([ids[1], 'bo@example.com', '', '', 'active', 'refused', 'false', 'false', '2026-02-01T00:00:00.000Z']);
      expect(risky.slice(0, 9)).toEqual([ids[2], '', "'@risky", '', 'inactive', 'unanswered', 'false', '', '']);
      for (const card of [ana, bo, risky]) {
        const view = await t.api<{ trackingStatus: string; tracked: boolean; createdAt: string }>('GET', `/api/v1/projects/${pid}/contacts/${card[0]}`);
        expect([card[5], card[6], card[9]]).toEqual([view.body.trackingStatus, String(view.body.tracked), view.body.createdAt]);
      }
    });

    it('an NDJSON export gives typed values and the custom fields as an object', async () => {
      const res = await raw(t, `/api/v1/projects/${pid}/exports/contacts?format=ndjson`);
      expect(String(res.headers['content-type'])).toContain('application/x-ndjson');
      const records = res.body
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(records.map((r) => r.id)).toEqual(ids);
      expect(records[0]).toMatchObject({ email: 'ana@example.com', trackingStatus: 'accepted', tracked: true, hasTrackingConsent: true, fields: { city: '=cmd' } });
      expect(records[2]).toMatchObject({ email: null, externalId: '@risky', trackingStatus: 'unanswered', tracked: false, dtTrackingConsent: null, fields: {} });
    });

    it('tracked follows the project settings now: with the module off, every contact is tracked', async () => {
      const off = await createProject(t);
      await t.api('POST', `/api/v1/projects/${off}/contacts/merge`, { records: [{ email: 'cy@example.com', hasTrackingConsent: false }] });
      const [record] = (await raw(t, `/api/v1/projects/${off}/exports/contacts?format=ndjson`)).body.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(record).toMatchObject({ trackingStatus: 'refused', tracked: true });
    });

    it('the export pages through more contacts than one page, in id order, once each', async () => {
      const other = await createProject(t, { tracking: { enabled: true } });
      const records = Array.from({ length: 4500 }, (_, i) => ({ email: `c${i}@example.com` }));
      const merged = await t.api('POST', `/api/v1/projects/${other}/contacts/merge`, { records });
      expect(merged.status).toBe(200);
      const [header, ...rows] = parseCsv((await raw(t, `/api/v1/projects/${other}/exports/contacts`)).body);
      expect(header).toEqual(HEADER);
      const exported = rows.map((r) => Number(r[0]));
      expect(exported).toHaveLength(4500);
      expect(new Set(exported).size).toBe(4500);
      expect([...exported].sort((a, b) => a - b)).toEqual(exported);
    });

    it('a bad format is a 400 naming format, and a key of another project sees nothing', async () => {
      const bad = await t.api<{ errors: { field: string }[] }>('GET', `/api/v1/projects/${pid}/exports/contacts?format=xlsx`);
      expect(bad.status).toBe(400);
      expect(bad.body.errors.map((e) => e.field).join(',')).toContain('format');
      const other = await createProject(t);
      const key = await t.api<{ key: string }>('POST', `/api/v1/projects/${other}/keys`, {});
      expect((await raw(t, `/api/v1/projects/${pid}/exports/contacts`, key.body.key)).statusCode).toBe(404);
    });
  });
}
