// Two unsubscribe forms: the newest silently won and the tracking opt-out offer disappeared (issue 12 item 5).
// One form per per-contact kind is the default, chosen explicitly, and the API says which one links open.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signContactLink } from '../../src/domain/signed-link.js';
import { createProject, dialects, startTestApp, type TestApp } from '../helpers/harness.js';

interface FormBody {
  id: string;
  default?: boolean;
}
interface FormList {
  items: FormBody[];
  defaults: { unsubscribe: string | null; 'tracking-optout': string | null; profile: string | null };
}

for (const dialect of dialects()) {
  describe(`default forms (${dialect})`, () => {
    let t: TestApp;
    let pid: string;
    let cid: number;
    const page = async () => {
      const res = await t.app.inject({ method: 'GET', url: `/f/unsubscribe/${signContactLink(t.config.secrets, 'unsubscribe', Number(pid), cid)}` });
      return res.body;
    };
    const forms = () => t.api<FormList>('GET', `/api/v1/projects/${pid}/forms`);

    beforeAll(async () => {
      t = await startTestApp(dialect);
      pid = await createProject(t, { tracking: { enabled: true, mode: 'opt-out' } });
      const merged = await t.api<{ results: { contactId: string }[] }>('POST', `/api/v1/projects/${pid}/contacts/merge`, { records: [{ email: 'ana@example.com' }] });
      cid = Number(merged.body.results[0]!.contactId);
    });
    afterAll(() => t?.close());

    it('the first form of a kind is the default; a second one does not take over the links unless asked', async () => {
      const first = await t.api<FormBody>('POST', `/api/v1/projects/${pid}/forms`, { kind: 'unsubscribe', name: 'With offer', offerTrackingOptOut: true, texts: { en: { title: 'First unsubscribe page' } } });
      expect(first.status).toBe(201);
      expect(first.body.default).toBe(true);
      const second = await t.api<FormBody>('POST', `/api/v1/projects/${pid}/forms`, { kind: 'unsubscribe', name: 'Plain', texts: { en: { title: 'Second unsubscribe page' } } });
      expect(second.body.default).toBe(false);
      expect(await page()).toContain('First unsubscribe page');
      expect((await forms()).body.defaults).toEqual({ unsubscribe: first.body.id, 'tracking-optout': null, profile: null });

      // Chosen explicitly: the other one stops being the default.
      const chosen = await t.api<FormBody>('PATCH', `/api/v1/projects/${pid}/forms/${second.body.id}`, { default: true });
      expect(chosen.body.default).toBe(true);
      const list = await forms();
      expect(list.body.defaults.unsubscribe).toBe(second.body.id);
      expect(list.body.items.find((f) => f.id === first.body.id)?.default).toBe(false);
      expect(await page()).toContain('Second unsubscribe page');

      // A new form can take over at creation when asked to.
      const third = await t.api<FormBody>('POST', `/api/v1/projects/${pid}/forms`, { kind: 'unsubscribe', name: 'Third', default: true, texts: { en: { title: 'Third unsubscribe page' } } });
      expect(third.body.default).toBe(true);
      expect(await page()).toContain('Third unsubscribe page');

      // No default left: the built-in page, said as null.
      expect((await t.api('DELETE', `/api/v1/projects/${pid}/forms/${third.body.id}`)).status).toBe(204);
      expect((await forms()).body.defaults.unsubscribe).toBeNull();
      const builtIn = await page();
      expect(builtIn).not.toContain('unsubscribe page');
    });

    it('a subscription form has no default: asking for one is a problem naming the field', async () => {
      const res = await t.api<{ errors: { field: string }[] }>('POST', `/api/v1/projects/${pid}/forms`, { kind: 'subscription', name: 'Join', default: true });
      expect(res.status).toBe(400);
      expect(res.body.errors[0]?.field).toBe('default');
    });
  });
}
