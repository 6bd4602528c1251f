// Hits through NATS JetStream on PostgreSQL (SPEC §8, issue 13 item 6): real `serve --role` processes — one
// worker (the writer) and 1, then 2, track processes — under autocannon load as in bench/track.ts. Reports hits
// acknowledged per second, rows stored per second (until the writer has written them all), hits sent = rows
// stored, and JetStream's publish round trip p50/p99 from each track process's trackguard_queue_publish_seconds.
// Needs TEST_DATABASE_URL and a NATS with JetStream (BENCH_QUEUE, default the machine's 127.0.0.1:4222); it
// uses a stream of its own (a random TRACKGUARD_QUEUE_PREFIX) and deletes it at the end.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import autocannon from 'autocannon';
import { signToken } from '../src/domain/token.js';
import { queueNames } from '../src/queue/nats-link.js';
import { openStore, type Store } from '../src/store/database.js';
import { freshDatabase } from '../test/helpers/harness.js';
import { type ServerProcess, startServer } from '../test/helpers/processes.js';

const DURATION = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const QUEUE = process.env.BENCH_QUEUE ?? 'nats://127.0.0.1:4222';
const CONTACTS = 2000;
const ADMIN = 'bench-admin-key';
const SECRET = 'bench-secret';
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';

interface Row {
  tracks: number;
  acknowledgedPerSecond: number;
  storedPerSecond: number;
  sent: number;
  acknowledged: number;
  stored: number;
  fallback: number;
  httpP50: number;
  httpP99: number;
  publishP50: number;
  publishP99: number;
}

function load(base: string, paths: string[], connections: number): Promise<autocannon.Result> {
  let i = Math.floor(Math.random() * paths.length);
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: base,
        connections,
        duration: DURATION,
        headers: { 'user-agent': UA },
        requests: [
          {
            setupRequest: (req) => {
              i = (i + 1) % paths.length;
              return { ...req, path: paths[i] };
            },
          },
        ],
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
    autocannon.track(instance, { renderProgressBar: false, renderResultsTable: false, renderLatencyTable: false });
  });
}

/** The publish histogram's cumulative buckets (le → count) and a counter of one process's /metrics. */
async function scrape(base: string): Promise<{ buckets: Map<number, number>; fallback: number }> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const buckets = new Map<number, number>();
  let fallback = 0;
  for (const line of text.split('\n')) {
    const bucket = /^trackguard_queue_publish_seconds_bucket\{le="([^"]+)"\} (\S+)/.exec(line);
    if (bucket) buckets.set(bucket[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(bucket[1]), Number(bucket[2]));
    if (line.startsWith('trackguard_queue_hits_fallback ')) fallback = Number(line.split(' ')[1]);
  }
  return { buckets, fallback };
}

/** A quantile of the observations between two scrapes, interpolated inside its bucket as Prometheus' histogram_quantile does. */
function quantile(q: number, before: Map<number, number>[], after: Map<number, number>[]): number {
  const bounds = [...(after[0]?.keys() ?? [])].sort((a, b) => a - b);
  const counts = bounds.map((le) => after.reduce((sum, m, i) => sum + (m.get(le) ?? 0) - (before[i]?.get(le) ?? 0), 0));
  const total = counts[counts.length - 1] ?? 0;
  if (total === 0) return Number.NaN;
  const rank = q * total;
  for (let b = 0; b < bounds.length; b++) {
    if ((counts[b] ?? 0) < rank) continue;
    const upper = bounds[b]!;
    const lower = b === 0 ? 0 : bounds[b - 1]!;
    if (upper === Number.POSITIVE_INFINITY) return lower;
    const below = b === 0 ? 0 : counts[b - 1]!;
    return lower + ((upper - lower) * (rank - below)) / ((counts[b] ?? 0) - below);
  }
  return Number.NaN;
}

