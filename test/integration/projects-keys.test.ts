// Projects and their keys as a client sees them, on both databases: settings defaults and validation,
// keys shown once, stored hashed, confined to their project.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, createProject, dialects, startTestApp, type TestApp } from '../helpers/harness.js';
import { type ProjectView, foundationApi } from '../helpers/foundation-api.js';

for (const dialect of dialects()) {
  describe(dialect, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp(dialect);
    });
    afterAll(async () => {
      await t?.close();
    });
    const { expectProblem, merge, issueKey } = foundationApi(() => t);

    describe('projects', () => {
      it('a new project has the tracking module off, opt-out, and anonymizePastOnRefusal on, small-group protection off and Global Privacy Control honoured', async () => {
        const res = await t.api<ProjectView>('POST', '/api/v1/projects', { name: 'Shop' });
        expect(res.status).toBe(201);
        expect(res.body.id).toMatch(/^\d+$/);
        expect(res.body.tracking).toEqual({ enabled: false, mode: 'opt-out', anonymizePastOnRefusal: true, optOutFooter: true, minAnonymousGroup: 0, honorGpc: true });
        const got = await t.api<ProjectView>('GET', `/api/v1/projects/${res.body.id}`);
        expect(got.status).toBe(200);
        expect(got.body.name).toBe('Shop');
        expect(got.body.settings.tracking.enabled).toBe(false);
      });

      it('PATCH changes tracking.enabled, tracking.mode and tracking.anonymizePastOnRefusal, top-level or nested under settings', async () => {
        const pid = await createProject(t);
        const top = await t.api<ProjectView>('PATCH', `/api/v1/projects/${pid}`, { tracking: { enabled: true, mode: 'opt-in', anonymizePastOnRefusal: false } });
        expect(top.status).toBe(200);
        expect(top.body.tracking).toMatchObject({ enabled: true, mode: 'opt-in', anonymizePastOnRefusal: false });
        const nested = await t.api<ProjectView>('PATCH', `/api/v1/projects/${pid}`, { settings: { tracking: { mode: 'opt-out' } } });
        expect(nested.status).toBe(200);
        expect(nested.body.tracking).toMatchObject({ enabled: true, mode: 'opt-out', anonymizePastOnRefusal: false });
        const got = await t.api<ProjectView>('GET', `/api/v1/projects/${pid}`);
        expect(got.body.settings.tracking).toMatchObject({ enabled: true, mode: 'opt-out', anonymizePastOnRefusal: false });
      });

      it('POST /projects accepts initial settings', async () => {
        const res = await t.api<ProjectView>('POST', '/api/v1/projects', { name: 'With settings', settings: { tracking: { enabled: true, mode: 'opt-in' } } });
        expect(res.status).toBe(201);
        expect(res.body.tracking).toMatchObject({ enabled: true, mode: 'opt-in' });
      });

      it('unknown or mistyped settings are a 400 problem naming the field, and change nothing', async () => {
        const pid = await createProject(t);
        await expectProblem('PATCH', `/api/v1/projects/${pid}`, { tracking: { enabled: true, colour: 'red' } }, 400, { field: 'tracking.colour' });
        await expectProblem('PATCH', `/api/v1/projects/${pid}`, { settings: { tracking: { bogus: 1 } } }, 400, { field: 'settings.tracking.bogus' });
        await expectProblem('PATCH', `/api/v1/projects/${pid}`, { trackingEnabled: true }, 400, { field: 'trackingEnabled' });
        await expectProblem('PATCH', `/api/v1/projects/${pid}`, { tracking: { enabled: 'yes' } }, 400, { field: 'tracking.enabled' });
        await expectProblem('PATCH', `/api/v1/projects/${pid}`, { tracking: { mode: 'sometimes' } }, 400, { field: 'tracking.mode' });
        await expectProblem('POST', '/api/v1/projects', { name: 'x', settings: { nope: true } }, 400, { field: 'settings.nope' });
        await expectProblem('POST', '/api/v1/projects', {}, 400, { field: 'name' });
        await expectProblem('POST', '/api/v1/projects', { name: 42 }, 400, { field: 'name' });
        await expectProblem('GET', '/api/v1/projects/999999', undefined, 404);
      });
    });

    describe('keys', () => {
      it('a project key is shown once and stored only as a hash', async () => {
        const pid = await createProject(t);
        const issued = await issueKey(pid);
        expect(issued.key.length).toBeGreaterThanOrEqual(40);
        const rows = await t.ctx.store.db.selectFrom('api_keys').selectAll().execute();
        const stored = rows.find((r) => String(r.id) === issued.id);
        expect(stored?.key_hash).toBe(createHash('sha256').update(issued.key).digest('hex'));
        const everything = JSON.stringify([rows, await t.ctx.store.db.selectFrom('meta').selectAll().execute()]);
        expect(everything).not.toContain(issued.key);
        expect(everything).not.toContain(issued.key.split('_').at(-1));
        expect(everything).not.toContain(ADMIN_KEY);
        const project = await t.api('GET', `/api/v1/projects/${pid}`);
        expect(JSON.stringify(project.body)).not.toContain(issued.key);
      });

      it('a project key reaches its own project only: other projects answer 404, admin operations 403', async () => {
        const mine = await createProject(t);
        const other = await createProject(t);
        const { key } = await issueKey(mine);
        const otherContact = (await merge(other, [{ email: 'other@example.com' }])).body.results[0]!.contactId!;

        expect((await t.api('GET', `/api/v1/projects/${mine}`, undefined, key)).status).toBe(200);
        const own = await merge(mine, [{ email: 'own@example.com' }], key);
        expect(own.status).toBe(200);
        expect(own.body.results[0]?.result).toBe('created');
        expect((await t.api('GET', `/api/v1/projects/${mine}/contacts`, undefined, key)).status).toBe(200);

        await expectProblem('GET', `/api/v1/projects/${other}`, undefined, 404, { key });
        await expectProblem('PATCH', `/api/v1/projects/${other}`, { tracking: { enabled: true } }, 404, { key });
        await expectProblem('POST', `/api/v1/projects/${other}/contacts/merge`, { records: [{ email: 'x@example.com' }] }, 404, { key });
        await expectProblem('GET', `/api/v1/projects/${other}/contacts`, undefined, 404, { key });
        await expectProblem('GET', `/api/v1/projects/${other}/contacts/${otherContact}`, undefined, 404, { key });
        await expectProblem('PUT', `/api/v1/projects/${other}/contacts/${otherContact}/tracking-consent`, { consent: false }, 404, { key });
        await expectProblem('GET', `/api/v1/projects/${other}/contacts/${otherContact}/consent-history`, undefined, 404, { key });
        await expectProblem('POST', `/api/v1/projects/${other}/keys`, {}, 404, { key });
        // A contact id of another project is not found through one's own project either.
        await expectProblem('GET', `/api/v1/projects/${mine}/contacts/${otherContact}`, undefined, 404, { key });
        await expectProblem('POST', '/api/v1/projects', { name: 'sneaky' }, 403, { key });
        await expectProblem('POST', `/api/v1/projects/${mine}/keys`, {}, 403, { key });
        // The admin key reaches every project.
        expect((await t.api('GET', `/api/v1/projects/${other}/contacts/${otherContact}`)).status).toBe(200);
      });

      it('a missing, malformed or wrong key is a 401 problem', async () => {
        const pid = await createProject(t);
        await expectProblem('GET', `/api/v1/projects/${pid}`, undefined, 401, { key: null });
        await expectProblem('GET', `/api/v1/projects/${pid}`, undefined, 401, { key: 'wrong-key' });
        await expectProblem('GET', `/api/v1/projects/${pid}`, undefined, 401, { key: 'tgk_1_forgedforgedforgedforgedforgedforged' });
        await expectProblem('GET', `/api/v1/projects/${pid}`, undefined, 401, { key: 'tgk_999999_forged' });
        await expectProblem('POST', '/api/v1/projects', { name: 'x' }, 401, { key: null });
        await expectProblem('POST', `/api/v1/projects/${pid}/contacts/merge`, { records: [{ email: 'x@example.com' }] }, 401, { key: 'nope' });
        const res = await t.app.inject({ method: 'GET', url: `/api/v1/projects/${pid}`, headers: { authorization: `Basic ${ADMIN_KEY}` } });
        expect(res.statusCode).toBe(401);
      });
    });
  });
}
