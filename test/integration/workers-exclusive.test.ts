// Three worker processes on one PostgreSQL (SPEC §8, §12; issue 13 item 2): jobs are claimed with a lease, so no
// step of a sending, a campaign or housekeeping may ever run in two processes at once. A step run twice sends a
// message twice; the runners' own step log (`job step`, debug level) shows any two overlapping runs of one job.
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StepTrace } from '../../src/services/jobs.js';
import type { Store } from '../../src/store/database.js';
import { freshDatabase } from '../helpers/harness.js';
import { type ServerProcess, startServer } from '../helpers/processes.js';
import { apiOf, openShared, waitFor } from '../helpers/queue.js';

const ADMIN = 'exclusive-admin';
const WORKERS = 3;
const CONTACTS = 1500;
const SENDINGS = 3;
const CAMPAIGNS = 3;

if (process.env.CI && !process.env.TEST_DATABASE_URL) throw new Error('TEST_DATABASE_URL must be set in CI');
const postgres = Boolean(process.env.TEST_DATABASE_URL);

/** The `job step` lines a worker logged (pino JSON on stdout). */
function stepsOf(node: ServerProcess, pid: number): (StepTrace & { pid: number })[] {
  const steps: (StepTrace & { pid: number })[] = [];
  for (const line of node.output().split('\n')) {
    if (!line.includes('"job step"')) continue;
    const parsed = JSON.parse(line) as StepTrace & { msg: string };
    steps.push({ ...parsed, pid });
  }
  return steps;
}

