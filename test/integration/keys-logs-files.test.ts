// A probe as an attacker would (issue 9 item 5) found personal data in request logs, world-readable database
// files, an open /metrics, JSON without security headers, objects naming another project's rules and sendings,
// and form tokens that could be replayed for two hours. Each test below replays one of those probes.
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signContactLink } from '../../src/domain/signed-link.js';
import { signToken } from '../../src/domain/token.js';
import { CSRF_TTL_MS } from '../../src/http/forms/csrf.js';
import { ADMIN_KEY, createProject, dialects, freshDatabase, startTestApp, type TestApp } from '../helpers/harness.js';
import { startServer } from '../helpers/processes.js';

const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';
const mode = (path: string) => statSync(path).mode & 0o777;

async function formPage(t: TestApp, url: string) {
  const res = await t.app.inject({ method: 'GET', url, headers: { 'user-agent': UA } });
  return { status: res.statusCode, csrf: /name="csrf" value="([^"]+)"/.exec(res.body)?.[1] };
}

async function formPost(t: TestApp, url: string, fields: Record<string, string>) {
  const res = await t.app.inject({
    method: 'POST',
    url,
    remoteAddress: '203.0.113.9',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': UA },
    payload: new URLSearchParams(fields).toString(),
  });
  return res.statusCode;
}

