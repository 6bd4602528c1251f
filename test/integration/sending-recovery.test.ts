// A worker that stops between handing messages to the transport and recording them (issue 9 item 6) must cost at
// most what it had in flight: the next runner counts what the transport holds as delivered, sends again only what
// it can prove absent, counts the rest `lost` — and the stalled worker's late answers change nothing.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { type AppContext, createContext } from '../../src/context.js';
import type { OutgoingMessage, Transport } from '../../src/transport/transport.js';
import { ADMIN_KEY, dialects, freshDatabase } from '../helpers/harness.js';

const T0 = Date.UTC(2026, 10, 29, 8, 0, 0);

/** The context's transport, so a test can stand between the sending job and it. */
const transportOf = (ctx: AppContext): Transport => (ctx.sendings as unknown as { transport: Transport }).transport;

for (const dialect of dialects()) {
  describe(`sending recovery (${dialect})`, () => {
    let database: Awaited<ReturnType<typeof freshDatabase>>;
    beforeAll(async () => {
      database = await freshDatabase(dialect);
    });
    afterAll(async () => {
      await database?.drop();
    });

    async function scenario(transport: 'outbox' | 'null', contacts: number) {
      const config = loadConfig({}, { dataDir: database.dataDir, databaseUrl: database.databaseUrl, adminKey: ADMIN_KEY, secrets: ['s'], logLevel: 'warn', transport });
      // Two workers: the first stalls mid-window; the second's clock is past the first one's lease.
      const first = await createContext(config, () => T0);
      const second = await createContext(config, () => T0 + 60_000);
      const project = await first.projects.create(`recovery-${transport}`);
      await first.projects.update(project.id, { settings: { tracking: { enabled: true } } }, 'test');
      const records = Array.from({ length: contacts }, (_, i) => ({ email: `r${i}@${transport}.test`, hasTrackingConsent: i % 2 }));
      await first.contacts.merge(project.id, records, { source: 'test' });
      const { message } = await first.messages.create(project.id, { channel: 'email', name: 'n', communicationType: 'newsletter', subject: 'S', html: '<p>hi</p>' });
      const sending = await first.sendings.create(project.id, { messageId: message.id, target: { all: true } });

      const handed = new Map<string, number>();
      const count = (m: OutgoingMessage) => handed.set(m.recipientKey, (handed.get(m.recipientKey) ?? 0) + 1);
      let release: () => void = () => undefined;
      const gate = new Promise<void>((r) => {
        release = r;
      });
      const stalled = transportOf(first);
      const realSend = stalled.send.bind(stalled);
      let n = 0;
      stalled.send = async (m) => {
        count(m);
        if (++n <= 20) return realSend(m);
        // A write the stall cut short, as kill -9 leaves one.
        if (transport === 'outbox') {
          const dir = join(config.dataDir, 'outbox', String(m.sendingId));
          mkdirSync(dir, { recursive: true });
          writeFileSync(join(dir, `${m.recipientKey}.eml.part`), 'From: half');
        }
        await gate;
        throw new Error('worker gone');
      };
      const other = transportOf(second);
      const otherSend = other.send.bind(other);
      other.send = async (m) => {
        count(m);
        return otherSend(m);
      };

      const stuck = first.jobs.runOnce();
      // Windows of 16, two in flight: 1–16 recorded, 17–48 handed over (17–20 acknowledged, 21–48 hanging), 49–60 not reached.
      for (let i = 0; i < 200 && n < 48; i++) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 50));
      expect(n).toBe(48);
      while (await second.jobs.runOnce()) {
        // the second worker recovers the window in flight and finishes the sending
      }
      const done = await second.sendings.get(project.id, sending.id);
      // The stalled worker wakes up: its late record must change nothing.
      release();
      await stuck;
      const after = await second.sendings.get(project.id, sending.id);
      const deliveries = await second.store.db
        .selectFrom('deliveries')
        .select(['contact_id', 'status'])
        .where('project_id', '=', project.id)
        .where('sending_id', '=', sending.id)
        .execute();
      const report = await second.reports.sendingReport(project.id, sending.id);
      await first.close();
      await second.close();
      return { config, sending, done, after, handed, deliveries, report };
    }

    it('a worker stopped mid-window over the outbox: whole files count delivered, .part files go, the absent ones are sent again, nothing is lost or sent twice', async () => {
      const { config, sending, done, after, deliveries, report } = await scenario('outbox', 60);
      expect(done).toMatchObject({ status: 'sent', delivered: 60, failed: 0, lost: 0, tracked: 30, untracked: 30 });
      expect(after).toEqual(done);
      const dir = join(config.dataDir, 'outbox', String(sending.id));
      const files = readdirSync(dir);
      expect(files.filter((f) => f.endsWith('.eml'))).toHaveLength(60);
      expect(files.filter((f) => f.endsWith('.part'))).toEqual([]);
      expect(deliveries).toHaveLength(30);
      expect(deliveries.every((d) => d.status === 'sent')).toBe(true);
      expect(report.recipients).toMatchObject({ delivered: 60, lost: 0 });
      expect(report.warnings).toEqual([]);
    });

    it('a worker stopped mid-window over a transport that cannot tell: what was in flight is counted lost, never handed over twice, and the sending says so', async () => {
      const { done, after, handed, deliveries, report } = await scenario('null', 60);
      // Messages 1–16 were recorded; 17–48 were in flight (17–20 acknowledged but not recorded): lost, whatever happened to them.
      expect(done).toMatchObject({ status: 'sent', delivered: 28, failed: 0, lost: 32, tracked: 30, untracked: 30 });
      expect(after).toEqual(done);
      expect([...handed.values()].filter((times) => times > 1)).toEqual([]);
      expect(handed.size).toBe(60);
      expect(deliveries.filter((d) => d.status === 'lost')).toHaveLength(16);
      expect(deliveries.filter((d) => d.status === 'sent')).toHaveLength(14);
      expect(deliveries.filter((d) => d.status === 'pending')).toEqual([]);
      expect(report.recipients).toMatchObject({ delivered: 28, lost: 32 });
      expect(report.warnings).toEqual([expect.objectContaining({ code: 'MessagesLost', count: 32 })]);
    });

    it('at start, pending delivery rows of a finished sending are reconciled and .part files of sendings no longer running removed, a running one left alone', async () => {
      const config = loadConfig({}, { dataDir: database.dataDir, databaseUrl: database.databaseUrl, adminKey: ADMIN_KEY, secrets: ['s'], logLevel: 'warn', transport: 'outbox' });
      const ctx = await createContext(config, () => T0);
      try {
        const project = await ctx.projects.create('leftovers');
        await ctx.projects.update(project.id, { settings: { tracking: { enabled: true } } }, 'test');
        const merged = await ctx.contacts.merge(project.id, Array.from({ length: 4 }, (_, i) => ({ email: `l${i}@x.test`, hasTrackingConsent: 1 })), { source: 'test' });
        const ids = merged.map((r) => Number(r.contactId));
        const { message } = await ctx.messages.create(project.id, { channel: 'email', name: 'n', communicationType: 'newsletter', subject: 'S', html: '<p>hi</p>' });
        const finished = await ctx.sendings.create(project.id, { messageId: message.id, target: { all: true } });
        const running = await ctx.sendings.create(project.id, { messageId: message.id, target: { all: true } });
        const db = ctx.store.db;
        // What a crash under the earlier release left: a sending marked sent with two rows pending, one of them written.
        await db.updateTable('sendings').set({ status: 'sent', delivered: 2, cursor: null }).where('id', '=', finished.id).execute();
        await db
          .insertInto('deliveries')
          .values(ids.map((id, i) => ({ project_id: project.id, sending_id: finished.id, contact_id: id, status: i < 2 ? 'sent' : 'pending', at: T0 })))
          .execute();
        const outbox = (id: number) => join(config.dataDir, 'outbox', String(id));
        for (const id of [finished.id, running.id]) mkdirSync(outbox(id), { recursive: true });
        writeFileSync(join(outbox(finished.id), `${ids[2]}.eml`), 'whole');
        writeFileSync(join(outbox(finished.id), `${ids[3]}.eml.part`), 'half');
        writeFileSync(join(outbox(finished.id), '999.eml.part'), 'half, of no pending row');
        writeFileSync(join(outbox(running.id), `${ids[0]}.eml.part`), 'being written');

        expect(await ctx.sendings.recoverAtStart()).toEqual({ pendingRows: 2, partialFiles: 1 });
        const rows = await db.selectFrom('deliveries').select(['contact_id', 'status']).where('sending_id', '=', finished.id).orderBy('contact_id').execute();
        expect(rows.map((r) => r.status)).toEqual(['sent', 'sent', 'sent', 'lost']);
        expect(await ctx.sendings.get(project.id, finished.id)).toMatchObject({ status: 'sent', delivered: 3, lost: 1 });
        expect(readdirSync(outbox(finished.id)).filter((f) => f.endsWith('.part'))).toEqual([]);
        expect(existsSync(join(outbox(running.id), `${ids[0]}.eml.part`))).toBe(true);
      } finally {
        await ctx.close();
      }
    });
  });
}
