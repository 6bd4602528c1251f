// The admin app's contacts and imports screens lean on these routes: a search that must not treat `%` or `_`
// as wildcards, counts that follow the one tracked rule, and an import that answers while it runs so progress can be watched.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, dialects, startTestApp, type TestApp } from '../helpers/harness.js';
import { asUser, createUser, signIn } from '../helpers/session.js';

interface ImportView {
  id: string;
  status: 'running' | 'done' | 'failed';
  fileName: string | null;
  actor: string;
  rowsPerSecond: number;
  counts: { rows: number; created: number; updated: number; unchanged: number; consentApplied: number; consentStale: number; rejected: number };
  finishedAt: string | null;
}
interface ContactPage {
  items: { id: string; email: string | null; externalId: string | null }[];
  nextCursor: string | null;
}

async function postCsv(t: TestApp, pid: string, csv: string, query: string, headers: Record<string, string> = {}) {
  const res = await t.app.inject({
    method: 'POST',
    url: `/api/v1/projects/${pid}/imports?${query}`,
    headers: { authorization: 'Bearer test-admin-key', 'content-type': 'text/csv', ...headers },
    payload: csv,
  });
  return { status: res.statusCode, headers: res.headers, body: JSON.parse(res.body) as ImportView & { code?: string; errors?: { field: string }[] } };
}

