// A test-send must show the message as a recipient gets it without tracking anyone or counting in any report,
// and removing a message must never break the sendings and reports that refer to it (issue 12 item 7).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, dialects, startTestApp, type TestApp } from '../helpers/harness.js';

for (const dialect of dialects()) {
  describe(`test-sending and removing messages (${dialect})`, () => {
    let t: TestApp;
    let pid: string;
    const base = () => `/api/v1/projects/${pid}`;
    const newMessage = (name: string) =>
      t.api<{ id: string }>('POST', `${base()}/messages`, {
        channel: 'email',
        name,
        communicationType: 'newsletter',
        subject: 'Hello {{contact.firstName | "there"}}',
        html: '<p>Hi {{contact.firstName | "there"}}</p><a href="https://example.com/spring">Spring</a> <a href="{{unsubscribeUrl}}">unsubscribe</a>',
        text: 'Spring: https://example.com/spring',
      });
    const drain = async () => {
      while (await t.ctx.jobs.runOnce()) {
        // run every step due
      }
    };

    beforeAll(async () => {
      t = await startTestApp(dialect);
      pid = await createProject(t, { tracking: { enabled: true, mode: 'opt-out' } });
      await t.api('POST', `${base()}/contacts/merge`, { records: [{ email: 'ana@example.com', fields: { firstName: 'Ana' }, hasTrackingConsent: true }] });
    });
    afterAll(() => t?.close());

    it('a test-send renders merge tags from the matching contact, marks the message as a test and tracks nothing', async () => {
      const message = await newMessage('Spring news');
      const res = await t.api<{ sent: string[] }>('POST', `${base()}/messages/${message.body.id}/test`, { to: ['ana@example.com', 'boss@example.org'] });
      expect(res.status).toBe(202);
      expect(res.body.sent).toEqual(['ana@example.com', 'boss@example.org']);
      const dir = join(t.config.dataDir, 'outbox', '0');
      const files = readdirSync(dir).filter((f) => f.endsWith('.eml'));
      expect(files).toHaveLength(2);
      const mails = await Promise.all(files.map(async (f) => simpleParser(readFileSync(join(dir, f)))));
      const byTo = new Map(mails.map((m) => [m.to && !Array.isArray(m.to) ? m.to.text : '', m]));
      expect(byTo.get('ana@example.com')?.subject).toBe('[Test] Hello Ana');
      expect(byTo.get('boss@example.org')?.subject).toBe('[Test] Hello there');
      for (const mail of mails) {
        expect(mail.headers.get('x-trackguard-test')).toBe('1');
        const html = String(mail.html);
        expect(html).toContain('href="https://example.com/spring"');
        expect(html).not.toContain('/t/c/');
        expect(html).not.toContain('/t/o/');
        // The unsubscribe link of a test goes nowhere real: no tester can unsubscribe a contact.
        expect(html).toMatch(/\/f\/unsubscribe\/test"/);
      }
      const events = await t.ctx.store.db.selectFrom('events').select('id').where('project_id', '=', Number(pid)).execute();
      expect(events).toEqual([]);
      const deliveries = await t.ctx.store.db.selectFrom('deliveries').select('contact_id').where('project_id', '=', Number(pid)).execute();
      expect(deliveries).toEqual([]);
      expect((await t.api<{ items: unknown[] }>('GET', `${base()}/sendings`)).body.items).toEqual([]);
    });

    it('a test-send to a bad address, to nobody or to too many is a problem naming the field, and sends nothing', async () => {
      const message = await newMessage('Bad tests');
      const before = existsSync(join(t.config.dataDir, 'outbox', '0')) ? readdirSync(join(t.config.dataDir, 'outbox', '0')).length : 0;
      const bad = await t.api<{ errors: { field: string }[] }>('POST', `${base()}/messages/${message.body.id}/test`, { to: ['ana@example.com', 'not an address'] });
      expect(bad.status).toBe(400);
      expect(bad.body.errors[0]?.field).toBe('to.1');
      expect((await t.api('POST', `${base()}/messages/${message.body.id}/test`, { to: [] })).status).toBe(400);
      expect((await t.api('POST', `${base()}/messages/${message.body.id}/test`, { to: Array.from({ length: 11 }, (_, i) => `p${i}@example.com`) })).status).toBe(400);
      expect((await t.api('POST', `${base()}/messages/999999/test`, { to: ['ana@example.com'] })).status).toBe(404);
      expect(readdirSync(join(t.config.dataDir, 'outbox', '0'))).toHaveLength(before);
    });

    it('a draft is removed; a sent message leaves the lists but its sending and report stay whole', async () => {
      const draft = await newMessage('Draft to remove');
      expect((await t.api('DELETE', `${base()}/messages/${draft.body.id}`)).status).toBe(204);
      expect((await t.api('GET', `${base()}/messages/${draft.body.id}`)).status).toBe(404);
      expect((await t.api('DELETE', `${base()}/messages/${draft.body.id}`)).status).toBe(404);

      const sent = await newMessage('Sent then removed');
      const sending = await t.api<{ id: string }>('POST', `${base()}/sendings`, { messageId: sent.body.id, target: { all: true } });
      expect(sending.status).toBe(201);
      // While its sending has not ended, the message stays.
      const busy = await t.api<{ code: string }>('DELETE', `${base()}/messages/${sent.body.id}`);
      expect(busy.status).toBe(409);
      expect(busy.body.code).toBe('MessageInUse');
      await drain();
      const reportBefore = await t.api('GET', `${base()}/sendings/${sending.body.id}/report`);
      expect(reportBefore.status).toBe(200);
      expect((await t.api('DELETE', `${base()}/messages/${sent.body.id}`)).status).toBe(204);
      const list = await t.api<{ items: { id: string }[] }>('GET', `${base()}/messages`);
      expect(list.body.items.map((m) => m.id)).not.toContain(sent.body.id);
      const reportAfter = await t.api('GET', `${base()}/sendings/${sending.body.id}/report`);
      expect(reportAfter.status).toBe(200);
      expect(reportAfter.body).toEqual(reportBefore.body);
      // A removed message cannot be sent again.
      expect((await t.api('POST', `${base()}/sendings`, { messageId: sent.body.id, target: { all: true } })).status).toBe(404);
    });
  });
}
