// The sending job is durable: it resumes from its contact-id cursor after a
// restart or a crashed runner, and never hands one contact the message twice.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { type AppContext, createContext } from '../../src/context.js';
import { ADMIN_KEY, createProject, dialects, freshDatabase, startTestApp, type TestApp } from '../helpers/harness.js';

async function drain(ctx: AppContext): Promise<void> {
  while (await ctx.jobs.runOnce()) {
    // run every due step
  }
}

function outboxFiles(dataDir: string, sendingId: number | string): string[] {
  try {
    return readdirSync(join(dataDir, 'outbox', String(sendingId))).filter((f) => !f.startsWith('.'));
  } catch {
    return [];
  }
}

for (const dialect of dialects()) {
  describe(`sending job (${dialect})`, () => {
    it('resumes after a restart and after a crashed runner, sending each contact exactly once', async () => {
      const database = await freshDatabase(dialect);
      let now = Date.UTC(2026, 10, 29, 8, 0, 0);
      const clock = () => now;
      const config = loadConfig({}, { dataDir: database.dataDir, databaseUrl: database.databaseUrl, adminKey: ADMIN_KEY, secrets: ['s'], logLevel: 'warn' });
      let ctx = await createContext(config, clock);
      try {
        const project = await ctx.projects.create('restart');
        await ctx.projects.update(project.id, { settings: { tracking: { enabled: true } } }, 'test');
        const records = Array.from({ length: 450 }, (_, i) => ({ email: `r${i}@example.com`, hasTrackingConsent: i % 3 === 0 ? 0 : 1 }));
        await ctx.contacts.merge(project.id, records, { source: 'test' });
        const { message } = await ctx.messages.create(project.id, { channel: 'email', name: 'n', communicationType: 'newsletter', subject: 'S', html: '<p><a href="https://example.com/">x</a></p>' });
        const sending = await ctx.sendings.create(project.id, { messageId: message.id, target: { all: true } });

        // One batch, then the process stops.
        expect(await ctx.jobs.runOnce()).toBe(true);
        await ctx.close();
        expect(outboxFiles(config.dataDir, sending.id)).toHaveLength(200);

        // A new process claims the job; it dies while holding the lease (lease set, step never finished).
        ctx = await createContext(config, clock);
        const claimed = await ctx.store.db.updateTable('jobs').set({ lease_until: now + 60_000 }).where('kind', '=', 'sending').executeTakeFirst();
        expect(Number(claimed.numUpdatedRows)).toBe(1);
        expect(await ctx.jobs.runOnce()).toBe(false);
        await ctx.close();

        // After the lease lapses a third process finishes the sending.
        now += 120_000;
        ctx = await createContext(config, clock);
        await drain(ctx);
        const done = await ctx.sendings.get(project.id, sending.id);
        expect(done).toMatchObject({ status: 'sent', targeted: 450, tracked: 300, untracked: 150, delivered: 450, failed: 0 });
        const files = outboxFiles(config.dataDir, sending.id);
        expect(files).toHaveLength(450);
        const recipients = files.map((f) => readFileSync(join(config.dataDir, 'outbox', String(sending.id), f), 'utf8').match(/^To: (.+)$/m)?.[1]?.trim());
        expect(new Set(recipients).size).toBe(450);
        const deliveries = await ctx.store.db.selectFrom('deliveries').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
        expect(Number(deliveries.n)).toBe(300);
        const row = await ctx.store.db.selectFrom('sendings').select('cursor').where('id', '=', sending.id).executeTakeFirstOrThrow();
        expect(row.cursor).toBeNull();
      } finally {
        await ctx.close();
        await database.drop();
      }
    });
  });

  describe(`instant clicks (${dialect})`, () => {
    it("flags a click within 2 s of that recipient's delivery as machine, even late in a long sending", async () => {
      const database = await freshDatabase(dialect);
      let now = Date.UTC(2026, 10, 29, 9, 0, 0);
      const clock = () => now;
      const config = loadConfig({}, { dataDir: database.dataDir, databaseUrl: database.databaseUrl, adminKey: ADMIN_KEY, secrets: ['s'], logLevel: 'warn' });
      const ctx = await createContext(config, clock);
      try {
        const project = await ctx.projects.create('instant');
        await ctx.contacts.merge(project.id, Array.from({ length: 250 }, (_, i) => ({ email: `i${i}@example.com` })), { source: 'test' });
        const { message } = await ctx.messages.create(project.id, { channel: 'email', name: 'n', communicationType: 'newsletter', subject: 'S', html: '<a href="https://example.com/">x</a>' });
        const sending = await ctx.sendings.create(project.id, { messageId: message.id, target: { all: true } });
        await ctx.jobs.runOnce(); // first batch of 200 at T0
        now += 60_000;
        await drain(ctx); // the last 50 a minute later
        const last = readFileSync(join(config.dataDir, 'outbox', String(sending.id), '250.eml'), 'utf8').replace(/=\r?\n/g, '');
        const token = /\/t\/c\/([A-Za-z0-9_-]+)/.exec(last)![1]!;
        const request = { method: 'GET', userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0', ip: '192.0.2.1', headers: {} };
        now += 1_000;
        await ctx.tracking.hit('click', token, request);
        now += 9_000;
        await ctx.tracking.hit('click', token, request);
        await ctx.events.flush();
        const clicks = await ctx.store.db.selectFrom('events').select('machine').where('type', '=', 'click').orderBy('id').execute();
        expect(clicks.map((c) => c.machine)).toEqual([1, 0]);
      } finally {
        await ctx.close();
        await database.drop();
      }
    });
  });

  describe(`sending targets and channels (${dialect})`, () => {
    let t: TestApp;
    let pid: string;
    let ids: string[];
    beforeAll(async () => {
      t = await startTestApp(dialect);
      pid = await createProject(t, { tracking: { enabled: true, mode: 'opt-in' } });
      const merged = await t.api<{ results: { contactId: string }[] }>('POST', `/api/v1/projects/${pid}/contacts/merge`, {
        records: [
          { email: 'a@example.com', phone: '+15145550001', externalId: 'dev-a', hasTrackingConsent: 1, fields: { plan: 'pro' } },
          { email: 'b@example.com', phone: '+15145550002', fields: { plan: 'pro' } },
          { email: 'c@example.com', fields: { plan: 'free' } },
          { email: 'd@example.com', status: 'inactive', fields: { plan: 'pro' } },
        ],
      });
      ids = merged.body.results.map((r) => r.contactId);
    });
    afterAll(async () => t?.close());

    async function send(messageId: string, target: unknown) {
      const res = await t.api<{ id: string; targeted: number }>('POST', `/api/v1/projects/${pid}/sendings`, { messageId, target });
      expect(res.status).toBe(201);
      while (await t.ctx.jobs.runOnce()) {
        // drain
      }
      return (await t.api<{ id: string; status: string; targeted: number; tracked: number; untracked: number; delivered: number }>('GET', `/api/v1/projects/${pid}/sendings/${res.body.id}`)).body;
    }

    it('targets a dynamic group and skips inactive contacts; opt-in leaves unanswered contacts untracked', async () => {
      const group = await t.api<{ id: string }>('POST', `/api/v1/projects/${pid}/groups`, { name: 'pro', type: 'dynamic', criteria: { field: 'fields.plan', op: 'eq', value: 'pro' } });
      expect(group.status).toBe(201);
      const message = await t.api<{ id: string }>('POST', `/api/v1/projects/${pid}/messages`, { channel: 'email', name: 'g', communicationType: 'newsletter', subject: 'S', text: 'hi https://example.com/x' });
      const sending = await send(message.body.id, { groupId: group.body.id });
      expect(sending).toMatchObject({ status: 'sent', targeted: 2, tracked: 1, untracked: 1, delivered: 2 });
    });

    it('targets a list of ids and sends SMS with a short tracked link', async () => {
      const message = await t.api<{ id: string }>('POST', `/api/v1/projects/${pid}/messages`, { channel: 'sms', name: 's', communicationType: 'transactional', text: 'Your code: https://example.com/c?id=1' });
      const sending = await send(message.body.id, { contactIds: [ids[0], ids[1], ids[2]] });
      expect(sending).toMatchObject({ targeted: 2, delivered: 2 });
      // Once sent, the stored target keeps only tracked recipients: nothing shows an untracked one was targeted.
      const stored = await t.api<{ target: { contactIds: string[] } }>('GET', `/api/v1/projects/${pid}/sendings/${sending.id}`);
      expect(stored.body.target.contactIds.map(String)).toEqual([ids[0]]);
      const dir = join(t.config.dataDir, 'outbox', sending.id);
      const payloads = readdirSync(dir).map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as { to: string; text: string });
      for (const p of payloads) {
        const link = /(http\S+\/t\/c\/\S+)/.exec(p.text)?.[1] ?? '';
        expect(link.replace(t.config.publicUrl, 'https://x.io')).toMatch(/^https:\/\/x\.io\/t\/c\/[A-Za-z0-9_-]+$/);
        expect(link.replace(t.config.publicUrl, 'https://x.io').length).toBeLessThan(60);
      }
    });

    it('rejects a template error when the message is saved, naming the field', async () => {
      const res = await t.api<{ errors: { field: string }[] }>('POST', `/api/v1/projects/${pid}/messages`, { channel: 'email', name: 'bad', communicationType: 'newsletter', subject: 'S', html: '<p>{{contact.first name}}</p>' });
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.body.errors[0]?.field).toBe('html');
    });

    it("answers 404 for another project's message, sending or group", async () => {
      const other = await createProject(t);
      const message = await t.api<{ id: string }>('POST', `/api/v1/projects/${pid}/messages`, { channel: 'email', name: 'm', communicationType: 'newsletter', subject: 'S', text: 'x' });
      const res = await t.api('POST', `/api/v1/projects/${other}/sendings`, { messageId: message.body.id, target: { all: true } });
      expect(res.status).toBe(404);
      const key = await t.api<{ key: string }>('POST', `/api/v1/projects/${other}/keys`, {});
      const report = await t.api('GET', `/api/v1/projects/${pid}/sendings/1/report`, undefined, key.body.key);
      expect(report.status).toBe(404);
    });
  });
}
