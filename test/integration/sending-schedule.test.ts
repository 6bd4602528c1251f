// A sending can wait for its time and be called off before it starts (issue 12 item 7, SPEC §6): nothing leaves
// early, a cancelled one never sends, one that started cannot be cancelled, and a scheduled one reaches the
// contacts that exist at its time.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, dialects, startTestApp, type TestApp } from '../helpers/harness.js';

interface SendingBody {
  id: string;
  status: string;
  targeted: number;
  delivered: number;
  scheduledAt: string | null;
  cancelledAt: string | null;
}

for (const dialect of dialects()) {
  describe(`scheduled and cancelled sendings (${dialect})`, () => {
    let now = Date.UTC(2026, 11, 1, 9);
    let t: TestApp;
    let pid: string;
    let mid: string;
    const base = () => `/api/v1/projects/${pid}`;
    const drain = async () => {
      while (await t.ctx.jobs.runOnce()) {
        // every due step
      }
    };
    const outbox = (sid: string) => {
      const dir = join(t.config.dataDir, 'outbox', sid);
      return existsSync(dir) ? readdirSync(dir).length : 0;
    };

    beforeAll(async () => {
      t = await startTestApp(dialect, {}, () => now);
      pid = await createProject(t);
      await t.api('POST', `${base()}/contacts/merge`, { records: [{ email: 'a@example.com' }, { email: 'b@example.com' }] });
      mid = (await t.api<{ id: string }>('POST', `${base()}/messages`, { channel: 'email', name: 'n', communicationType: 'newsletter', subject: 'S', text: 'hi' })).body.id;
    });
    afterAll(() => t?.close());

    it('waits until scheduledAt, then reaches the contacts that exist at that time', async () => {
      const at = new Date(now + 3_600_000).toISOString();
      const created = await t.api<SendingBody>('POST', `${base()}/sendings`, { messageId: mid, target: { all: true }, scheduledAt: at });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ status: 'queued', scheduledAt: at });
      await drain();
      expect((await t.api<SendingBody>('GET', `${base()}/sendings/${created.body.id}`)).body.status).toBe('queued');
      expect(outbox(created.body.id)).toBe(0);
      await t.api('POST', `${base()}/contacts/merge`, { records: [{ email: 'late@example.com' }] });
      now += 3_600_000 + 1000;
      await drain();
      const done = await t.api<SendingBody>('GET', `${base()}/sendings/${created.body.id}`);
      expect(done.body).toMatchObject({ status: 'sent', targeted: 3, delivered: 3 });
      expect(outbox(created.body.id)).toBe(3);
    });

    it('a cancelled sending never sends; one that started cannot be cancelled', async () => {
      const scheduled = await t.api<SendingBody>('POST', `${base()}/sendings`, { messageId: mid, target: { all: true }, scheduledAt: new Date(now + 60_000).toISOString() });
      const cancelled = await t.api<SendingBody>('POST', `${base()}/sendings/${scheduled.body.id}/cancel`);
      expect(cancelled.status).toBe(200);
      expect(cancelled.body.status).toBe('cancelled');
      expect(cancelled.body.cancelledAt).not.toBeNull();
      now += 120_000;
      await drain();
      expect((await t.api<SendingBody>('GET', `${base()}/sendings/${scheduled.body.id}`)).body).toMatchObject({ status: 'cancelled', delivered: 0 });
      expect(outbox(scheduled.body.id)).toBe(0);
      // Cancelling again is harmless.
      expect((await t.api<SendingBody>('POST', `${base()}/sendings/${scheduled.body.id}/cancel`)).body.status).toBe('cancelled');

      const immediate = await t.api<SendingBody>('POST', `${base()}/sendings`, { messageId: mid, target: { all: true } });
      await drain();
      const refused = await t.api<{ code: string }>('POST', `${base()}/sendings/${immediate.body.id}/cancel`);
      expect(refused.status).toBe(409);
      expect(refused.body.code).toBe('SendingStarted');
      expect((await t.api('POST', `${base()}/sendings/999999/cancel`)).status).toBe(404);
    });

    it('a scheduledAt in the past or beyond a year, or not a date, is a problem naming the field', async () => {
      for (const scheduledAt of [new Date(now - 86_400_000).toISOString(), new Date(now + 400 * 86_400_000).toISOString(), 'tomorrow']) {
        const res = await t.api<{ errors: { field: string }[] }>('POST', `${base()}/sendings`, { messageId: mid, target: { all: true }, scheduledAt });
        expect(res.status, scheduledAt).toBe(400);
        expect(res.body.errors[0]?.field).toBe('scheduledAt');
      }
    });
  });
}
