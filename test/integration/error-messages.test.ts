// A newcomer reads the error, not the code (issue 12 item 8): an enum error lists the allowed values, a 415
// names the content types the route takes, a malformed query string is problem+json naming the parameter.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, createProject, dialects, startTestApp, type TestApp } from '../helpers/harness.js';

interface Problem {
  status: number;
  detail: string;
  errors?: { field: string; reason: string }[];
}

for (const dialect of dialects()) {
  describe(`errors that say what to do (${dialect})`, () => {
    let t: TestApp;
    let pid: string;

    beforeAll(async () => {
      t = await startTestApp(dialect);
      pid = await createProject(t);
    });
    afterAll(() => t?.close());

    it('a value outside an enum names the allowed values, once per field', async () => {
      const mode = await t.api<Problem>('PATCH', `/api/v1/projects/${pid}`, { tracking: { mode: 'maybe' } });
      expect(mode.status).toBe(400);
      expect(mode.body.errors).toEqual([{ field: 'tracking.mode', reason: 'must be one of opt-out, opt-in' }]);
      expect(mode.body.detail).toBe('tracking.mode: must be one of opt-out, opt-in');
      const channel = await t.api<Problem>('POST', `/api/v1/projects/${pid}/messages`, { channel: 'fax', name: 'x', communicationType: 'n' });
      expect(channel.body.errors).toEqual([{ field: 'channel', reason: 'must be one of email, sms, push' }]);
      const status = await t.api<Problem>('GET', `/api/v1/projects/${pid}/contacts?trackingStatus=maybe`);
      expect(status.body.errors).toEqual([{ field: 'trackingStatus', reason: 'must be one of accepted, refused, unanswered' }]);
      // Other problems keep their own wording beside it.
      const both = await t.api<Problem>('POST', `/api/v1/projects/${pid}/messages`, { channel: 'fax', communicationType: 'n' });
      expect(both.body.errors?.map((e) => e.field).sort()).toEqual(['channel', 'name']);
    });

    it('a 415 says which content types the route takes', async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: `/api/v1/projects/${pid}/contacts/merge`,
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/xml' },
        payload: '<records/>',
      });
      expect(res.statusCode).toBe(415);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json().detail).toMatch(/application\/xml is not taken here; send one of: application\/json/);
      const csv = await t.app.inject({
        method: 'POST',
        url: `/api/v1/projects/${pid}/imports?type=contacts`,
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/xml' },
        payload: '<x/>',
      });
      expect(csv.statusCode).toBe(415);
      expect(csv.json().detail).toMatch(/text\/csv/);
    });

    it('a query string with unencoded non-ASCII or a broken map is problem+json naming the parameter', async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: `/api/v1/projects/${pid}/imports?map=Prénom`,
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'text/csv' },
        payload: 'email\na@example.com\n',
      });
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json().errors[0]).toMatchObject({ field: 'map', reason: expect.stringContaining('Column:target') });
      const broken = await t.app.inject({ method: 'GET', url: `/api/v1/projects/${pid}/contacts?search=%E0%A4%A`, headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      // A broken escape is read leniently (as the characters sent), never a 5xx.
      expect(broken.statusCode).toBe(200);
    });
  });
}
