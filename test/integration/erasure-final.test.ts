// Erasure is final (SPEC §7, issue 12 item 13): the next import or merge of an erased address must not silently
// bring the person back. Only a request that says the person asked to come back does, and the history says so.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLedgers } from '../../src/services/ledger.service.js';
import { ADMIN_KEY, createProject, dialects, startTestApp, type TestApp } from '../helpers/harness.js';

interface MergeResponse {
  results: { index: number; contactId?: string; result: string; consent: string; error?: string; reason?: string }[];
}

async function merge(t: TestApp, pid: string, records: Record<string, unknown>[]): Promise<MergeResponse['results']> {
  const res = await t.api<MergeResponse>('POST', `/api/v1/projects/${pid}/contacts/merge`, { records });
  expect(res.status).toBe(200);
  return res.body.results;
}

async function importCsv(t: TestApp, pid: string, csv: string, query: Record<string, string> = {}) {
  const qs = new URLSearchParams(query).toString();
  const res = await t.app.inject({
    method: 'POST',
    url: `/api/v1/projects/${pid}/imports${qs ? `?${qs}` : ''}`,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'text/csv' },
    payload: csv,
  });
  expect(res.statusCode).toBe(202);
  return JSON.parse(res.body) as { id: string; counts: { created: number; rejected: number } };
}

async function contactIdOf(t: TestApp, pid: string, email: string): Promise<string | undefined> {
  const res = await t.api<{ items: { id: string }[] }>('GET', `/api/v1/projects/${pid}/contacts?email=${encodeURIComponent(email)}`);
  return res.body.items[0]?.id;
}

async function erase(t: TestApp, pid: string, email: string): Promise<void> {
  const [created] = await merge(t, pid, [{ email, hasTrackingConsent: true }]);
  const res = await t.api('DELETE', `/api/v1/projects/${pid}/contacts/${created!.contactId}`);
  expect(res.status).toBe(200);
}

