// The hit queue under faults (issue 13 items 1 and 5): a writer killed with SIGKILL mid-load, the NATS
// server itself stopped under load, and consent notifications between processes over NATS. What a load
// generator saw acknowledged must be stored exactly once whatever dies, and a withdrawal on one process
// must reach another's cache at once, not when it expires.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../src/domain/token.js';
import type { Store } from '../../src/store/database.js';
import { freshDatabase } from '../helpers/harness.js';
import { type ServerProcess, startServer } from '../helpers/processes.js';
import {
  apiOf, dropStream, driveLoad, eventsPerContact, metric, natsAvailable, type OwnNats, openShared, SHARED_NATS, setUpTracking, startOwnNats, type TrackingSetup, uniquePrefix, waitFor,
} from '../helpers/queue.js';

const ADMIN = 'queue-faults-admin';
const SECRET = 'queue-faults-secret';

const nats = await natsAvailable();
// Several processes on one database: PostgreSQL (SPEC §8). In CI TEST_DATABASE_URL is always set.
if (process.env.CI && !process.env.TEST_DATABASE_URL) throw new Error('TEST_DATABASE_URL must be set in CI');
const postgres = Boolean(process.env.TEST_DATABASE_URL);

/** Nodes on one PostgreSQL database, each with its own data dir. */
function cluster(queue: () => string, prefix: string) {
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let store: Store;
  const dirs: string[] = [];
  const nodes: ServerProcess[] = [];
  return {
    get store() {
      return store;
    },
    async setUp() {
      database = await freshDatabase('postgres');
      store = openShared(database.databaseUrl, database.dataDir);
    },
    async start(role: string): Promise<ServerProcess> {
      const dataDir = mkdtempSync(join(tmpdir(), 'trackguard-node-'));
      dirs.push(dataDir);
      const node = await startServer(['serve'], {
        TRACKGUARD_DATA_DIR: dataDir,
        DATABASE_URL: database.databaseUrl,
        TRACKGUARD_ADMIN_KEY: ADMIN,
        TRACKGUARD_SECRET: SECRET,
        TRACKGUARD_ROLE: role,
        TRACKGUARD_QUEUE: queue(),
        TRACKGUARD_QUEUE_PREFIX: prefix,
      });
      nodes.push(node);
      return node;
    },
    async tearDown() {
      await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
      await store?.close();
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
      await database?.drop();
      await dropStream(prefix);
    },
  };
}

async function expectStoredOnce(store: Store, setup: TrackingSetup, acknowledged: Set<number>, output: () => string): Promise<void> {
  await waitFor(
    async () => {
      const stored = await eventsPerContact(store, setup.sendingId);
      return [...acknowledged].every((id) => stored.has(id));
    },
    90_000,
    output,
  );
  // Redeliveries of what the killed writer had committed come after the acknowledgement wait (10 s): let them in.
  await new Promise((r) => setTimeout(r, 12_000));
  const stored = await eventsPerContact(store, setup.sendingId);
  const twice = [...stored].filter(([, n]) => n > 1);
  expect(twice).toEqual([]);
  for (const id of acknowledged) expect(stored.get(id)).toBe(1);
}

