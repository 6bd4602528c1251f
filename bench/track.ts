// Tracking hot path under load: autocannon against the real server (a child
// process, SQLite then PostgreSQL), then against a bare node:http server answering
// a constant 302, same machine, same load generator; the ratio is the figure.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import autocannon from 'autocannon';
import { signToken } from '../src/domain/token.js';
import { openStore } from '../src/store/database.js';
import { type DialectName, freshDatabase } from '../test/helpers/harness.js';
import { record } from './lib/summary.js';

const DURATION = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const CONTACTS = 2000;
const ADMIN = 'bench-admin-key';
const SECRET = 'bench-secret';

function startChild(script: string[], env: Record<string, string>, port: number): Promise<ChildProcess> {
  // BENCH_PROFILE=dir writes a V8 CPU profile of the server there.
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  // The server as `npm start` runs it (compiled, dist/) when built; else the TypeScript through tsx.
  const compiled = script[0] === 'src/cli/main.ts' && existsSync('dist/cli/main.js');
  const args = compiled ? ['dist/cli/main.js', ...script.slice(1)] : ['--import', 'tsx', ...script];
  const child = spawn(process.execPath, [...profile, ...args], { env: { ...process.env, ...env, PORT: String(port), LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'inherit'] });
  return waitForPort(port).then(() => child);
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (res.status > 0) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server on port ${port} did not start`);
}

async function api<T>(port: number, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${port}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

function load(port: number, paths: string[]): Promise<autocannon.Result> {
  let i = 0;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${port}`,
        connections: CONNECTIONS,
        duration: DURATION,
        headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36' },
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

async function benchServer(label: DialectName): Promise<{ rps: number; p50: number; p99: number }> {
  const database = await freshDatabase(label);
  const { dataDir, databaseUrl } = database;
  const port = 18000 + Math.floor(Math.random() * 1000);
  const env: Record<string, string> = { TRACKGUARD_DATA_DIR: dataDir, TRACKGUARD_ADMIN_KEY: ADMIN, TRACKGUARD_SECRET: SECRET };
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  const server = await startChild(['src/cli/main.ts', 'serve'], env, port);
  try {
    const project = await api<{ id: string }>(port, 'POST', '/projects', { name: 'bench' });
    await api(port, 'PATCH', `/projects/${project.id}`, { tracking: { enabled: true } });
    const records = Array.from({ length: CONTACTS }, (_, i) => ({ email: `c${i}@bench.test`, hasTrackingConsent: i % 10 === 0 ? 0 : 1 }));
    await api(port, 'POST', `/projects/${project.id}/contacts/merge`, { records });
    const links = Array.from({ length: 5 }, (_, i) => `<a href="https://example.com/p${i}">${i}</a>`).join(' ');
    const message = await api<{ id: string }>(port, 'POST', `/projects/${project.id}/messages`, {
      channel: 'email', name: 'bench', communicationType: 'newsletter', subject: 'Bench', html: `<html><body>${links}</body></html>`,
    });
    const sending = await api<{ id: string }>(port, 'POST', `/projects/${project.id}/sendings`, { messageId: message.id, target: { all: true } });
    for (let i = 0; i < 600; i++) {
      const s = await api<{ status: string }>(port, 'GET', `/projects/${project.id}/sendings/${sending.id}`);
      if (s.status === 'sent') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const contacts = await api<{ items: { id: string; hasTrackingConsent: boolean }[] }>(port, 'GET', `/projects/${project.id}/contacts?limit=1000`);
    const sendingId = Number(sending.id);
    // 90 % of hits from tracked contacts, 10 % from refused ones (nonce tokens); half opens, half clicks.
    const trackedIds = contacts.items.filter((c) => c.hasTrackingConsent).map((c) => Number(c.id));
    const paths: string[] = [];
    for (let n = 0; n < 10_000; n++) {
      const recipient = n % 10 !== 0 ? { contactId: trackedIds[n % trackedIds.length]! } : { nonce: randomBytes(8).toString('base64url') };
      const kind = n % 2 === 0 ? 'open' : 'click';
      const token = signToken(SECRET, { kind, sendingId, linkIdx: kind === 'open' ? 0 : (n % 5) + 1, recipient });
      paths.push(`/t/${kind === 'open' ? 'o' : 'c'}/${token}`);
    }
    const result = await load(port, paths);
    const ok = result['2xx'] + result['3xx'];
    // Requests still in flight when the load stops are answered and stored after it: compare rows with hits sent.
    const sent = result.requests.sent;
    await new Promise((r) => setTimeout(r, 1000));
    const store = openStore({ databaseUrl, dataDir });
    const stored = await store.db.selectFrom('events').select((eb) => eb.fn.countAll<number>().as('n')).where('sending_id', '=', sendingId).executeTakeFirstOrThrow();
    await store.close();
    const rps = ok / DURATION;
    console.log(
      `track ${label}: ${Math.round(rps)} recorded hits/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, ` +
        `hits sent ${sent}, answered in time ${ok}, rows stored ${Number(stored.n)}${Number(stored.n) === sent ? ' (= sent)' : ' (MISMATCH)'}, errors ${result.errors + result.non2xx - result['3xx']}`,
    );
    return { rps, p50: result.latency.p50, p99: result.latency.p99 };
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    await database.drop();
  }
}

async function benchBare(): Promise<number> {
  const port = 19000 + Math.floor(Math.random() * 1000);
  const code = `require('node:http').createServer((q,s)=>{ if(q.url==='/healthz'){s.end('ok');return;} s.writeHead(302,{location:'https://example.com/a'}); s.end(); }).listen(${port},'127.0.0.1')`;
  const child = spawn(process.execPath, ['-e', code], { stdio: 'ignore' });
  await waitForPort(port);
  try {
    const result = await load(port, ['/t/c/x']);
    const rps = (result['2xx'] + result['3xx']) / DURATION;
    console.log(`track bare node:http 302: ${Math.round(rps)} req/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms`);
    return rps;
  } finally {
    child.kill('SIGTERM');
  }
}

export async function run(): Promise<void> {
  const bare = await benchBare();
  const sqlite = await benchServer('sqlite');
  console.log(`track sqlite: ratio to bare node:http = ${(sqlite.rps / bare).toFixed(2)}`);
  recordTrack('sqlite', sqlite, bare, 35_000, 0.4);
  if (!process.env.TEST_DATABASE_URL) {
    console.log('track postgres: skipped (set TEST_DATABASE_URL)');
    return;
  }
  const postgres = await benchServer('postgres');
  console.log(`track postgres: ratio to bare node:http = ${(postgres.rps / bare).toFixed(2)}`);
  recordTrack('postgres', postgres, bare, 20_000, 0.25);
}

/** The issue 14 targets: recorded hits/s, the ratio to the bare server in the same run, p99 < 20 ms. */
function recordTrack(dialect: DialectName, result: { rps: number; p99: number }, bare: number, hits: number, ratio: number): void {
  const size = `${CONNECTIONS} connections, ${DURATION} s`;
  record({ name: `track ${dialect}`, size, figure: `${Math.round(result.rps).toLocaleString('en-US')} hits/s`, target: `≥ ${hits.toLocaleString('en-US')}/s`, pass: result.rps >= hits });
  record({ name: `track ${dialect} ÷ bare`, size, figure: (result.rps / bare).toFixed(2), target: `≥ ${ratio}`, pass: result.rps / bare >= ratio });
  record({ name: `track ${dialect} p99`, size, figure: `${result.p99} ms`, target: '< 20 ms', pass: result.p99 < 20 });
}
