// Draining a node (README, "Running on several machines"): SIGTERM to a track process and to the writer under
// load. A stopping track process stops accepting, answers what it holds once JetStream acknowledged it, and
// exits; a stopping writer commits its batch and hands the rest back. Nothing a client saw acknowledged is lost.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/database.js';
import { freshDatabase } from '../helpers/harness.js';
import { type ServerProcess, startServer } from '../helpers/processes.js';
import { apiOf, dropStream, driveLoad, eventsPerContact, metric, natsAvailable, openShared, SHARED_NATS, setUpTracking, uniquePrefix, waitFor } from '../helpers/queue.js';

const ADMIN = 'drain-admin';
const SECRET = 'drain-secret';
const HITS = 4000;

const nats = await natsAvailable();
if (process.env.CI && !process.env.TEST_DATABASE_URL) throw new Error('TEST_DATABASE_URL must be set in CI');
const postgres = Boolean(process.env.TEST_DATABASE_URL);

describe.skipIf(!nats || !postgres)('draining nodes with SIGTERM (postgres)', () => {
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let store: Store;
  const dirs: string[] = [];
  const nodes: ServerProcess[] = [];
  const prefix = uniquePrefix('drain');
  const start = async (role: string) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'trackguard-node-'));
    dirs.push(dataDir);
    const node = await startServer(['serve', '--role', role], {
      TRACKGUARD_DATA_DIR: dataDir, DATABASE_URL: database.databaseUrl, TRACKGUARD_ADMIN_KEY: ADMIN, TRACKGUARD_SECRET: SECRET,
      TRACKGUARD_QUEUE: SHARED_NATS, TRACKGUARD_QUEUE_PREFIX: prefix,
    });
    nodes.push(node);
    return node;
  };
  beforeAll(async () => {
    database = await freshDatabase('postgres');
    store = openShared(database.databaseUrl, database.dataDir);
  });
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
    await store?.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    await database?.drop();
    await dropStream(prefix);
  });

  it('a track process and the writer stopped with SIGTERM mid-load exit cleanly and lose no acknowledged hit', async () => {
    const api = await start('api');
    const leaving = await start('track');
    const staying = await start('track');
    let worker = await start('worker');
    const setup = await setUpTracking(apiOf(api.base, ADMIN), HITS);
    for (const node of [leaving, staying]) await waitFor(async () => (await metric(node.base, 'trackguard_queue_fallback')) === 0, 20_000, () => node.output());
    const exits: (number | string)[] = [];
    let drainMs = 0;
    const load = await driveLoad([leaving.base, staying.base], SECRET, setup, {
      concurrency: 48,
      triggerAt: 1500,
      during: async () => {
        const began = Date.now();
        exits.push(...(await Promise.all([leaving.stop('SIGTERM'), worker.stop('SIGTERM')])));
        drainMs = Date.now() - began;
        worker = await start('worker');
      },
    });
    expect(exits).toEqual([0, 0]);
    expect(drainMs).toBeLessThan(15_000);
    // Requests to the stopped node after it closed are refused (not acknowledged); the rest were answered.
    expect(load.acknowledged.size + load.failed).toBe(HITS);
    // The staying node kept answering after the drain began (how many depends on the machine's load: the
    // leaving node refuses its share from the moment it stops accepting).
    expect(load.acknowledged.size).toBeGreaterThan(1500 + 48);
    await waitFor(
      async () => {
        const stored = await eventsPerContact(store, setup.sendingId);
        return [...load.acknowledged].every((id) => stored.has(id));
      },
      90_000,
      () => worker.output(),
    );
    // What the stopped writer handed back, or had in flight, comes again within the acknowledgement wait (10 s).
    await new Promise((r) => setTimeout(r, 12_000));
    const stored = await eventsPerContact(store, setup.sendingId);
    expect([...stored].filter(([, n]) => n > 1)).toEqual([]);
    for (const id of load.acknowledged) expect(stored.get(id)).toBe(1);
    // Hits the leaving node answered went through JetStream, not its direct writer.
    expect(leaving.output()).not.toMatch(/NATS unavailable/);
  }, 240_000);
});