async function storedRows(store: Store, sendingId: number): Promise<number> {
  const row = await store.db.selectFrom('events').select((eb) => eb.fn.countAll<number>().as('n')).where('sending_id', '=', sendingId).executeTakeFirstOrThrow();
  return Number(row.n);
}

async function api<T>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** A project, 2,000 contacts (90 % tracked), a sent five-link sending, and 10,000 open/click paths over it. */
async function setUp(base: string): Promise<{ sendingId: number; paths: string[] }> {
  const project = await api<{ id: string }>(base, 'POST', '/projects', { name: 'bench-cluster' });
  await api(base, 'PATCH', `/projects/${project.id}`, { tracking: { enabled: true } });
  const records = Array.from({ length: CONTACTS }, (_, i) => ({ email: `c${i}@bench.test`, hasTrackingConsent: i % 10 === 0 ? 0 : 1 }));
  const merged = await api<{ results: { contactId: string }[] }>(base, 'POST', `/projects/${project.id}/contacts/merge`, { records });
  const links = Array.from({ length: 5 }, (_, i) => `<a href="https://example.com/p${i}">${i}</a>`).join(' ');
  const message = await api<{ id: string }>(base, 'POST', `/projects/${project.id}/messages`, {
    channel: 'email', name: 'bench', communicationType: 'newsletter', subject: 'Bench', html: `<html><body>${links}</body></html>`,
  });
  const sending = await api<{ id: string }>(base, 'POST', `/projects/${project.id}/sendings`, { messageId: message.id, target: { all: true } });
  for (let i = 0; ; i++) {
    if ((await api<{ status: string }>(base, 'GET', `/projects/${project.id}/sendings/${sending.id}`)).status === 'sent') break;
    if (i > 1200) throw new Error('the bench sending did not finish');
    await new Promise((r) => setTimeout(r, 100));
  }
  const sendingId = Number(sending.id);
  const tracked = merged.results.map((r, i) => ({ id: Number(r.contactId), tracked: i % 10 !== 0 })).filter((c) => c.tracked).map((c) => c.id);
  const paths: string[] = [];
  for (let n = 0; n < 10_000; n++) {
    const recipient = n % 10 !== 0 ? { contactId: tracked[n % tracked.length]! } : { nonce: randomBytes(8).toString('base64url') };
    const kind = n % 2 === 0 ? 'open' : 'click';
    const token = signToken(SECRET, { kind, sendingId, linkIdx: kind === 'open' ? 0 : (n % 5) + 1, recipient });
    paths.push(`/t/${kind === 'open' ? 'o' : 'c'}/${token}`);
  }
  return { sendingId, paths };
}