for (const dialect of dialects()) {
  describe(`erasure is final (${dialect})`, () => {
    let t: TestApp;
    let pid: string;

    beforeAll(async () => {
      t = await startTestApp(dialect);
      pid = await createProject(t, { tracking: { enabled: true, mode: 'opt-in' } });
    });
    afterAll(async () => t?.close());

    it('a merge of an erased address, in any case, is rejected with the reason erased and creates nothing', async () => {
      await erase(t, pid, 'ana@example.com');
      const [result, other] = await merge(t, pid, [{ email: ' ANA@example.com ', fields: { firstName: 'Ana' } }, { email: 'bo@example.com' }]);
      expect(result).toMatchObject({ index: 0, result: 'rejected', consent: 'none', reason: 'erased' });
      expect(result!.error).toMatch(/^erased: .*returning/);
      expect(result!.contactId).toBeUndefined();
      expect(other).toMatchObject({ result: 'created' });
      expect(await contactIdOf(t, pid, 'ana@example.com')).toBeUndefined();
    });

    it('the list keeps salted hashes only, never the address', async () => {
      const rows = await t.ctx.store.db.selectFrom('erased_subjects').selectAll().where('project_id', '=', Number(pid)).execute();
      expect(rows).toHaveLength(1);
      expect(rows[0]!.subject_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(JSON.stringify(rows)).not.toContain('ana');
    });

    it('an erased address cannot come back through another contact either (an email change matched by externalId)', async () => {
      await merge(t, pid, [{ externalId: 'crm-7', email: 'cy@example.com' }]);
      const [result] = await merge(t, pid, [{ externalId: 'crm-7', email: 'ana@example.com' }]);
      expect(result).toMatchObject({ result: 'rejected', reason: 'erased' });
      const card = await t.api<{ email: string }>('GET', `/api/v1/projects/${pid}/contacts/${await contactIdOf(t, pid, 'cy@example.com')}`);
      expect(card.body.email).toBe('cy@example.com');
    });

    it('returning must be a boolean', async () => {
      const [result] = await merge(t, pid, [{ email: 'ana@example.com', returning: 'yes' }]);
      expect(result).toMatchObject({ result: 'rejected', error: 'returning: must be true or false' });
      expect(result!.reason).toBeUndefined();
    });

    it('an import rejects the erased address with the reason erased, unless it says returning=true', async () => {
      await erase(t, pid, 'di@example.com');
      const first = await importCsv(t, pid, 'email,firstName\ndi@example.com,Di\neve@example.com,Eve\n');
      expect(first.counts).toMatchObject({ created: 1, rejected: 1 });
      const rejected = await t.app.inject({ method: 'GET', url: `/api/v1/projects/${pid}/imports/${first.id}/rejected`, headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      expect(rejected.body).toMatch(/^line,reason,raw\n2,erased: /);
      expect(await contactIdOf(t, pid, 'di@example.com')).toBeUndefined();
      const back = await importCsv(t, pid, 'email,firstName\ndi@example.com,Di\n', { returning: 'true' });
      expect(back.counts).toMatchObject({ created: 1, rejected: 0 });
      const cid = await contactIdOf(t, pid, 'di@example.com');
      const history = await t.api<{ action: string; source: string }[]>('GET', `/api/v1/projects/${pid}/contacts/${cid}/consent-history`);
      expect(history.body).toEqual([expect.objectContaining({ action: 'returning', source: `import:${back.id}` })]);
    });

    it('a record saying returning: true brings the person back, recorded in the history, and the address leaves the list', async () => {
      const [result] = await merge(t, pid, [{ email: 'ana@example.com', returning: true, hasTrackingConsent: true, dtTrackingConsent: '2026-01-01' }]);
      expect(result).toMatchObject({ result: 'created', consent: 'applied' });
      const history = await t.api<{ action: string; contactId: string; detail?: string }[]>('GET', `/api/v1/projects/${pid}/contacts/${result!.contactId}/consent-history`);
      expect(history.body.map((h) => h.action)).toEqual(['returning', 'accepted']);
      expect(history.body[0]).toMatchObject({ contactId: result!.contactId, detail: expect.stringContaining('come back') });
      const [again] = await merge(t, pid, [{ email: 'ana@example.com', fields: { city: 'Lyon' } }]);
      expect(again).toMatchObject({ result: 'updated', contactId: result!.contactId });
      const rows = await t.ctx.store.db.selectFrom('erased_subjects').selectAll().where('project_id', '=', Number(pid)).execute();
      expect(rows).toHaveLength(0);
    });

    it("the erasure's own history entry names no contact: no id in any column or its detail", async () => {
      const [created] = await merge(t, pid, [{ email: 'hal@example.com', hasTrackingConsent: true }]);
      const id = created!.contactId!;
      const res = await t.api('DELETE', `/api/v1/projects/${pid}/contacts/${id}`);
      expect(res.status).toBe(200);
      const entry = await t.ctx.store.db
        .selectFrom('consent_history')
        .selectAll()
        .where('project_id', '=', Number(pid))
        .where('action', '=', 'erased')
        .orderBy('seq', 'desc')
        .executeTakeFirstOrThrow();
      expect(entry.contact_id).toBeNull();
      expect(String(entry.detail ?? '')).not.toMatch(new RegExp(`\\b${id}\\b`));
      expect(String(entry.detail ?? '')).not.toContain('hal@');
    });

    it('the list is per project: another project may hold the same address', async () => {
      await erase(t, pid, 'fay@example.com');
      const other = await createProject(t);
      const [result] = await merge(t, other, [{ email: 'fay@example.com' }]);
      expect(result).toMatchObject({ result: 'created' });
    });

    it('a public subscription form does not recreate an erased address at once: it waits for the person to confirm', async () => {
      await erase(t, pid, 'gus@example.com');
      const form = await t.api<{ id: string }>('POST', `/api/v1/projects/${pid}/forms`, { kind: 'subscription', name: 'News' });
      const page = await t.app.inject({ method: 'GET', url: `/f/subscribe/${form.body.id}` });
      const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)?.[1];
      const done = await t.app.inject({
        method: 'POST',
        url: `/f/subscribe/${form.body.id}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ csrf: csrf!, email: 'gus@example.com' }).toString(),
      });
      expect(done.statusCode).toBe(200);
      await t.ctx.formSubmissions.settled();
      expect(await contactIdOf(t, pid, 'gus@example.com')).toBeUndefined();
      const requests = await t.ctx.store.db.selectFrom('form_requests').select('id').where('project_id', '=', Number(pid)).where('email', '=', 'gus@example.com').execute();
      expect(requests).toHaveLength(1);
    });

    it('leaves every ledger chain intact, the erasure and returning entries included', async () => {
      const reports = await verifyLedgers(t.ctx.store.db);
      expect(reports.filter((r) => r.broken !== null)).toEqual([]);
      const actions = await t.ctx.store.db.selectFrom('consent_history').select('action').where('project_id', '=', Number(pid)).execute();
      expect(actions.filter((a) => a.action === 'erased')).toHaveLength(5);
      expect(actions.filter((a) => a.action === 'returning')).toHaveLength(2);
    });
  });
}