describe.skipIf(!postgres)(`${WORKERS} worker processes never run a job step twice (postgres)`, () => {
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let store: Store;
  let smtp: SMTPServer;
  const received: { to: string; subject: string }[] = [];
  const dirs: string[] = [];
  let api: ServerProcess;
  const workers: ServerProcess[] = [];

  beforeAll(async () => {
    database = await freshDatabase('postgres');
    store = openShared(database.databaseUrl, database.dataDir);
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, session, callback) {
        let raw = '';
        stream.on('data', (chunk: Buffer) => {
          raw += chunk.toString();
        });
        stream.on('end', () => {
          const subject = /^Subject: (.*)$/m.exec(raw)?.[1]?.trim() ?? '';
          for (const r of session.envelope.rcptTo) received.push({ to: r.address, subject });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    const smtpPort = (smtp.server.address() as AddressInfo).port;
    const env = (role: string, logLevel: string) => {
      const dataDir = mkdtempSync(join(tmpdir(), 'trackguard-node-'));
      dirs.push(dataDir);
      return {
        TRACKGUARD_DATA_DIR: dataDir, DATABASE_URL: database.databaseUrl, TRACKGUARD_ADMIN_KEY: ADMIN, TRACKGUARD_SECRET: 'exclusive-secret',
        TRACKGUARD_TRANSPORT: 'smtp', SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, TRACKGUARD_ROLE: role, LOG_LEVEL: logLevel,
      };
    };
    api = await startServer(['serve'], env('api', 'warn'));
    for (let w = 0; w < WORKERS; w++) workers.push(await startServer(['serve', '--role', 'worker'], env('worker', 'debug')));
  }, 120_000);
  afterAll(async () => {
    await Promise.all([api?.stop(), ...workers.map((w) => w.stop())]);
    await new Promise<void>((resolve) => smtp?.close(() => resolve()));
    await store?.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    await database?.drop();
  });

  it('sendings and campaign steps spread over the workers: every contact gets each message once, and no job step overlaps another of its job', async () => {
    const call = apiOf(api.base, ADMIN);
    const project = await call<{ id: string }>('POST', '/projects', { name: 'exclusive' });
    const pid = project.id;
    const contactIds: string[] = [];
    for (let i = 0; i < CONTACTS; i += 500) {
      const records = Array.from({ length: 500 }, (_, j) => ({ email: `c${i + j}@exclusive.test` }));
      const merged = await call<{ results: { contactId: string }[] }>('POST', `/projects/${pid}/contacts/merge`, { records });
      contactIds.push(...merged.results.map((r) => r.contactId));
    }
    const message = async (subject: string) =>
      (await call<{ id: string }>('POST', `/projects/${pid}/messages`, { channel: 'email', name: subject, communicationType: 'newsletter', subject, html: `<p>${subject}</p>` })).id;
    const sendings: string[] = [];
    for (let s = 0; s < SENDINGS; s++) {
      sendings.push((await call<{ id: string }>('POST', `/projects/${pid}/sendings`, { messageId: await message(`sending ${s}`), target: { all: true } })).id);
    }
    const campaigns: string[] = [];
    for (let c = 0; c < CAMPAIGNS; c++) {
      const messageId = await message(`campaign ${c}`);
      const created = await call<{ id: string }>('POST', `/projects/${pid}/campaigns`, {
        name: `c${c}`,
        entry: { api: true },
        start: 'send',
        nodes: [
          { id: 'send', type: 'send', messageId, next: 'end' },
          { id: 'end', type: 'end' },
        ],
      });
      await call('POST', `/projects/${pid}/campaigns/${created.id}/start`, {});
      await call('POST', `/projects/${pid}/campaigns/${created.id}/contacts`, { contactIds });
      campaigns.push(created.id);
    }
    const expected = (SENDINGS + CAMPAIGNS) * CONTACTS;
    await waitFor(
      async () => {
        const states = await Promise.all(sendings.map((id) => call<{ status: string }>('GET', `/projects/${pid}/sendings/${id}`)));
        const left = await store.db.selectFrom('campaign_contacts').select('contact_id').where('state', '=', 'active').executeTakeFirst();
        const sends = await store.db.selectFrom('campaign_sends').select('sending_id').where('sending_id', 'is', null).executeTakeFirst();
        return received.length >= expected && states.every((s) => s.status === 'sent') && left === undefined && sends === undefined;
      },
      180_000,
      () => `${received.length} of ${expected} received\n${workers.map((w) => w.output().slice(-2000)).join('\n---\n')}`,
    );
    // Let a duplicate, if any step ran twice, arrive.
    await new Promise((r) => setTimeout(r, 3000));
    const pairs = received.map((r) => `${r.subject}|${r.to}`);
    expect(new Set(pairs).size).toBe(expected);
    expect(pairs).toHaveLength(expected);
    for (let c = 0; c < CAMPAIGNS; c++) expect(pairs.filter((p) => p.startsWith(`campaign ${c}|`))).toHaveLength(CONTACTS);
    const completed = await store.db.selectFrom('campaign_contacts').select((eb) => eb.fn.countAll<number>().as('n')).where('state', '=', 'completed').executeTakeFirstOrThrow();
    expect(Number(completed.n)).toBe(CAMPAIGNS * CONTACTS);

    // The runners' step log: steps of several kinds, run by several workers, and never two of one job at once.
    const steps = workers.flatMap((w) => stepsOf(w, w.child.pid ?? 0));
    const kinds = new Set(steps.map((s) => s.kind));
    expect(kinds).toContain('sending');
    expect(kinds).toContain('campaign');
    expect(kinds).toContain('housekeeping');
    expect(new Set(steps.map((s) => s.pid)).size).toBeGreaterThan(1);
    const byJob = new Map<number, typeof steps>();
    for (const s of steps) byJob.set(s.jobId, [...(byJob.get(s.jobId) ?? []), s]);
    const overlaps: string[] = [];
    for (const [jobId, runs] of byJob) {
      runs.sort((a, b) => a.startedAt - b.startedAt);
      for (let i = 1; i < runs.length; i++) {
        const before = runs[i - 1]!;
        const run = runs[i]!;
        if (run.startedAt < before.finishedAt) overlaps.push(`job ${jobId} (${run.kind}): pid ${before.pid} ${before.startedAt}–${before.finishedAt} and pid ${run.pid} from ${run.startedAt}`);
      }
    }
    expect(overlaps).toEqual([]);
    // Jobs of a sending and of a campaign each took several steps, so the exclusion above was put to the test.
    expect(Math.max(...[...byJob.values()].map((runs) => runs.length))).toBeGreaterThan(1);
  }, 240_000);

  it('an import posted while the workers run is applied once by the api process that received it (imports are not jobs)', async () => {
    const project = await apiOf(api.base, ADMIN)<{ id: string }>('POST', '/projects', { name: 'exclusive-import' });
    const rows = Array.from({ length: 3000 }, (_, i) => `i${i}@exclusive.test,1,2025-01-01`).join('\n');
    const res = await fetch(`${api.base}/api/v1/projects/${project.id}/imports?map=${encodeURIComponent('E-mail:email,Consent:hasTrackingConsent,Date:dtTrackingConsent')}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'text/csv' },
      body: `E-mail,Consent,Date\n${rows}\n`,
    });
    expect(res.status).toBeLessThan(300);
    const record = (await res.json()) as { id: string };
    await waitFor(
      async () => (await apiOf(api.base, ADMIN)<{ status: string }>('GET', `/projects/${project.id}/imports/${record.id}`)).status === 'done',
      60_000,
      () => api.output(),
    );
    const done = await apiOf(api.base, ADMIN)<{ counts: { rows: number; created: number; updated: number; unchanged: number } }>('GET', `/projects/${project.id}/imports/${record.id}`);
    expect(done.counts).toMatchObject({ rows: 3000, created: 3000, updated: 0, unchanged: 0 });
    const history = await store.db
      .selectFrom('consent_history')
      .select(['contact_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('project_id', '=', Number(project.id))
      .groupBy('contact_id')
      .execute();
    expect(history).toHaveLength(3000);
    expect(history.every((h) => Number(h.n) === 1)).toBe(true);
  }, 120_000);
});
