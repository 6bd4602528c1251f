// A tracking hit is acknowledged only when durable; when the database is busy the
// hit journal makes it durable at once, and a replay after a crash applies exactly
// the batches the database lacks — no hit lost, none counted twice.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../src/domain/token.js';
import { BatchRecorder } from '../../src/services/batch-recorder.js';
import { ConsentCache } from '../../src/services/consent-cache.js';
import { EventWriter, type NewEvent } from '../../src/services/event-writer.js';
import { HitJournal } from '../../src/store/hit-journal.js';
import { createProject, dialects, startTestApp, type TestApp } from '../helpers/harness.js';

const count = async (t: TestApp) =>
  Number((await t.ctx.store.db.selectFrom('events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

for (const dialect of dialects()) {
  describe(`hit journal (${dialect})`, () => {
    let t: TestApp;
    let pid: number;
    let sendingId: number;

    beforeAll(async () => {
      t = await startTestApp(dialect);
      pid = Number(await createProject(t));
      await t.api('POST', `/api/v1/projects/${pid}/contacts/merge`, { records: [{ email: 'a@example.com' }] });
      const message = await t.api<{ id: string }>('POST', `/api/v1/projects/${pid}/messages`, { channel: 'email', name: 'm', communicationType: 'newsletter', subject: 's', html: '<a href="https://example.com/x">x</a>' });
      const sending = await t.api<{ id: string }>('POST', `/api/v1/projects/${pid}/sendings`, { messageId: message.body.id, target: { all: true } });
      sendingId = Number(sending.body.id);
      while (await t.ctx.jobs.runOnce()) {
        // drain
      }
    });
    afterAll(async () => t?.close());

    it('answers a click fast while the database is busy, then stores it once the database frees up', async () => {
      const token = signToken(t.config.secrets[0]!, { kind: 'click', sendingId, linkIdx: 1, recipient: { nonce: 'AAAAAAAAAAA' } });
      const before = await count(t);
      let release: () => void = () => undefined;
      const held = new Promise<void>((r) => {
        release = r;
      });
      let blocker: Promise<unknown>;
      let client: pg.Client | undefined;
      if (dialect === 'sqlite') {
        // A long write transaction holds SQLite's write lock (as a big import batch would).
        blocker = t.ctx.store.db.transaction().execute(async (trx) => {
          await trx.insertInto('meta').values({ key: 'test-lock', value: '1' }).execute();
          await held;
        });
      } else {
        client = new pg.Client({ connectionString: t.config.databaseUrl });
        await client.connect();
        await client.query('BEGIN');
        await client.query('LOCK TABLE events IN ACCESS EXCLUSIVE MODE');
        blocker = held.then(() => client!.query('COMMIT'));
      }
      await new Promise((r) => setTimeout(r, 20));
      const journaledBefore = t.ctx.events.stats.journaled;
      // The lock is released only after the answer: a redirect that waited for
      // the database would never come. The counter proves it came from the journal.
      const res = await t.app.inject({ method: 'GET', url: `/t/c/${token}`, headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux) Firefox/128.0' } });
      expect(res.statusCode).toBe(302);
      expect(t.ctx.events.stats.journaled).toBe(journaledBefore + 1);
      release();
      await blocker;
      await client?.end();
      await t.ctx.events.flush();
      expect(await count(t)).toBe(before + 1);
    });

    it.runIf(dialect === 'sqlite')('answers fast while another process holds the SQLite write lock', async () => {
      const token = signToken(t.config.secrets[0]!, { kind: 'open', sendingId, linkIdx: 0, recipient: { nonce: 'BBBBBBBBBBA' } });
      const before = await count(t);
      // Another connection (as another process would) takes the write lock and keeps it.
      const other = new SQLite(join(t.config.dataDir, 'trackguard.sqlite'));
      other.pragma('busy_timeout = 10000');
      other.exec('BEGIN IMMEDIATE');
      try {
        const journaledBefore = t.ctx.events.stats.journaled;
        // busy_timeout is 10 s and the lock is held until after the answer: the
        // pixel is answered from the journal, not after the lock.
        const res = await t.app.inject({ method: 'GET', url: `/t/o/${token}`, headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux) Firefox/128.0' } });
        expect(res.statusCode).toBe(200);
        expect(t.ctx.events.stats.journaled).toBe(journaledBefore + 1);
        expect(await count(t)).toBe(before);
      } finally {
        other.exec('COMMIT');
        other.close();
      }
      await t.ctx.events.flush();
      expect(await count(t)).toBe(before + 1);
    });

    it('replays a dead process journal, skipping the batches its transactions committed', async () => {
      const dir = join(t.config.dataDir, 'journal-replay');
      mkdirSync(dir, { recursive: true });
      const name = 'hits-999999-1.log';
      const event = (n: number): NewEvent => ({ project_id: pid, type: 'open', contact_id: null, nonce: `n${n}`, sending_id: sendingId, message_id: null, link_idx: null, at: 60_000 * n, machine: 0 });
      const lines = [1, 2, 3].map((b) => JSON.stringify({ batch: b, events: [event(b), event(b + 10)] }));
      writeFileSync(join(dir, name), `${lines.join('\n')}\n{"batch":4,"events":[{"proj`);
      await t.ctx.store.db.insertInto('meta').values({ key: HitJournal.metaKey(name), value: '1' }).execute();
      const before = await count(t);
      const applied = await EventWriter.replay(t.ctx.store.db, new BatchRecorder(t.ctx.store, new ConsentCache()), dir);
      expect(applied).toBe(4);
      expect(await count(t)).toBe(before + 4);
      const nonces = await t.ctx.store.db.selectFrom('events').select('nonce').where('nonce', 'in', ['n1', 'n2', 'n3', 'n12', 'n13']).execute();
      expect(nonces.map((r) => r.nonce).sort()).toEqual(['n12', 'n13', 'n2', 'n3']);
      expect(await HitJournal.orphans(dir)).toEqual([]);
      expect(await t.ctx.store.db.selectFrom('meta').select('key').where('key', '=', HitJournal.metaKey(name)).executeTakeFirst()).toBeUndefined();
      // Running it again applies nothing.
      expect(await EventWriter.replay(t.ctx.store.db, new BatchRecorder(t.ctx.store, new ConsentCache()), dir)).toBe(0);
    });
  });
}
