// The admin app's message editor saves through PATCH: a draft changes, but a message that has been
// sent keeps its content, since its sendings' links and results are read against it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, dialects, startTestApp, type TestApp } from '../helpers/harness.js';

interface MessageBody {
  id: string;
  name: string;
  subject: string | null;
  html: string | null;
  text: string | null;
  links: string[];
}

for (const dialect of dialects()) {
  describe(`editing a message (${dialect})`, () => {
    let t: TestApp;
    let pid: string;
    const base = () => `/api/v1/projects/${pid}`;

    beforeAll(async () => {
      t = await startTestApp(dialect);
      pid = await createProject(t);
      await t.api('POST', `${base()}/contacts/merge`, { records: [{ email: 'ana@example.com' }] });
    });
    afterAll(async () => t?.close());

    const draft = () =>
      t.api<MessageBody>('POST', `${base()}/messages`, { channel: 'email', name: 'Draft', communicationType: 'newsletter', subject: 'Hi', html: '<a href="https://example.com/a">A</a>' });

    it('a draft changes and answers its new links', async () => {
      const created = await draft();
      const res = await t.api<MessageBody>('PATCH', `${base()}/messages/${created.body.id}`, { name: 'Renamed', html: '<a href="https://example.com/b">B</a>', text: 'B' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ name: 'Renamed', subject: 'Hi', text: 'B', links: ['https://example.com/b'] });
      const read = await t.api<MessageBody>('GET', `${base()}/messages/${created.body.id}`);
      expect(read.body.html).toBe('<a href="https://example.com/b">B</a>');
    });

    it('a bad merge tag or a missing subject is a problem naming the field, and nothing changes', async () => {
      const created = await draft();
      const tag = await t.api<{ errors: { field: string; reason: string }[] }>('PATCH', `${base()}/messages/${created.body.id}`, { html: '<p>\n{{contact.}}</p>' });
      expect(tag.status).toBe(400);
      expect(tag.body.errors[0]).toEqual({ field: 'html', reason: expect.stringContaining('line 2') });
      const subject = await t.api<{ errors: { field: string }[] }>('PATCH', `${base()}/messages/${created.body.id}`, { subject: null });
      expect(subject.status).toBe(400);
      expect(subject.body.errors[0]?.field).toBe('subject');
      const read = await t.api<MessageBody>('GET', `${base()}/messages/${created.body.id}`);
      expect(read.body).toMatchObject({ subject: 'Hi', html: '<a href="https://example.com/a">A</a>' });
    });

    it('a message that has been sent is refused with 409 MessageAlreadySent', async () => {
      const created = await draft();
      const sending = await t.api('POST', `${base()}/sendings`, { messageId: created.body.id, target: { all: true } });
      expect(sending.status).toBe(201);
      const res = await t.api<{ code: string }>('PATCH', `${base()}/messages/${created.body.id}`, { subject: 'Changed' });
      expect(res.status).toBe(409);
      expect(res.body.code).toBe('MessageAlreadySent');
    });

    it('an unknown message is a 404', async () => {
      const res = await t.api<{ code: string }>('PATCH', `${base()}/messages/99999`, { name: 'x' });
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('MessageNotFound');
    });
  });
}