describe.skipIf(!nats || !postgres)('hit queue faults (postgres)', () => {
  describe('a writer killed with SIGKILL mid-load', () => {
    const prefix = uniquePrefix('kill');
    const nodes = cluster(() => SHARED_NATS, prefix);
    beforeAll(() => nodes.setUp());
    afterAll(() => nodes.tearDown());

    it('stores every acknowledged hit exactly once after the writer is restarted', async () => {
      const api = await nodes.start('api');
      const track = await nodes.start('track');
      let worker = await nodes.start('worker');
      const setup = await setUpTracking(apiOf(api.base, ADMIN), 4000);
      await waitFor(async () => (await metric(track.base, 'trackguard_queue_fallback')) === 0, 20_000, () => track.output());
      let consumedBeforeKill = 0;
      const load = await driveLoad([track.base], SECRET, setup, {
        triggerAt: 1500,
        during: async () => {
          consumedBeforeKill = (await metric(worker.base, 'trackguard_queue_hits_consumed')) ?? 0;
          await worker.stop('SIGKILL');
          worker = await nodes.start('worker');
        },
      });
      // The track node stayed up: everything was answered, through JetStream.
      expect(load.failed).toBe(0);
      expect(load.acknowledged.size).toBe(4000);
      expect(consumedBeforeKill).toBeGreaterThan(0);
      await expectStoredOnce(nodes.store, setup, load.acknowledged, () => worker.output());
      expect(await metric(track.base, 'trackguard_queue_hits_fallback')).toBe(0);
    }, 240_000);
  });

  describe('the NATS server stopped under load', () => {
    let broker: OwnNats;
    const prefix = uniquePrefix('cut');
    const nodes = cluster(() => broker.url, prefix);
    beforeAll(async () => {
      broker = await startOwnNats();
      await nodes.setUp();
    });
    afterAll(async () => {
      await nodes.tearDown();
      await broker?.remove();
    });

    it('loses no acknowledged hit, shows the fallback in /metrics, and goes back to JetStream when NATS returns', async () => {
      const api = await nodes.start('api');
      const track = await nodes.start('track');
      const worker = await nodes.start('worker');
      const setup = await setUpTracking(apiOf(api.base, ADMIN), 4200);
      const first: TrackingSetup = { ...setup, contactIds: setup.contactIds.slice(0, 4000) };
      const after: TrackingSetup = { ...setup, contactIds: setup.contactIds.slice(4000) };
      await waitFor(async () => (await metric(track.base, 'trackguard_queue_fallback')) === 0, 20_000, () => track.output());
      let gaugeWhileDown: number | undefined;
      const load = await driveLoad([track.base], SECRET, first, {
        triggerAt: 1000,
        during: async () => {
          await broker.stop();
          await waitFor(async () => (await metric(track.base, 'trackguard_queue_fallback')) === 1, 10_000, () => track.output());
          gaugeWhileDown = await metric(track.base, 'trackguard_queue_fallback');
          await new Promise((r) => setTimeout(r, 1500));
          await broker.start();
        },
      });
      expect(gaugeWhileDown).toBe(1);
      expect(load.failed).toBe(0);
      expect(load.acknowledged.size).toBe(4000);
      expect(await metric(track.base, 'trackguard_queue_hits_fallback')).toBeGreaterThan(0);
      expect(track.output()).toContain('NATS unavailable');
      // Back to JetStream: the next hits are published, none written directly.
      await waitFor(async () => (await metric(track.base, 'trackguard_queue_fallback')) === 0, 20_000, () => track.output());
      const published = (await metric(track.base, 'trackguard_queue_hits_published')) ?? 0;
      const fallback = (await metric(track.base, 'trackguard_queue_hits_fallback')) ?? 0;
      const again = await driveLoad([track.base], SECRET, after);
      expect(again.acknowledged.size).toBe(200);
      expect(await metric(track.base, 'trackguard_queue_hits_published')).toBe(published + 200);
      expect(await metric(track.base, 'trackguard_queue_hits_fallback')).toBe(fallback);
      await expectStoredOnce(nodes.store, setup, new Set([...load.acknowledged, ...again.acknowledged]), () => `${track.output()}\n${worker.output()}`);
    }, 240_000);
  });

  describe('consent notifications over NATS', () => {
    const prefix = uniquePrefix('changes');
    const nodes = cluster(() => SHARED_NATS, prefix);
    beforeAll(() => nodes.setUp());
    afterAll(() => nodes.tearDown());

    it("a withdrawal on one process drops the contact from another process's cache at once", async () => {
      const api = await nodes.start('api');
      const track = await nodes.start('track');
      await nodes.start('worker');
      const call = apiOf(api.base, ADMIN);
      const setup = await setUpTracking(call, 1);
      const contactId = setup.contactIds[0]!;
      await call('POST', `/projects/${setup.pid}/injection-rules`, {
        name: 'cid', domains: ['example.com'], params: [{ name: 'cid', value: '{{contact.id}}' }], autoApply: true, onlyTrackedContacts: true,
      });
      await waitFor(async () => (await metric(track.base, 'trackguard_queue_fallback')) === 0, 20_000, () => track.output());
      const watcher = await connect({ servers: SHARED_NATS });
      const seen: string[] = [];
      watcher.subscribe(`${prefix}.changes`, {
        callback: (_error, message) => {
          seen.push(message.string());
        },
      });
      await watcher.flush();
      const click = `${track.base}/t/c/${signToken(SECRET, { kind: 'click', sendingId: setup.sendingId, linkIdx: 1, recipient: { contactId } })}`;
      // HEAD does not count: the redirect goes by the cached consent (2 s TTL), which the notification must drop.
      const location = async () => (await fetch(click, { method: 'HEAD', redirect: 'manual' })).headers.get('location') ?? '';
      try {
        // The injection-rule notification may still be on its way to the track node: wait for its cache to see the rule.
        await waitFor(async () => (await location()).includes(`cid=${contactId}`), 10_000, () => track.output());
        const cachedAt = Date.now();
        expect(await location()).toContain(`cid=${contactId}`);
        await call('PUT', `/projects/${setup.pid}/contacts/${contactId}/tracking-consent`, { consent: false });
        let after = await location();
        while (after.includes('cid=') && Date.now() - cachedAt < 1500) after = await location();
        // Well inside the cache's 2 s: only the notification can have dropped it.
        expect(Date.now() - cachedAt).toBeLessThan(1500);
        expect(after).not.toContain('cid=');
        expect(seen.some((payload) => payload.includes('"consent"'))).toBe(true);
      } finally {
        await watcher.close();
      }
    }, 120_000);
  });
});