/** The spooled upload is removed just after the import's last write: wait a moment for it. */
async function uploadsLeft(t: TestApp): Promise<string[]> {
  const dir = join(t.config.dataDir, 'uploads');
  for (let i = 0; i < 100 && readdirSync(dir).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
  return readdirSync(dir);
}

async function untilDone(t: TestApp, pid: string, iid: string): Promise<ImportView> {
  for (let i = 0; i < 600; i++) {
    const res = await t.api<ImportView>('GET', `/api/v1/projects/${pid}/imports/${iid}`);
    if (res.body.status !== 'running') return res.body;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('import never finished');
}

for (const dialect of dialects()) {
  describe(dialect, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp(dialect);
    });
    afterAll(async () => t?.close());

    it('search finds contacts by part of the email, external id or phone, any case, and % or _ match only themselves', async () => {
      const pid = await createProject(t, { tracking: { enabled: true } });
      await t.api('POST', `/api/v1/projects/${pid}/contacts/merge`, {
        records: [
          { email: 'Ana.Lopez@example.com' },
          { email: 'bob@example.org', externalId: 'CRM-77' },
          { email: 'carla_x@example.com', phone: '+15145550100' },
          { email: 'dan@example.com' },
        ],
      });
      const search = async (text: string) =>
        (await t.api<ContactPage>('GET', `/api/v1/projects/${pid}/contacts?search=${encodeURIComponent(text)}`)).body.items.map((c) => c.email).sort();
      expect(await search('ana.lo')).toEqual(['ana.lopez@example.com']);
      expect(await search('crm-7')).toEqual(['bob@example.org']);
      expect(await search('5550100')).toEqual(['carla_x@example.com']);
      expect(await search('_')).toEqual(['carla_x@example.com']);
      expect(await search('%')).toEqual([]);
      expect(await search('EXAMPLE.COM')).toEqual(['ana.lopez@example.com', 'carla_x@example.com', 'dan@example.com']);
      const tooLong = await t.api<{ errors: { field: string }[] }>('GET', `/api/v1/projects/${pid}/contacts?search=${'a'.repeat(201)}`);
      expect(tooLong.status).toBe(400);
      expect(tooLong.body.errors[0]?.field).toContain('search');
    });

    it('counts per tracking status follow the mode: opt-in tracks only Accepted, opt-out everyone but Refused', async () => {
      const pid = await createProject(t, { tracking: { enabled: true, mode: 'opt-in' } });
      await t.api('POST', `/api/v1/projects/${pid}/contacts/merge`, {
        records: [
          { email: 'a1@example.com', hasTrackingConsent: true },
          { email: 'a2@example.com', hasTrackingConsent: true },
          { email: 'r1@example.com', hasTrackingConsent: false },
          { email: 'u1@example.com' },
          { email: 'u2@example.com' },
          { email: 'u3@example.com' },
        ],
      });
      const optIn = await t.api('GET', `/api/v1/projects/${pid}/contacts/counts`);
      expect(optIn.body).toEqual({ contacts: 6, accepted: 2, refused: 1, unanswered: 3, tracked: 2, untracked: 4 });
      await t.api('PATCH', `/api/v1/projects/${pid}`, { tracking: { mode: 'opt-out' } });
      const optOut = await t.api('GET', `/api/v1/projects/${pid}/contacts/counts`);
      expect(optOut.body).toEqual({ contacts: 6, accepted: 2, refused: 1, unanswered: 3, tracked: 5, untracked: 1 });
    });

    it('an async import answers 202 while it runs, progresses to done, and leaves no upload behind', async () => {
      const pid = await createProject(t, { tracking: { enabled: true } });
      const rows = Array.from({ length: 6000 }, (_, i) => `u${i}@example.com;${i % 2};2025-01-0${(i % 9) + 1}`);
      const csv = `E-mail;Consent;Date\n${rows.join('\n')}\nnot-an-email;1;2025-01-01\n`;
      const res = await postCsv(t, pid, csv, 'async=true&map=E-mail:email,Consent:hasTrackingConsent,Date:dtTrackingConsent&fileName=big.csv');
      expect(res.status).toBe(202);
      expect(res.headers['preference-applied']).toBe('respond-async');
      expect(res.body.status).toBe('running');
      expect(res.body.counts.rows).toBeLessThan(6001);
      const done = await untilDone(t, pid, res.body.id);
      expect(done).toMatchObject({ status: 'done', fileName: 'big.csv', counts: { rows: 6001, created: 6000, consentApplied: 6000, rejected: 1 } });
      expect(done.rowsPerSecond).toBeGreaterThan(0);
      expect(await uploadsLeft(t)).toEqual([]);
    });

    it('the Prefer: respond-async header does the same, and a bad mapping is still a 400 on map with no import stored', async () => {
      const pid = await createProject(t);
      const bad = await postCsv(t, pid, 'E-mail\nx@example.com\n', 'map=Nope:email', { prefer: 'respond-async' });
      expect(bad.status).toBe(400);
      expect(bad.body.errors?.[0]?.field).toBe('map');
      const list = await t.api<{ items: ImportView[] }>('GET', `/api/v1/projects/${pid}/imports`);
      expect(list.body.items).toEqual([]);
      const ok = await postCsv(t, pid, 'email\nx@example.com\n', '', { prefer: 'respond-async' });
      expect(ok.status).toBe(202);
      expect((await untilDone(t, pid, ok.body.id)).counts.created).toBe(1);
      expect(await uploadsLeft(t)).toEqual([]);
    });

    it('the imports list is newest first and cursor-paged, per project, with the user who ran each', async () => {
      const pid = await createProject(t);
      const other = await createProject(t);
      await postCsv(t, other, 'email\nz@example.com\n', 'fileName=other.csv');
      await createUser(t, { email: 'mk@example.com', password: 'mk-password-1', role: 'marketer', projects: [pid] });
      const session = await signIn(t, 'mk@example.com', 'mk-password-1');
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await postCsv(t, pid, `email\nn${i}@example.com\n`, `fileName=f${i}.csv`);
        ids.push(res.body.id);
      }
      const first = await asUser<{ items: ImportView[]; nextCursor: string | null }>(t, session, 'GET', `/api/v1/projects/${pid}/imports?limit=2`);
      expect(first.status).toBe(200);
      expect(first.body.items.map((i) => i.fileName)).toEqual(['f2.csv', 'f1.csv']);
      expect(first.body.nextCursor).toBe(ids[1]);
      const second = await t.api<{ items: ImportView[]; nextCursor: string | null }>('GET', `/api/v1/projects/${pid}/imports?limit=2&cursor=${first.body.nextCursor}`);
      expect(second.body.items.map((i) => i.fileName)).toEqual(['f0.csv']);
      expect(second.body.nextCursor).toBeNull();
      expect(second.body.items[0]?.actor).toBe('api:admin');
      const bad = await t.api<{ errors: { field: string }[] }>('GET', `/api/v1/projects/${pid}/imports?limit=0`);
      expect(bad.status).toBe(400);
      expect(bad.body.errors[0]?.field).toContain('limit');
    });
  });
}
