import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { signToken } from '../../src/domain/token.js';
import { queueNames } from '../../src/queue/nats-link.js';
import { type Store, openStore } from '../../src/store/database.js';
import { freePort } from './processes.js';

/** The machine's NATS with JetStream (shared: tests use their own TRACKGUARD_QUEUE_PREFIX and never stop it). */
export const SHARED_NATS = 'nats://127.0.0.1:4222';
const NATS_SERVER = '/usr/sbin/nats-server';

export const HUMAN_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';

function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Whether the tests that need NATS run: yes when 127.0.0.1:4222 answers and nats-server is installed;
 * in CI a missing one is an error, elsewhere those tests are skipped.
 */
export async function natsAvailable(): Promise<boolean> {
  const ok = (await reachable(4222)) && existsSync(NATS_SERVER);
  if (!ok && process.env.CI) throw new Error(`NATS with JetStream must answer on 127.0.0.1:4222 and ${NATS_SERVER} exist in CI (.ci/run starts it)`);
  return ok;
}

/** A prefix no other test (or run) uses on the shared NATS. */
export function uniquePrefix(name: string): string {
  return `tgtest-${name}-${randomBytes(4).toString('hex')}`;
}

/** Removes a test prefix's stream (and its consumer) from the shared NATS once the test is done. */
export async function dropStream(prefix: string): Promise<void> {
  const nc = await connect({ servers: SHARED_NATS, timeout: 2000 }).catch(() => undefined);
  if (!nc) return;
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(queueNames(prefix).stream).catch(() => false);
  } finally {
    await nc.close();
  }
}

/** A nats-server of the test's own, on a free port, with JetStream in a temp dir kept across restarts. */
export interface OwnNats {
  url: string;
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
  remove(): Promise<void>;
}

export async function startOwnNats(): Promise<OwnNats> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'trackguard-nats-'));
  let child: ChildProcess | undefined;
  const own: OwnNats = {
    url: `nats://127.0.0.1:${port}`,
    port,
    async start() {
      child = spawn(NATS_SERVER, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir], { stdio: 'ignore' });
      for (let i = 0; i < 100; i++) {
        if (await reachable(port)) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`nats-server on ${port} did not start`);
    },
    async stop() {
      const running = child;
      child = undefined;
      if (!running || running.exitCode !== null) return;
      const exited = new Promise((r) => running.once('exit', r));
      running.kill('SIGKILL');
      await exited;
    },
    async remove() {
      await own.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await own.start();
  return own;
}

/** The API of one node, with the admin key. */
export function apiOf(base: string, adminKey: string) {
  return async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${base}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
}

export interface TrackingSetup {
  pid: string;
  sendingId: number;
  /** Tracked contacts: the load opens one pixel per contact, so each stored event names one hit. */
  contactIds: number[];
}

/** A project (opt-out tracking), a sent sending, and `contacts` tracked contacts merged after it was sent. */
export async function setUpTracking(api: ReturnType<typeof apiOf>, contacts: number): Promise<TrackingSetup> {
  const project = await api<{ id: string }>('POST', '/projects', { name: `queue-${randomBytes(3).toString('hex')}` });
  await api('PATCH', `/projects/${project.id}`, { tracking: { enabled: true, mode: 'opt-out' } });
  await api('POST', `/projects/${project.id}/contacts/merge`, { records: [{ email: 'first@queue.test' }] });
  const message = await api<{ id: string }>('POST', `/projects/${project.id}/messages`, {
    channel: 'email', name: 'queue', communicationType: 'newsletter', subject: 'Q', html: '<p><a href="https://example.com/x">x</a></p>',
  });
  const sending = await api<{ id: string }>('POST', `/projects/${project.id}/sendings`, { messageId: message.id, target: { all: true } });
  const deadline = Date.now() + 60_000;
  while ((await api<{ status: string }>('GET', `/projects/${project.id}/sendings/${sending.id}`)).status !== 'sent') {
    if (Date.now() > deadline) throw new Error('the sending did not finish');
    await new Promise((r) => setTimeout(r, 100));
  }
  const contactIds: number[] = [];
  for (let i = 0; i < contacts; i += 1000) {
    const records = Array.from({ length: Math.min(1000, contacts - i) }, (_, j) => ({ email: `c${i + j}@queue.test`, hasTrackingConsent: true }));
    const merged = await api<{ results: { contactId: string }[] }>('POST', `/projects/${project.id}/contacts/merge`, { records });
    contactIds.push(...merged.results.map((r) => Number(r.contactId)));
  }
  return { pid: project.id, sendingId: Number(sending.id), contactIds };
}

/** The open pixel path of `contactId` in the sending. */
export function openPath(secret: string, sendingId: number, contactId: number): string {
  return `/t/o/${signToken(secret, { kind: 'open', sendingId, linkIdx: 0, recipient: { contactId } })}`;
}

export interface LoadResult {
  /** Per contact: whether its hit was answered 200. */
  acknowledged: Set<number>;
  failed: number;
}

/**
 * Opens one pixel per contact, `concurrency` at a time, against the bases in turn; calls `during`
 * once `triggerAt` hits have been answered. Bounded: one request per contact, 10 s timeout each.
 */
export async function driveLoad(bases: string[], secret: string, setup: TrackingSetup, options: { concurrency?: number; triggerAt?: number; during?: () => Promise<void> } = {}): Promise<LoadResult> {
  const acknowledged = new Set<number>();
  let failed = 0;
  let next = 0;
  let answered = 0;
  let during: Promise<void> | undefined;
  const worker = async (w: number) => {
    for (;;) {
      const i = next++;
      const contactId = setup.contactIds[i];
      if (contactId === undefined) return;
      const base = bases[(i + w) % bases.length]!;
      try {
        const res = await fetch(`${base}${openPath(secret, setup.sendingId, contactId)}`, { headers: { 'user-agent': HUMAN_UA }, signal: AbortSignal.timeout(10_000) });
        await res.arrayBuffer();
        if (res.status === 200) acknowledged.add(contactId);
        else failed += 1;
      } catch {
        failed += 1;
      }
      answered += 1;
      if (options.during && options.triggerAt !== undefined && answered === options.triggerAt) during = options.during();
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 32 }, (_, w) => worker(w)));
  await during;
  return { acknowledged, failed };
}

/** The store of the database the nodes share (SQLite: the file in `dataDir`). */
export function openShared(databaseUrl: string | undefined, dataDir: string): Store {
  return openStore({ databaseUrl, dataDir, poolSize: 2 });
}

/** Open events of the sending, per contact id. */
export async function eventsPerContact(store: Store, sendingId: number): Promise<Map<number, number>> {
  const rows = await store.db
    .selectFrom('events')
    .select(['contact_id', (eb) => eb.fn.countAll<number>().as('n')])
    .where('sending_id', '=', sendingId)
    .where('type', '=', 'open')
    .groupBy('contact_id')
    .execute();
  return new Map(rows.map((r) => [Number(r.contact_id), Number(r.n)]));
}

/** Waits until `done()` holds (every 200 ms, up to `ms`), else throws with `describe()`. */
export async function waitFor(done: () => Promise<boolean>, ms: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${describe()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** One sample of a /metrics value (first line of that name), or undefined. */
export async function metric(base: string, name: string): Promise<number | undefined> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}
