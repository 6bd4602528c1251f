// CSV imports are how most consent reaches trackguard: real exports carry BOMs, `;`, quoted line
// breaks and dirty rows, and a wrong line number or a stopped import sends an operator hunting blind.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, dialects, startTestApp, type TestApp } from '../helpers/harness.js';

interface ImportView {
  id: string;
  status: string;
  fileName: string | null;
  type: string;
  mapping: { column: string; target: string }[];
  counts: { rows: number; created: number; updated: number; unchanged: number; consentApplied: number; consentStale: number; rejected: number };
  error: string | null;
  startedAt: string;
  finishedAt: string | null;
}
interface Problem {
  status: number;
  code: string;
  errors?: { field: string; reason: string }[];
}
interface ContactPage {
  items: { id: string; email: string; fields: Record<string, unknown>; hasTrackingConsent: boolean | null; dtTrackingConsent: string | null }[];
}
interface HistoryEntry {
  action: string;
  date: string;
  source: string;
  detail?: string;
}

const MAP = 'E-mail:email,Consent:hasTrackingConsent,Date:dtTrackingConsent';

async function importCsv(t: TestApp, pid: string, csv: string | Buffer, query: Record<string, string> = {}, key?: string) {
  const qs = new URLSearchParams(query).toString();
  const res = await t.app.inject({
    method: 'POST',
    url: `/api/v1/projects/${pid}/imports${qs ? `?${qs}` : ''}`,
    headers: { authorization: `Bearer ${key ?? 'test-admin-key'}`, 'content-type': 'text/csv' },
    payload: csv,
  });
  return { status: res.statusCode, body: JSON.parse(res.body) as ImportView & Problem };
}

async function rejectedCsv(t: TestApp, pid: string, iid: string) {
  return t.app.inject({ method: 'GET', url: `/api/v1/projects/${pid}/imports/${iid}/rejected`, headers: { authorization: 'Bearer test-admin-key' } });
}

async function contact(t: TestApp, pid: string, email: string) {
  const page = await t.api<ContactPage>('GET', `/api/v1/projects/${pid}/contacts?email=${encodeURIComponent(email)}`);
  const found = page.body.items[0];
  if (!found) throw new Error(`no contact ${email}`);
  return found;
}

async function history(t: TestApp, pid: string, cid: string) {
  return (await t.api<HistoryEntry[]>('GET', `/api/v1/projects/${pid}/contacts/${cid}/consent-history`)).body;
}