for (const dialect of dialects()) {
  describe(`keys, logs and files (${dialect})`, () => {
    let now = Date.UTC(2026, 5, 1, 9);
    let t: TestApp;
    let pidA: string;
    let pidB: string;

    beforeAll(async () => {
      t = await startTestApp(dialect, { metricsToken: 'metrics-secret' }, () => now);
      pidA = await createProject(t, { tracking: { enabled: true, mode: 'opt-out' } });
      pidB = await createProject(t, { tracking: { enabled: true, mode: 'opt-out' } });
    });
    afterAll(() => t?.close());

    it("a message naming another project's injection rule is refused at save, on create and on edit", async () => {
      const rule = await t.api<{ id: string }>('POST', `/api/v1/projects/${pidB}/injection-rules`, { name: 'b-rule', domains: ['shop.example.com'], params: [{ name: 'utm_source', value: 'mail' }] });
      expect(rule.status).toBe(201);
      const body = { channel: 'email', name: 'cross', communicationType: 'newsletter', subject: 'S', html: '<p>hi</p>' };
      const refused = await t.api<{ errors: { field: string; reason: string }[] }>('POST', `/api/v1/projects/${pidA}/messages`, { ...body, injectionRuleIds: [Number(rule.body.id)] });
      expect(refused.status).toBe(400);
      expect(refused.body.errors[0]).toMatchObject({ field: 'injectionRuleIds', reason: expect.stringContaining(rule.body.id) });
      const own = await t.api<{ id: string }>('POST', `/api/v1/projects/${pidA}/injection-rules`, { name: 'a-rule', domains: ['shop.example.com'], params: [{ name: 'utm_source', value: 'mail' }] });
      const message = await t.api<{ id: string }>('POST', `/api/v1/projects/${pidA}/messages`, { ...body, injectionRuleIds: [Number(own.body.id)] });
      expect(message.status).toBe(201);
      const patched = await t.api('PATCH', `/api/v1/projects/${pidA}/messages/${message.body.id}`, { injectionRuleIds: [Number(own.body.id), Number(rule.body.id)] });
      expect(patched.status).toBe(400);
      const kept = await t.api<{ injectionRuleIds: number[] }>('GET', `/api/v1/projects/${pidA}/messages/${message.body.id}`);
      expect(kept.body.injectionRuleIds.map(Number)).toEqual([Number(own.body.id)]);
    });

    it("a group naming another project's sending or message is refused at save; its own are accepted", async () => {
      const message = await t.api<{ id: string }>('POST', `/api/v1/projects/${pidB}/messages`, { channel: 'email', name: 'b', communicationType: 'newsletter', subject: 'S', html: '<p>b</p>' });
      const sending = await t.api<{ id: string }>('POST', `/api/v1/projects/${pidB}/sendings`, { messageId: message.body.id, target: { contactIds: [] } });
      expect(sending.status).toBe(201);
      for (const criteria of [
        { behavior: 'clicked', sendingId: sending.body.id },
        { not: { behavior: 'opened', messageId: message.body.id } },
      ]) {
        const res = await t.api<{ code: string; errors: { reason: string }[] }>('POST', `/api/v1/projects/${pidA}/groups`, { name: 'cross', criteria });
        expect(res.status).toBe(400);
        expect(res.body.code).toBe('InvalidCriteria');
        expect(res.body.errors[0]?.reason).toMatch(/not in project/);
      }
      const group = await t.api<{ id: string }>('POST', `/api/v1/projects/${pidA}/groups`, { name: 'fine', criteria: { field: 'email', op: 'contains', value: '@' } });
      expect(group.status).toBe(201);
      expect((await t.api('PATCH', `/api/v1/projects/${pidA}/groups/${group.body.id}`, { criteria: { behavior: 'received', sendingId: sending.body.id } })).status).toBe(400);
      const ownMessage = await t.api<{ id: string }>('POST', `/api/v1/projects/${pidB}/messages`, { channel: 'email', name: 'b2', communicationType: 'newsletter', subject: 'S', html: '<p>b</p>' });
      expect((await t.api('POST', `/api/v1/projects/${pidB}/groups`, { name: 'own', criteria: { behavior: 'opened', messageId: ownMessage.body.id } })).status).toBe(201);
    });

    it('a form token works once, only on the page and for the contact it was shown for, and not after the hour', async () => {
      const merged = await t.api<{ results: { contactId: string }[] }>('POST', `/api/v1/projects/${pidA}/contacts/merge`, { records: [{ email: 'ann@example.com' }, { email: 'bob@example.com' }] });
      const [ann, bob] = merged.body.results.map((r) => Number(r.contactId)) as [number, number];
      const pageOf = (cid: number) => `/f/tracking-optout/${signContactLink(t.config.secrets, 'tracking-optout', Number(pidA), cid)}`;
      const shown = await formPage(t, pageOf(ann));
      expect(shown.status).toBe(200);
      // Ann's token on Bob's page: refused, Bob unchanged.
      expect(await formPost(t, pageOf(bob), { csrf: shown.csrf!, action: 'refuse' })).toBe(403);
      expect((await t.ctx.contacts.get(Number(pidA), bob)).hasTrackingConsent).toBeNull();
      expect(await formPost(t, pageOf(ann), { csrf: shown.csrf!, action: 'refuse' })).toBe(200);
      expect((await t.ctx.contacts.get(Number(pidA), ann)).hasTrackingConsent).toBe(false);
      // The captured request replayed later: refused, the accept it carries changes nothing.
      now += 60_000;
      expect(await formPost(t, pageOf(ann), { csrf: shown.csrf!, action: 'accept' })).toBe(403);
      expect((await t.ctx.contacts.get(Number(pidA), ann)).hasTrackingConsent).toBe(false);
      // A page left open past the hour: refused.
      const old = await formPage(t, pageOf(bob));
      now += CSRF_TTL_MS + 60_000;
      expect(await formPost(t, pageOf(bob), { csrf: old.csrf!, action: 'refuse' })).toBe(403);
      expect((await t.ctx.contacts.get(Number(pidA), bob)).hasTrackingConsent).toBeNull();
      // Housekeeping forgets spent tokens once they have expired anyway.
      now += 10 * 60_000;
      expect((await t.ctx.housekeeping.run(now)).spentTokens).toBeGreaterThan(0);
    });

    it('/metrics answers only with the metrics token; JSON answers and the API docs carry the security headers', async () => {
      expect((await t.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
      const wrong = await t.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer nope' } });
      expect(wrong.statusCode).toBe(401);
      expect(wrong.headers['content-type']).toContain('application/problem+json');
      const right = await t.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer metrics-secret' } });
      expect(right.statusCode).toBe(200);
      expect(right.body).toContain('trackguard_http_requests_total');
      for (const url of [`/api/v1/projects/${pidA}`, '/api/v1/projects/999999', '/api/openapi.json', '/healthz', '/f/unsubscribe/not-a-link']) {
        const res = await t.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${ADMIN_KEY}` } });
        expect(res.headers['x-content-type-options'], url).toBe('nosniff');
        expect(res.headers['content-security-policy'], url).toContain("frame-ancestors 'none'");
        expect(res.headers['x-frame-options'], url).toBe('DENY');
        expect(res.headers['referrer-policy'], url).toBeDefined();
      }
      let docs = await t.app.inject({ method: 'GET', url: '/api/docs' });
      for (let hops = 0; docs.statusCode >= 300 && docs.statusCode < 400 && hops < 3; hops++) {
        docs = await t.app.inject({ method: 'GET', url: new URL(String(docs.headers.location), 'http://x/api/docs/').pathname });
      }
      expect(docs.statusCode).toBe(200);
      expect(docs.body).toContain('swagger');
      expect(docs.headers['x-content-type-options']).toBe('nosniff');
      expect(docs.headers['content-security-policy']).toMatch(/script-src/);
      expect(docs.headers['content-security-policy']).not.toMatch(/script-src[^;]*'unsafe-inline'/);
    });
  });
}

// The rest needs a real server process: its log lines, the files it creates, what it leaves in `meta`.
for (const dialect of dialects()) {
  describe(`a server's logs, files and leftovers (${dialect})`, () => {
    let database: Awaited<ReturnType<typeof freshDatabase>>;
    let home: string;
    let dataDir: string;

    beforeAll(async () => {
      database = await freshDatabase(dialect);
      home = mkdtempSync(join(tmpdir(), 'trackguard-files-'));
      dataDir = join(home, 'not-yet', 'data');
    });
    afterAll(async () => {
      rmSync(home, { recursive: true, force: true });
      await database.drop();
    });

    const env = () => ({ TRACKGUARD_DATA_DIR: dataDir, DATABASE_URL: database.databaseUrl, TRACKGUARD_ADMIN_KEY: ADMIN_KEY, LOG_LEVEL: 'info', TRACKGUARD_SECRET: undefined });

    async function journalRows(): Promise<string[]> {
      if (dialect === 'sqlite') {
        const db = new SQLite(join(dataDir, 'trackguard.sqlite'), { fileMustExist: true });
        try {
          return (db.prepare("SELECT key FROM meta WHERE key LIKE 'hit-journal:%'").all() as { key: string }[]).map((r) => r.key);
        } finally {
          db.close();
        }
      }
      const client = new pg.Client({ connectionString: database.databaseUrl });
      await client.connect();
      try {
        return (await client.query<{ key: string }>("SELECT key FROM meta WHERE key LIKE 'hit-journal:%'")).rows.map((r) => r.key);
      } finally {
        await client.end();
      }
    }

    it('logs no query value and no tracking or form token, however the path is spelled', async () => {
      const server = await startServer(['serve'], env());
      try {
        const auth = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' };
        const project = (await (await fetch(`${server.base}/api/v1/projects`, { method: 'POST', headers: auth, body: JSON.stringify({ name: 'logs' }) })).json()) as { id: string };
        await fetch(`${server.base}/api/v1/projects/${project.id}/contacts?search=victim%40example.com&trackingStatus=refused`, { headers: auth });
        await fetch(`${server.base}/api/v1/projects/${project.id}/contacts?email=victim@example.com`, { headers: auth });
        for (const path of ['//t/c/SeCrEtToKeN1', '/t//c/SeCrEtToKeN2', '/%74/c/SeCrEtToKeN3', '/T/c/SeCrEtToKeN4', '//f/unsubscribe/SeCrEtToKeN5', '/t/c/SeCrEtToKeN6?u=victim@example.com']) {
          await fetch(`${server.base}${path}`, { redirect: 'manual' });
        }
        await new Promise((r) => setTimeout(r, 300));
        const output = server.output();
        expect(output).toContain(`/api/v1/projects/${project.id}/contacts?search=&trackingStatus=`);
        expect(output).not.toMatch(/victim/);
        expect(output).not.toMatch(/SeCrEtToKeN/);
      } finally {
        await server.stop();
      }
    });

    it('creates its data dir 0700 and its database, secret and journal files 0600', async () => {
      expect(mode(dataDir)).toBe(0o700);
      expect(mode(join(dataDir, 'secret'))).toBe(0o600);
      if (dialect === 'sqlite') {
        for (const file of ['trackguard.sqlite', 'trackguard.sqlite-wal', 'trackguard.sqlite-shm']) {
          if (existsSync(join(dataDir, file))) expect(mode(join(dataDir, file)), file).toBe(0o600);
        }
        expect(existsSync(join(dataDir, 'trackguard.sqlite'))).toBe(true);
      }
      const server = await startServer(['serve'], env());
      try {
        const journals = readdirSync(join(dataDir, 'journal'));
        expect(journals.length).toBeGreaterThan(0);
        for (const file of journals) expect(mode(join(dataDir, 'journal', file)), file).toBe(0o600);
      } finally {
        await server.stop();
      }
    });

    it("keeps no hit-journal row in meta for a process that stopped or was killed", async () => {
      const auth = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' };
      const secretEnv = { ...env(), TRACKGUARD_SECRET: 'meta-test-secret' };
      const first = await startServer(['serve'], secretEnv);
      const project = (await (await fetch(`${first.base}/api/v1/projects`, { method: 'POST', headers: auth, body: JSON.stringify({ name: 'meta' }) })).json()) as { id: string };
      const message = (await (
        await fetch(`${first.base}/api/v1/projects/${project.id}/messages`, { method: 'POST', headers: auth, body: JSON.stringify({ channel: 'email', name: 'm', communicationType: 'newsletter', subject: 'S', html: '<p>x</p>' }) })
      ).json()) as { id: string };
      const sending = (await (await fetch(`${first.base}/api/v1/projects/${project.id}/sendings`, { method: 'POST', headers: auth, body: JSON.stringify({ messageId: message.id, target: { contactIds: [] } }) })).json()) as { id: string };
      const open = (base: string, nonce: string) =>
        fetch(`${base}/t/o/${signToken('meta-test-secret', { kind: 'open', sendingId: Number(sending.id), linkIdx: 0, recipient: { nonce } })}`, { headers: { 'user-agent': UA } });
      expect((await open(first.base, 'AAAAAAAAAAA')).status).toBe(200);
      // A first hit may be acknowledged from the journal and committed a moment later.
      await expect.poll(async () => (await journalRows()).length, { timeout: 10_000 }).toBeGreaterThan(0);
      await first.stop('SIGKILL');
      const second = await startServer(['serve'], secretEnv);
      expect((await open(second.base, 'BBBBBBBBBBA')).status).toBe(200);
      // The killed process's row went with its journal at this start; this process's row goes when it stops.
      expect((await journalRows()).filter((key) => key.includes(`hits-${first.child.pid}-`))).toEqual([]);
      await second.stop();
      expect(await journalRows(), `${readdirSync(join(dataDir, 'journal')).join(',')} ${second.output()}`).toEqual([]);
    });
  });
}
