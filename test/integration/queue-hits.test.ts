// Hits through NATS JetStream (SPEC §8, issue 13 item 1): a track process publishes, a writer process
// commits; a hit acknowledged to its client must be stored exactly once, however the writer dies.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/database.js';
import { dialects, freshDatabase } from '../helpers/harness.js';
import { type ServerProcess, startServer } from '../helpers/processes.js';
import { apiOf, dropStream, driveLoad, eventsPerContact, metric, natsAvailable, openShared, SHARED_NATS, setUpTracking, uniquePrefix, waitFor } from '../helpers/queue.js';

const ADMIN = 'queue-admin-key';
const SECRET = 'queue-secret';
const HITS = 3000;

const nats = await natsAvailable();

for (const dialect of dialects()) {
  describe.skipIf(!nats)(`hits through JetStream (${dialect})`, () => {
    let database: Awaited<ReturnType<typeof freshDatabase>>;
    let store: Store;
    const dirs: string[] = [];
    const nodes: ServerProcess[] = [];
    const prefix = uniquePrefix('hits');
    const env = (role: string) => {
      // On PostgreSQL every node has its own data dir (SPEC §8); SQLite nodes share the one database file.
      let dataDir = database.dataDir;
      if (dialect === 'postgres') {
        dataDir = mkdtempSync(join(tmpdir(), 'trackguard-node-'));
        dirs.push(dataDir);
      }
      return {
        TRACKGUARD_DATA_DIR: dataDir,
        DATABASE_URL: database.databaseUrl,
        TRACKGUARD_ADMIN_KEY: ADMIN,
        TRACKGUARD_SECRET: SECRET,
        TRACKGUARD_ROLE: role,
        TRACKGUARD_QUEUE: SHARED_NATS,
        TRACKGUARD_QUEUE_PREFIX: prefix,
      };
    };
    const start = async (role: string) => {
      const node = await startServer(['serve'], env(role));
      nodes.push(node);
      return node;
    };

    beforeAll(async () => {
      database = await freshDatabase(dialect);
      store = openShared(database.databaseUrl, database.dataDir);
    });
    afterAll(async () => {
      await Promise.all(nodes.map((n) => n.stop()));
      await store?.close();
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
      await database?.drop();
      if (nats) await dropStream(prefix);
    });

    it('stores every hit answered by a tracking process exactly once, written by a writer process', async () => {
      // SQLite is one machine: a single 'all' node publishes and writes. PostgreSQL: an api, a track and a worker node.
      const api = await start(dialect === 'sqlite' ? 'all' : 'api');
      const track = dialect === 'sqlite' ? api : await start('track');
      const worker = dialect === 'sqlite' ? api : await start('worker');
      const setup = await setUpTracking(apiOf(api.base, ADMIN), HITS);
      await waitFor(async () => (await metric(track.base, 'trackguard_queue_fallback')) === 0, 20_000, () => track.output());
      const load = await driveLoad([track.base], SECRET, setup);
      expect(load.failed).toBe(0);
      expect(load.acknowledged.size).toBe(HITS);
      await waitFor(async () => [...(await eventsPerContact(store, setup.sendingId)).values()].reduce((a, b) => a + b, 0) >= HITS, 60_000, () => worker.output());
      await new Promise((r) => setTimeout(r, 500));
      const stored = await eventsPerContact(store, setup.sendingId);
      expect(stored.size).toBe(HITS);
      for (const id of setup.contactIds) expect(stored.get(id)).toBe(1);
      // They went through JetStream, not the direct writer of the track node.
      expect(await metric(track.base, 'trackguard_queue_hits_published')).toBe(HITS);
      expect(await metric(track.base, 'trackguard_queue_hits_fallback')).toBe(0);
      // Each acknowledged publish's round trip is in the publish-latency histogram.
      expect(await metric(track.base, 'trackguard_queue_publish_seconds_count')).toBe(HITS);
      expect(await metric(track.base, 'trackguard_queue_publish_seconds_sum')).toBeGreaterThan(0);
      expect(await metric(worker.base, 'trackguard_queue_hits_consumed')).toBe(HITS);
      if (track !== worker) expect(await metric(track.base, 'trackguard_tracking_events_written')).toBe(0);
      const counters = await store.db.selectFrom('sending_stats').select('opens').where('sending_id', '=', setup.sendingId).executeTakeFirst();
      expect(counters?.opens).toBe(HITS);
    });
  });
}
