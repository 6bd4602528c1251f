// An untracked recipient (opt-in mode, unanswered) was told "you can refuse the tracking" of an email that does
// not track them, always in English (issue 12 item 10): the footer says what applies to each recipient, in the
// project's language, and the project can word it itself.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, dialects, startTestApp, type TestApp } from '../helpers/harness.js';

for (const dialect of dialects()) {
  describe(`the email footer per recipient and language (${dialect})`, () => {
    let t: TestApp;
    let pid: string;
    const base = () => `/api/v1/projects/${pid}`;

    async function sendAndRead(): Promise<Map<string, { html: string; text: string }>> {
      const message = await t.api<{ id: string }>('POST', `${base()}/messages`, { channel: 'email', name: 'n', communicationType: 'newsletter', subject: 'S', html: '<html><body><p>Hi</p></body></html>', text: 'Hi' });
      const sending = await t.api<{ id: string }>('POST', `${base()}/sendings`, { messageId: message.body.id, target: { all: true } });
      while (await t.ctx.jobs.runOnce()) {
        // deliver
      }
      const dir = join(t.config.dataDir, 'outbox', sending.body.id);
      const mails = await Promise.all(readdirSync(dir).map((f) => simpleParser(readFileSync(join(dir, f)))));
      return new Map(mails.map((m) => [m.to && !Array.isArray(m.to) ? m.to.text : '', { html: String(m.html), text: String(m.text) }]));
    }

    beforeAll(async () => {
      t = await startTestApp(dialect);
      pid = await createProject(t, { tracking: { enabled: true, mode: 'opt-in' } });
      await t.api('POST', `${base()}/contacts/merge`, { records: [{ email: 'yes@example.com', hasTrackingConsent: true }, { email: 'unanswered@example.com' }] });
    });
    afterAll(() => t?.close());

    it('tells a tracked recipient how to refuse and an untracked one that nothing is measured, both linking to their preferences', async () => {
      const mails = await sendAndRead();
      const tracked = mails.get('yes@example.com')!;
      const untracked = mails.get('unanswered@example.com')!;
      expect(tracked.text).toMatch(/We measure the opens and clicks of this email\. You can refuse it at any time: http\S+\/f\/tracking-optout\//);
      expect(untracked.text).toMatch(/are not measured for you\. If you wish to allow it: http\S+\/f\/tracking-optout\//);
      expect(untracked.text).not.toMatch(/refuse/i);
      expect(untracked.html).not.toMatch(/refuse/i);
      expect(tracked.html).toContain('tracking preferences</a>');
    });

    it("follows the project's language and its own wording, escaped in HTML", async () => {
      const patched = await t.api<{ language: string }>('PATCH', base(), { language: 'fr', emailFooter: { fr: { untracked: 'Rien n’est mesuré pour vous <b>ici</b>. Pour changer :' } } });
      expect(patched.status).toBe(200);
      expect(patched.body.language).toBe('fr');
      const mails = await sendAndRead();
      expect(mails.get('yes@example.com')!.text).toMatch(/Nous mesurons les ouvertures et les clics de ce courriel\. Vous pouvez le refuser à tout moment : http/);
      const untracked = mails.get('unanswered@example.com')!;
      expect(untracked.text).toMatch(/Rien n’est mesuré pour vous <b>ici<\/b>\. Pour changer : http/);
      expect(untracked.html).toContain('&lt;b&gt;ici&lt;/b&gt;');
      expect(untracked.html).toContain('préférences de suivi</a>');
      expect((await t.api<{ errors: { field: string; reason: string }[] }>('PATCH', base(), { language: 'de' })).body.errors[0]).toMatchObject({ field: 'language', reason: 'must be one of en, fr' });
    });

    it('is left out when the project turns the footer off', async () => {
      await t.api('PATCH', base(), { tracking: { optOutFooter: false } });
      const mails = await sendAndRead();
      for (const mail of mails.values()) expect(mail.text).not.toMatch(/tracking-optout|mesur/);
    });
  });
}
