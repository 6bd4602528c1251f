// The consent core as a client sees it, on both databases: newer changes win and older ones are stale,
// the hash-chained history, module activation, modes, and reaching back on refusal.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, dialects, startTestApp, type TestApp } from '../helpers/harness.js';
import { DAY, isoDay, type ContactCard, foundationApi } from '../helpers/foundation-api.js';

for (const dialect of dialects()) {
  describe(dialect, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp(dialect);
    });
    afterAll(async () => {
      await t?.close();
    });
    const { snapshot, expectProblem, merge, card, putConsent, history } = foundationApi(() => t);

    describe('tracking consent', () => {
      it('PUT applies a newer change, reports an older one as stale without history, and rejects a future date', async () => {
        const pid = await createProject(t, { tracking: { enabled: true } });
        const id = (await merge(pid, [{ email: 'put@example.com' }])).body.results[0]!.contactId!;
        const now = Date.now();

        const applied = await putConsent(pid, id, { consent: false, date: new Date(now - 2 * DAY).toISOString() });
        expect(applied.status).toBe(200);
        expect(applied.body).toMatchObject({ consent: 'applied', trackingStatus: 'refused', tracked: false });

        const stale = await putConsent(pid, id, { consent: true, date: isoDay(now - 3 * DAY) });
        expect(stale.status).toBe(200);
        expect(stale.body).toMatchObject({ consent: 'stale', trackingStatus: 'refused' });
        expect(await history(pid, id)).toHaveLength(1);

        const same = await putConsent(pid, id, { consent: false, date: new Date(now - 2 * DAY).toISOString() });
        expect(same.body.consent).toBe('none');
        expect(await history(pid, id)).toHaveLength(1);

        await expectProblem('PUT', `/api/v1/projects/${pid}/contacts/${id}/tracking-consent`, { consent: true, date: new Date(now + DAY).toISOString() }, 400, {
          field: 'date',
        });
        await expectProblem('PUT', `/api/v1/projects/${pid}/contacts/${id}/tracking-consent`, { consent: true, date: '2026-02-30' }, 400, { field: 'date' });
        await expectProblem('PUT', `/api/v1/projects/${pid}/contacts/${id}/tracking-consent`, { consent: 'yes' }, 400, { field: 'consent' });
        await expectProblem('PUT', `/api/v1/projects/${pid}/contacts/${id}/tracking-consent`, {}, 400, { field: 'consent' });
        await expectProblem('PUT', `/api/v1/projects/${pid}/contacts/${id}/tracking-consent`, { consent: true, source: 'import:1' }, 400, { field: 'source' });
        await expectProblem('PUT', `/api/v1/projects/${pid}/contacts/999999/tracking-consent`, { consent: true }, 404);

        const undated = await putConsent(pid, id, { consent: true, source: 'admin:alice' });
        expect(undated.body).toMatchObject({ consent: 'applied', trackingStatus: 'accepted', tracked: true });
        expect(Math.abs(Date.parse(undated.body.dtTrackingConsent!) - Date.now())).toBeLessThan(60_000);
        const entries = await history(pid, id);
        expect(entries.map((e) => [e.action, e.source])).toEqual([
          ['refused', 'api:admin'],
          ['accepted', 'admin:alice'],
        ]);
      });

      it('the history is oldest first and hash-chained to the previous entry of the project', async () => {
        const pid = await createProject(t, { tracking: { enabled: true } });
        const id = (await merge(pid, [{ email: 'chain@example.com', hasTrackingConsent: 1, dtTrackingConsent: '2024-01-01' }])).body.results[0]!.contactId!;
        await putConsent(pid, id, { consent: false, date: '2024-02-01' });
        await putConsent(pid, id, { consent: null, date: '2024-03-01' });
        await putConsent(pid, id, { consent: true, date: '2024-04-01' });
        const entries = await history(pid, id);
        expect(entries.map((e) => [e.action, e.date.slice(0, 10)])).toEqual([
          ['accepted', '2024-01-01'],
          ['refused', '2024-02-01'],
          ['reset', '2024-03-01'],
          ['accepted', '2024-04-01'],
        ]);
        for (const e of entries) {
          expect(e.hash).toMatch(/^[0-9a-f]{64}$/);
          expect(e.prevHash).toMatch(/^[0-9a-f]{64}$/);
        }
        for (let i = 1; i < entries.length; i += 1) expect(entries[i]!.prevHash).toBe(entries[i - 1]!.hash);
        // The first contact entry chains to the project's module-activation entry.
        const activation = await t.ctx.store.db
          .selectFrom('consent_history')
          .select(['hash', 'prev_hash', 'contact_id'])
          .where('project_id', '=', Number(pid))
          .where('action', '=', 'module-activation')
          .executeTakeFirstOrThrow();
        expect(activation.prev_hash).toBe('0'.repeat(64));
        expect(entries[0]!.prevHash).toBe(activation.hash);
        expect((await card(pid, id)).consentHistory).toEqual(entries);
      });
    });

    describe('the tracking module', () => {
      const activations = async (pid: string) =>
        t.ctx.store.db
          .selectFrom('consent_history')
          .select(['contact_id', 'action', 'source'])
          .where('project_id', '=', Number(pid))
          .where('action', '=', 'module-activation')
          .execute();

      it('activation writes one module-activation entry per activation, not per contact; deactivating keeps consents', async () => {
        const pid = await createProject(t);
        const res = await merge(pid, [
          { email: 'm1@example.com', hasTrackingConsent: false, dtTrackingConsent: '2025-01-01' },
          { email: 'm2@example.com', hasTrackingConsent: true, dtTrackingConsent: '2025-01-01' },
          { email: 'm3@example.com' },
        ]);
        const [refused, accepted] = res.body.results.map((x) => x.contactId!) as [string, string];
        // Module off: everyone is tracked, but the consent values are kept.
        expect(await card(pid, refused)).toMatchObject({ trackingStatus: 'refused', tracked: true });
        expect(await activations(pid)).toHaveLength(0);

        const before = (await snapshot()).history;
        await t.api('PATCH', `/api/v1/projects/${pid}`, { tracking: { enabled: true } });
        expect(await activations(pid)).toEqual([{ contact_id: null, action: 'module-activation', source: 'module-activation' }]);
        expect((await snapshot()).history).toBe(before + 1);
        expect(await card(pid, refused)).toMatchObject({ trackingStatus: 'refused', tracked: false });

        // Enabling what is already enabled, and changing other settings, writes nothing.
        await t.api('PATCH', `/api/v1/projects/${pid}`, { tracking: { enabled: true, anonymizePastOnRefusal: true } });
        expect(await activations(pid)).toHaveLength(1);

        await t.api('PATCH', `/api/v1/projects/${pid}`, { tracking: { enabled: false } });
        expect(await activations(pid)).toHaveLength(1);
        expect(await card(pid, refused)).toMatchObject({ hasTrackingConsent: false, trackingStatus: 'refused', tracked: true });
        expect(await card(pid, accepted)).toMatchObject({ hasTrackingConsent: true, trackingStatus: 'accepted' });

        await t.api('PATCH', `/api/v1/projects/${pid}`, { settings: { tracking: { enabled: true } } });
        expect(await activations(pid)).toHaveLength(2);
        expect(await card(pid, refused)).toMatchObject({ hasTrackingConsent: false, dtTrackingConsent: '2025-01-01T00:00:00.000Z', tracked: false });
        expect(await card(pid, accepted)).toMatchObject({ hasTrackingConsent: true, tracked: true });
      });

      it('switching between opt-out and opt-in changes who is tracked at once', async () => {
        const pid = await createProject(t, { tracking: { enabled: true, mode: 'opt-out' } });
        const res = await merge(pid, [{ email: 'u@example.com' }, { email: 'a@example.com', hasTrackingConsent: true }, { email: 'r@example.com', hasTrackingConsent: false }]);
        const [u, a, r] = res.body.results.map((x) => x.contactId!) as [string, string, string];
        const tracked = async () => [(await card(pid, u)).tracked, (await card(pid, a)).tracked, (await card(pid, r)).tracked];
        expect(await tracked()).toEqual([true, true, false]);
        await t.api('PATCH', `/api/v1/projects/${pid}`, { tracking: { mode: 'opt-in' } });
        expect(await tracked()).toEqual([false, true, false]);
        const list = await t.api<{ items: ContactCard[] }>('GET', `/api/v1/projects/${pid}/contacts`);
        expect(list.body.items.map((c) => c.tracked)).toEqual([false, true, false]);
        await t.api('PATCH', `/api/v1/projects/${pid}`, { tracking: { mode: 'opt-out' } });
        expect(await tracked()).toEqual([true, true, false]);
      });
    });

    describe('anonymizePastOnRefusal', () => {
      async function withEvent(anonymize: boolean) {
        const pid = await createProject(t, { tracking: { enabled: true, anonymizePastOnRefusal: anonymize } });
        const id = (await merge(pid, [{ email: `ev-${anonymize}@example.com` }])).body.results[0]!.contactId!;
        const db = t.ctx.store.db;
        const at = Date.now() - DAY + 12_345;
        const event = await db
          .insertInto('events')
          .values({
            project_id: Number(pid),
            type: 'web',
            contact_id: Number(id),
            nonce: null,
            sending_id: null,
            message_id: null,
            link_idx: null,
            channel: null,
            name: 'page',
            url: 'https://example.com/',
            form_id: null,
            at,
            device: 'desktop',
            machine: 0,
            ip: '203.0.113.7',
            user_agent: 'Mozilla/5.0 (X11)',
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        const total = async () => Number((await db.selectFrom('events').select((eb) => eb.fn.countAll().as('n')).where('project_id', '=', Number(pid)).executeTakeFirstOrThrow()).n);
        const countBefore = await total();
        const res = await putConsent(pid, id, { consent: false });
        expect(res.body.consent).toBe('applied');
        const row = await db.selectFrom('events').selectAll().where('project_id', '=', Number(pid)).where('id', '=', event.id).executeTakeFirstOrThrow();
        expect(await total()).toBe(countBefore);
        return row;
      }

      it('on: refusing consent unlinks the contact past events (contact id, IP, user agent) and keeps their count', async () => {
        const row = await withEvent(true);
        expect(row).toMatchObject({ contact_id: null, ip: null, user_agent: null, type: 'web', name: 'page' });
      });

      it('off: refusing consent leaves past events as they were', async () => {
        const row = await withEvent(false);
        expect(row.contact_id).not.toBeNull();
        expect(row).toMatchObject({ ip: '203.0.113.7', user_agent: 'Mozilla/5.0 (X11)' });
      });
    });
  });
}
