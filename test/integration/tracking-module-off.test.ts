// A new project's tracking module is off: an import of refusals then shows `refused` and `tracked: true`, which
// a privacy officer misreads as a breach (issue 12 item 3). Everything that could be misread must say so, and
// turning the module on (or changing its mode) must be in the audit log with who did it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects, startTestApp, type TestApp } from '../helpers/harness.js';

for (const dialect of dialects()) {
  describe(`a project whose tracking module is off (${dialect})`, () => {
    let t: TestApp;
    let pid: string;

    beforeAll(async () => {
      t = await startTestApp(dialect);
    });
    afterAll(() => t?.close());

    it('says so at creation, on the merge response and on the contact card', async () => {
      const created = await t.api<{ id: string; trackingModule: string; notice?: string }>('POST', '/api/v1/projects', { name: 'Fresh' });
      expect(created.status).toBe(201);
      pid = created.body.id;
      expect(created.body.trackingModule).toBe('off');
      expect(created.body.notice).toMatch(/tracking module .* is off: consent values are recorded but not applied/);
      const merged = await t.api<{ trackingModule: string; notice?: string; results: { contactId: string }[] }>('POST', `/api/v1/projects/${pid}/contacts/merge`, {
        records: [{ email: 'refuser@example.com', hasTrackingConsent: false }],
      });
      expect(merged.body.trackingModule).toBe('off');
      expect(merged.body.notice).toMatch(/every contact is tracked \(tracked: true\) until it is turned on/);
      const card = await t.api<{ trackingStatus: string; tracked: boolean; trackingModule: string; trackingNotice: string | null }>('GET', `/api/v1/projects/${pid}/contacts/${merged.body.results[0]!.contactId}`);
      expect(card.body).toMatchObject({ trackingStatus: 'refused', tracked: true, trackingModule: 'off' });
      expect(card.body.trackingNotice).toMatch(/tracking module .* is off/);
      const imported = await t.app.inject({
        method: 'POST',
        url: `/api/v1/projects/${pid}/imports?map=email:email,consent:hasTrackingConsent`,
        headers: { authorization: 'Bearer test-admin-key', 'content-type': 'text/csv' },
        payload: 'email,consent\nother-refuser@example.com,0\n',
      });
      expect(imported.statusCode).toBe(202);
      expect(imported.json()).toMatchObject({ trackingModule: 'off', notice: expect.stringMatching(/is off: consent values are recorded but not applied/) });
    });

    it('once on, the refusal applies, the notices go, and the change is in the audit log with its author', async () => {
      const key = await t.api<{ key: string }>('POST', `/api/v1/projects/${pid}/keys`, { name: 'settings', scopes: ['read', 'admin'] });
      const patched = await t.api<{ trackingModule: string; notice?: string }>('PATCH', `/api/v1/projects/${pid}`, { tracking: { enabled: true, mode: 'opt-in' } }, key.body.key);
      expect(patched.status).toBe(200);
      expect(patched.body.trackingModule).toBe('on');
      expect(patched.body.notice).toBeUndefined();
      const list = await t.api<{ items: { tracked: boolean; trackingModule: string }[] }>('GET', `/api/v1/projects/${pid}/contacts`);
      expect(list.body.items[0]).toMatchObject({ tracked: false, trackingModule: 'on' });
      const merged = await t.api<{ notice?: string; trackingModule: string }>('POST', `/api/v1/projects/${pid}/contacts/merge`, { records: [{ email: 'other@example.com' }] });
      expect(merged.body).toMatchObject({ trackingModule: 'on' });
      expect(merged.body.notice).toBeUndefined();
      const audit = await t.api<{ items: { actor: string; action: string; detail?: string | null }[] }>('GET', `/api/v1/projects/${pid}/audit-log`);
      const change = audit.body.items.find((e) => e.action === 'projects.update');
      expect(change?.actor).toMatch(/^key:\d+$/);
      expect(change?.detail).toMatch(/tracking\.enabled/);
      expect(change?.detail).toMatch(/tracking\.mode/);
    });
  });
}
