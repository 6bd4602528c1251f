// Exactly once for queued hits (SPEC §8): a batch commit records the queue messages it applied, so the
// same message delivered again — after a crash between commit and acknowledgement, or written directly
// while NATS was down and then found in the stream — is never stored twice, even by two writers at once.
import { Migrator } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchRecorder } from '../../src/services/batch-recorder.js';
import { ConsentCache } from '../../src/services/consent-cache.js';
import { migrate, openStore } from '../../src/store/database.js';
import type { NewEvent } from '../../src/store/event-batch.js';
import { migrationProvider } from '../../src/store/migrations/index.js';
import { purgeApplied } from '../../src/store/queue-applied.js';
import { createProject, dialects, freshDatabase, startTestApp, type TestApp } from '../helpers/harness.js';
import { dropStream, natsAvailable, SHARED_NATS, uniquePrefix, waitFor } from '../helpers/queue.js';

const nats = await natsAvailable();

for (const dialect of dialects()) {
  describe(`queue messages applied once (${dialect})`, () => {
    let t: TestApp;
    let pid: number;
    const eventNamed = (name: string): NewEvent => ({
      project_id: pid, type: 'web', contact_id: null, nonce: null, sending_id: null, message_id: null, link_idx: null, channel: null,
      name, url: 'https://example.com/', at: Date.now(), device: 'desktop', machine: 0, ip: null, user_agent: null,
    });
    const stored = async (name: string) =>
      Number((await t.ctx.store.db.selectFrom('events').select((eb) => eb.fn.countAll<number>().as('n')).where('project_id', '=', pid).where('name', '=', name).executeTakeFirstOrThrow()).n);

    beforeAll(async () => {
      t = await startTestApp(dialect);
      pid = Number(await createProject(t));
    });
    afterAll(async () => t?.close());

    it('skips a redelivered message and writes the rest of its batch', async () => {
      const recorder = new BatchRecorder(t.ctx.store, new ConsentCache());
      const m = (id: string, seq: number) => ({ id, stream: 'test-hits', seq });
      await recorder.record([eventNamed('r1'), eventNamed('r2')], { messages: [m('r-1', 1), m('r-2', 2)] });
      await recorder.record([eventNamed('r1'), eventNamed('r2'), eventNamed('r3')], { messages: [m('r-1', 1), m('r-2', 2), m('r-3', 3)] });
      expect([await stored('r1'), await stored('r2'), await stored('r3')]).toEqual([1, 1, 1]);
      expect(recorder.stats.alreadyApplied).toBe(2);
    });

    it('skips a message in the stream that was written directly while NATS was down', async () => {
      await t.ctx.events.write(eventNamed('direct'), 'd-1');
      await t.ctx.events.flush();
      const recorder = new BatchRecorder(t.ctx.store, new ConsentCache());
      await recorder.record([eventNamed('direct')], { messages: [{ id: 'd-1', stream: 'test-hits', seq: 7 }] });
      expect(await stored('direct')).toBe(1);
      // And the other way round: the direct write of a hit a writer already took from the stream.
      await recorder.record([eventNamed('pulled')], { messages: [{ id: 'p-1', stream: 'test-hits', seq: 8 }] });
      await t.ctx.events.write(eventNamed('pulled'), 'p-1');
      await t.ctx.events.flush();
      expect(await stored('pulled')).toBe(1);
    });

    it('stores a message once when two writers commit it at the same moment', async () => {
      const writers = [new BatchRecorder(t.ctx.store, new ConsentCache()), new BatchRecorder(t.ctx.store, new ConsentCache())];
      for (let round = 0; round < 20; round++) {
        const name = `race-${round}`;
        const messages = [{ id: `race-${round}`, stream: 'test-hits', seq: 100 + round }];
        await Promise.all(writers.map((w) => w.record([eventNamed(name)], { messages })));
        expect(await stored(name)).toBe(1);
      }
    });

    it('purges applied rows below the acknowledgement floor of their stream and those older than the stream keeps messages', async () => {
      const recorder = new BatchRecorder(t.ctx.store, new ConsentCache());
      await recorder.record([eventNamed('p')], { messages: [{ id: 'other-1', stream: 'other-hits', seq: 1 }] });
      const ids = async () => (await t.ctx.store.db.selectFrom('queue_applied').select('id').orderBy('id').execute()).map((r) => r.id);
      expect(await ids()).toContain('r-3');
      // Floor 3 of test-hits: r-1..r-3 go; the direct row (no stream), later seqs and the other stream's row stay.
      expect(await purgeApplied(t.ctx.store.db, 'test-hits', 3, 0, 1000)).toBe(3);
      const left = await ids();
      expect(left).not.toContain('r-1');
      expect(left).toEqual(expect.arrayContaining(['d-1', 'p-1', 'race-0', 'other-1']));
      // Bounded per call; and by age, every row applied before the cut-off.
      expect(await purgeApplied(t.ctx.store.db, 'none', 0, Date.now() + 1000, 2)).toBe(2);
      expect(await purgeApplied(t.ctx.store.db, 'none', 0, Date.now() + 1000, 1000)).toBe(left.length - 2);
      expect(await ids()).toEqual([]);
    });

    it.skipIf(!nats)('purges what a writer took from JetStream once the consumer has acknowledged it', async () => {
      const prefix = uniquePrefix('purge');
      const q = await startTestApp(dialect, { queueUrl: SHARED_NATS, queuePrefix: prefix });
      try {
        const queue = q.ctx.queue!;
        const quiet = { info: () => undefined, warn: () => undefined };
        queue.start(true, quiet);
        await waitFor(async () => queue.link.up, 20_000, () => 'the link did not come up');
        const qpid = Number(await createProject(q));
        const outcomes = await Promise.all(Array.from({ length: 50 }, () => queue.publisher.write({ ...eventNamed('queued'), project_id: qpid })));
        expect(outcomes.every((o) => o === 'pending')).toBe(true);
        expect(queue.publisher.stats.published).toBe(50);
        const applied = () => q.ctx.store.db.selectFrom('queue_applied').select('id').where('stream', '=', queue.link.names.stream).execute();
        await waitFor(async () => (await applied()).length === 50, 20_000, () => `consumed ${queue.consumer.stats.consumed}`);
        // The acknowledgements reach the server a moment after the commit; then every row is below the floor.
        await waitFor(async () => (await queue.consumer.purge()) >= 0 && (await applied()).length === 0, 20_000, () => 'rows left above the ack floor');
        const events = await q.ctx.store.db.selectFrom('events').select('id').where('project_id', '=', qpid).execute();
        expect(events).toHaveLength(50);
      } finally {
        await q.close();
        await dropStream(prefix);
      }
    });
  });

  it(`applies 0012 to a database that already has later migrations (${dialect})`, async () => {
    const database = await freshDatabase(dialect);
    const store = openStore({ databaseUrl: database.databaseUrl, dataDir: database.dataDir });
    try {
      // A database migrated before 0012 existed: everything but it.
      const all = await migrationProvider(dialect).getMigrations();
      const without = Object.fromEntries(Object.entries(all).filter(([name]) => name !== '0012-queue-applied'));
      const { error } = await new Migrator({ db: store.db, provider: { getMigrations: async () => without } }).migrateToLatest();
      expect(error).toBeUndefined();
      await migrate(store);
      expect(await store.db.selectFrom('queue_applied').selectAll().execute()).toEqual([]);
    } finally {
      await store.close();
      await database.drop();
    }
  });
}