async function waitQueueUp(node: ServerProcess): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const text = await (await fetch(`${node.base}/metrics`)).text();
    if (/^trackguard_queue_fallback 0$/m.test(text)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the track process on ${node.port} never reached JetStream:\n${node.output()}`);
}

/** One phase: load spread over `tracks`, then waits until the writer has stored every hit sent (or stops growing). */
async function phase(tracks: ServerProcess[], store: Store, sendingId: number, paths: string[]): Promise<Row> {
  const storedBefore = await storedRows(store, sendingId);
  const before = await Promise.all(tracks.map((t) => scrape(t.base)));
  const started = performance.now();
  const share = Math.max(1, Math.floor(CONNECTIONS / tracks.length));
  const results = await Promise.all(tracks.map((t) => load(t.base, paths, share)));
  const sent = results.reduce((n, r) => n + r.requests.sent, 0);
  const acknowledged = results.reduce((n, r) => n + r['2xx'] + r['3xx'], 0);
  let stored = 0;
  let lastChange = performance.now();
  let storedAt = performance.now();
  for (;;) {
    const now = (await storedRows(store, sendingId)) - storedBefore;
    if (now !== stored) {
      stored = now;
      lastChange = storedAt = performance.now();
    }
    if (stored >= sent || performance.now() - lastChange > 5000) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const after = await Promise.all(tracks.map((t) => scrape(t.base)));
  const weighted = (pick: (r: autocannon.Result) => number) => results.reduce((n, r) => n + pick(r) * r.requests.total, 0) / Math.max(1, results.reduce((n, r) => n + r.requests.total, 0));
  return {
    tracks: tracks.length,
    acknowledgedPerSecond: acknowledged / DURATION,
    storedPerSecond: stored / ((storedAt - started) / 1000),
    sent,
    acknowledged,
    stored,
    fallback: after.reduce((n, a, i) => n + a.fallback - (before[i]?.fallback ?? 0), 0),
    httpP50: weighted((r) => r.latency.p50),
    httpP99: weighted((r) => r.latency.p99),
    publishP50: quantile(0.5, before.map((b) => b.buckets), after.map((a) => a.buckets)) * 1000,
    publishP99: quantile(0.99, before.map((b) => b.buckets), after.map((a) => a.buckets)) * 1000,
  };
}

async function dropStream(prefix: string): Promise<void> {
  const nc = await connect({ servers: QUEUE, timeout: 2000 }).catch(() => undefined);
  if (!nc) return;
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(queueNames(prefix).stream).catch(() => false);
  } finally {
    await nc.close();
  }
}

export async function run(): Promise<void> {
  if (!process.env.TEST_DATABASE_URL) {
    console.log('cluster: skipped (set TEST_DATABASE_URL, and have NATS with JetStream at BENCH_QUEUE or 127.0.0.1:4222)');
    return;
  }
  const prefix = `bench-${randomBytes(4).toString('hex')}`;
  const database = await freshDatabase('postgres');
  const dirs: string[] = [];
  const nodes: ServerProcess[] = [];
  const store = openStore({ databaseUrl: database.databaseUrl, dataDir: database.dataDir, poolSize: 2 });
  const start = async (role: string) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'trackguard-bench-node-'));
    dirs.push(dataDir);
    const env = {
      TRACKGUARD_DATA_DIR: dataDir, DATABASE_URL: database.databaseUrl, TRACKGUARD_ADMIN_KEY: ADMIN, TRACKGUARD_SECRET: SECRET,
      TRACKGUARD_QUEUE: QUEUE, TRACKGUARD_QUEUE_PREFIX: prefix,
    };
    const node = await startServer(['serve', '--role', role], env);
    nodes.push(node);
    return node;
  };
  try {
    // The api node first (it migrates), used for the set-up only; the worker sends the sending, then writes hits.
    const apiNode = await start('api');
    const worker = await start('worker');
    const { sendingId, paths } = await setUp(apiNode.base);
    await apiNode.stop();
    const first = await start('track');
    await waitQueueUp(first);
    const rows = [await phase([first], store, sendingId, paths)];
    const second = await start('track');
    await waitQueueUp(second);
    rows.push(await phase([first, second], store, sendingId, paths));
    const f = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
    console.log(`cluster: PostgreSQL + NATS JetStream (stream ${queueNames(prefix).stream}), 1 worker, ${CONNECTIONS} connections, ${DURATION} s per row; worker pid ${worker.child.pid}`);
    console.log('| track processes | acknowledged hits/s | recorded hits/s | hits sent | answered | rows stored | sent = stored | direct fallback | HTTP p50 / p99 ms | publish p50 / p99 ms |');
    console.log('|---|---|---|---|---|---|---|---|---|---|');
    for (const r of rows) {
      console.log(
        `| ${r.tracks} | ${f(r.acknowledgedPerSecond)} | ${f(r.storedPerSecond)} | ${r.sent} | ${r.acknowledged} | ${r.stored} | ${r.stored === r.sent ? 'yes' : 'NO'} | ${r.fallback} | ${f(r.httpP50, 1)} / ${f(r.httpP99, 1)} | ${f(r.publishP50, 2)} / ${f(r.publishP99, 2)} |`,
      );
    }
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
    await store.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    await database.drop();
    await dropStream(prefix);
  }
}