for (const dialect of dialects()) {
  describe(dialect, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp(dialect);
    });
    afterAll(async () => {
      await t?.close();
    });

    it('reads a BOM, detects ";", keeps quoted line breaks and delimiters in a cell, and numbers lines physically with CRLF', async () => {
      const pid = await createProject(t, { tracking: { enabled: true } });
      const csv =
        '\uFEFFE-mail;Consent;Date;Note\r\n' +
        'ana@example.com;1;2025.03.04;"two\r\nlines; and a semicolon"\r\n' +
        'not-an-email;1;2025.03.04;x\r\n' +
        '\r\n' +
        'bob@example.com;0;2025-03-05;"say ""hi"""\r\n' +
        'carl@example.com;1;2025.03.06\r\n';
      const res = await importCsv(t, pid, csv, { map: `${MAP},Note:fields.note`, fileName: 'export.csv' });
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ status: 'done', fileName: 'export.csv', type: 'upsert' });
      expect(res.body.counts).toEqual({ rows: 4, created: 2, updated: 0, unchanged: 0, consentApplied: 2, consentStale: 0, rejected: 2 });
      const ana = await contact(t, pid, 'ana@example.com');
      expect(ana.fields).toEqual({ note: 'two\r\nlines; and a semicolon' });
      expect(ana.hasTrackingConsent).toBe(true);
      expect(ana.dtTrackingConsent).toBe('2025-03-04T00:00:00.000Z');
      expect((await contact(t, pid, 'bob@example.com')).fields).toEqual({ note: 'say "hi"' });
      const rejected = await rejectedCsv(t, pid, res.body.id);
      // ana spans lines 2-3, so the bad email is on line 4; carl (line 7) comes after an empty line 5 and bob on 6.
      expect(rejected.body).toBe(
        'line,reason,raw\n' +
          '4,"email: invalid email address ""not-an-email""",not-an-email;1;2025.03.04;x\n' +
          '7,"wrong column count: expected 4, got 3",carl@example.com;1;2025.03.06\n',
      );
    });

    it('an empty file and a header-only file are finished imports of zero rows', async () => {
      const pid = await createProject(t);
      for (const csv of ['', '\uFEFF', 'E-mail,Consent,Date\n', 'E-mail,Consent,Date']) {
        const res = await importCsv(t, pid, csv, { map: MAP });
        expect(res.status).toBe(202);
        expect(res.body.status).toBe('done');
        expect(res.body.counts.rows).toBe(0);
        expect(res.body.finishedAt).not.toBeNull();
      }
    });

    it('10,000 bad rows are each reported with their line and never stop the good rows between them', async () => {
      const pid = await createProject(t);
      const lines = ['email,hasTrackingConsent'];
      for (let i = 0; i < 10_000; i += 1) {
        lines.push(`bad-${i}-at-nowhere,1`);
        if (i % 1000 === 0) lines.push(`good${i}@example.com,0`);
      }
      const res = await importCsv(t, pid, `${lines.join('\n')}\n`);
      expect(res.body.status).toBe('done');
      expect(res.body.counts).toMatchObject({ rows: 10_010, created: 10, rejected: 10_000 });
      const rejected = await rejectedCsv(t, pid, res.body.id);
      const out = rejected.body.trim().split('\n');
      expect(out).toHaveLength(10_001);
      expect(out[1]).toBe('2,"email: invalid email address ""bad-0-at-nowhere""","bad-0-at-nowhere,1"');
      // Line 3 is good0; bad-1 is on line 4, and the last bad row is on the file's last line.
      expect(out[2]?.startsWith('4,')).toBe(true);
      expect(out[10_000]?.startsWith(`${lines.length},`)).toBe(true);
    });

    it('a stale import date does not overwrite a newer refusal, and a future date is rejected', async () => {
      const pid = await createProject(t, { tracking: { enabled: true } });
      await t.api('POST', `/api/v1/projects/${pid}/contacts/merge`, { records: [{ email: 'dana@example.com', hasTrackingConsent: false, dtTrackingConsent: '2025-06-01' }] });
      const res = await importCsv(t, pid, 'E-mail,Consent,Date\ndana@example.com,1,2025.01.01\neve@example.com,1,2999.01.01\n', { map: MAP });
      expect(res.body.counts).toMatchObject({ rows: 2, unchanged: 1, consentStale: 1, consentApplied: 0, rejected: 1 });
      const dana = await contact(t, pid, 'dana@example.com');
      expect(dana.hasTrackingConsent).toBe(false);
      expect(dana.dtTrackingConsent).toBe('2025-06-01T00:00:00.000Z');
      expect((await rejectedCsv(t, pid, res.body.id)).body).toContain('3,dtTrackingConsent: 2999.01.01 is in the future');
    });

    it('reads Dialog-Insight style 1/0 consent with YYYY.MM.DD dates, and an undated consent takes the import start', async () => {
      const pid = await createProject(t, { tracking: { enabled: true } });
      const res = await importCsv(t, pid, 'E-mail;Consent;Date\nfay@example.com;1;2024.12.31\ngus@example.com;0;2024.02.29\nhal@example.com;1;\nivy@example.com;maybe;2024.01.01\n', { map: MAP });
      expect(res.body.counts).toMatchObject({ rows: 4, created: 3, consentApplied: 3, rejected: 1 });
      expect(await contact(t, pid, 'fay@example.com')).toMatchObject({ hasTrackingConsent: true, dtTrackingConsent: '2024-12-31T00:00:00.000Z' });
      expect(await contact(t, pid, 'gus@example.com')).toMatchObject({ hasTrackingConsent: false, dtTrackingConsent: '2024-02-29T00:00:00.000Z' });
      expect((await contact(t, pid, 'hal@example.com')).dtTrackingConsent).toBe(res.body.startedAt);
      expect((await rejectedCsv(t, pid, res.body.id)).body).toContain('5,"hasTrackingConsent: unknown consent value ""maybe""');
    });

    it('each applied consent change is in the history with source import:<id> and its line', async () => {
      const pid = await createProject(t, { tracking: { enabled: true } });
      const res = await importCsv(t, pid, 'E-mail,Consent,Date\n\njo@example.com,0,2025-02-02\n', { map: MAP });
      const jo = await contact(t, pid, 'jo@example.com');
      const entries = await history(t, pid, jo.id);
      expect(entries.map((e) => ({ action: e.action, source: e.source, detail: e.detail }))).toEqual([{ action: 'refused', source: `import:${res.body.id}`, detail: 'line 3' }]);
    });

    it('re-running the same file changes nothing: every row unchanged, no history written', async () => {
      const pid = await createProject(t, { tracking: { enabled: true } });
      const csv = 'E-mail,Consent,Date,City\nkim@example.com,1,2025.01.01,Lyon\nlou@example.com,0,,Paris\nmax@example.com,,,Nice\n';
      const first = await importCsv(t, pid, csv, { map: `${MAP},City:fields.city` });
      expect(first.body.counts).toMatchObject({ rows: 3, created: 3, consentApplied: 2 });
      const second = await importCsv(t, pid, csv, { map: `${MAP},City:fields.city` });
      expect(second.body.counts).toEqual({ rows: 3, created: 0, updated: 0, unchanged: 3, consentApplied: 0, consentStale: 0, rejected: 0 });
      const lou = await contact(t, pid, 'lou@example.com');
      expect(lou.dtTrackingConsent).toBe(first.body.startedAt);
      expect(await history(t, pid, lou.id)).toHaveLength(1);
    });

    it('update-only touches existing contacts only; add-only creates new ones and leaves existing ones alone', async () => {
      const pid = await createProject(t, { tracking: { enabled: true } });
      await importCsv(t, pid, 'email,city\nold@example.com,Lyon\n');
      const update = await importCsv(t, pid, 'email,city\nold@example.com,Paris\nnew@example.com,Nice\n', { type: 'update-only' });
      expect(update.body).toMatchObject({ type: 'update-only', counts: { rows: 2, updated: 1, created: 0, rejected: 1 } });
      expect((await contact(t, pid, 'old@example.com')).fields).toEqual({ city: 'Paris' });
      expect((await rejectedCsv(t, pid, update.body.id)).body).toContain('3,no existing contact matches this record (update-only import)');
      const add = await importCsv(t, pid, 'email,city\nold@example.com,Rome\nnew@example.com,Nice\n', { type: 'add-only' });
      expect(add.body.counts).toMatchObject({ rows: 2, created: 1, unchanged: 1, rejected: 0 });
      expect((await contact(t, pid, 'old@example.com')).fields).toEqual({ city: 'Paris' });
    });

    it('without a map, columns named like targets map themselves and others become custom fields', async () => {
      const pid = await createProject(t, { tracking: { enabled: true } });
      const res = await importCsv(t, pid, 'Email,hasTrackingConsent,dtTrackingConsent,Company\nned@example.com,true,2025-01-01T10:00:00Z,ACME\n', { delimiter: ',' });
      expect(res.body.mapping).toEqual([
        { column: 'Email', target: 'email' },
        { column: 'hasTrackingConsent', target: 'hasTrackingConsent' },
        { column: 'dtTrackingConsent', target: 'dtTrackingConsent' },
        { column: 'Company', target: 'fields.Company' },
      ]);
      expect(await contact(t, pid, 'ned@example.com')).toMatchObject({ hasTrackingConsent: true, fields: { Company: 'ACME' } });
    });

    it('an unclosed quote keeps the rows before it and reports the rest from its line', async () => {
      const pid = await createProject(t);
      const res = await importCsv(t, pid, 'email,note\nok1@example.com,a\n"broken@example.com,b\nok2@example.com,c\n');
      expect(res.body.status).toBe('done');
      expect(res.body.counts).toMatchObject({ rows: 2, created: 1, rejected: 1 });
      expect((await rejectedCsv(t, pid, res.body.id)).body).toContain('3,unclosed quote: lines 3 to 4');
    });

    it('a bad mapping is a 400 on the map field and stores no import', async () => {
      const pid = await createProject(t);
      const csv = 'E-mail,Consent\na@example.com,1\n';
      for (const map of ['E-mail:mail', 'Mail:email', 'Consent:hasTrackingConsent']) {
        const res = await importCsv(t, pid, csv, { map });
        expect(res.status).toBe(400);
        expect(res.body.errors?.[0]?.field).toBe('map');
      }
      const noKey = await importCsv(t, pid, 'name,city\nx,y\n');
      expect(noKey.status).toBe(400);
      expect(noKey.body.errors?.[0]?.field).toBe('map');
      const rows = await t.ctx.store.db.selectFrom('imports').select('id').where('project_id', '=', Number(pid)).execute();
      expect(rows).toHaveLength(0);
    });

    it('accepts a multipart upload with the file and the mapping as form fields, and GET returns the record', async () => {
      const pid = await createProject(t, { tracking: { enabled: true } });
      const boundary = `----tg${randomBytes(6).toString('hex')}`;
      const part = (headers: string, body: string) => `--${boundary}\r\n${headers}\r\n\r\n${body}\r\n`;
      const payload =
        part('Content-Disposition: form-data; name="map"', MAP) +
        part('Content-Disposition: form-data; name="delimiter"', ';') +
        part('Content-Disposition: form-data; name="file"; filename="crm.csv"\r\nContent-Type: text/csv', 'E-mail;Consent;Date\r\nomar@example.com;1;2025.05.05\r\n') +
        `--${boundary}--\r\n`;
      const res = await t.app.inject({
        method: 'POST',
        url: `/api/v1/projects/${pid}/imports?type=upsert`,
        headers: { authorization: 'Bearer test-admin-key', 'content-type': `multipart/form-data; boundary=${boundary}` },
        payload,
      });
      expect(res.statusCode).toBe(202);
      const record = JSON.parse(res.body) as ImportView;
      expect(record).toMatchObject({ status: 'done', fileName: 'crm.csv', counts: { rows: 1, created: 1, consentApplied: 1 } });
      const got = await t.api<ImportView>('GET', `/api/v1/projects/${pid}/imports/${record.id}`);
      expect(got.status).toBe(200);
      expect(got.body).toEqual(record);
    });

    it("another project's import is a 404, for the admin key under the wrong project and for the other project's key", async () => {
      const a = await createProject(t);
      const b = await createProject(t);
      const res = await importCsv(t, a, 'email\nzed@example.com\n');
      expect((await t.api('GET', `/api/v1/projects/${b}/imports/${res.body.id}`)).status).toBe(404);
      expect((await rejectedCsv(t, b, res.body.id)).statusCode).toBe(404);
      const keyB = await t.api<{ key: string }>('POST', `/api/v1/projects/${b}/keys`, { name: 'b' });
      expect((await t.api('GET', `/api/v1/projects/${a}/imports/${res.body.id}`, undefined, keyB.body.key)).status).toBe(404);
      expect((await importCsv(t, a, 'email\nx@example.com\n', {}, keyB.body.key)).status).toBe(404);
    });
  });
}
