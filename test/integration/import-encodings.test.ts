// Spreadsheets export windows-1252 and UTF-16, and a file read as the wrong encoding used to be imported with
// U+FFFD in place of its letters, silently. Every line is decoded strictly: what does not decode is rejected by number.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, dialects, startTestApp, type TestApp } from '../helpers/harness.js';

interface ImportView {
  id: string;
  status: string;
  counts: { rows: number; created: number; rejected: number };
}
interface Problem {
  status: number;
  errors?: { field: string; reason: string }[];
}

const BOM_LE = Buffer.from([0xff, 0xfe]);
const BOM_BE = Buffer.from([0xfe, 0xff]);
const utf16le = (text: string) => Buffer.concat([BOM_LE, Buffer.from(text, 'utf16le')]);
const utf16be = (text: string) => Buffer.concat([BOM_BE, Buffer.from(Buffer.from(text, 'utf16le')).swap16()]);
/** windows-1252 bytes of a text made of ASCII, ü (0xFC), é (0xE9) and € (0x80). */
const cp1252 = (text: string) => Buffer.from([...text].map((c) => ({ ü: 0xfc, é: 0xe9, '€': 0x80 })[c] ?? c.charCodeAt(0)));

const ROWS = 'email,city\r\nzoe@example.com,Zürich\r\nbad-address,x\r\neuro@example.com,€ café\r\n';

for (const dialect of dialects()) {
  describe(`import encodings (${dialect})`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp(dialect);
    });
    afterAll(async () => {
      await t?.close();
    });

    const importCsv = async (pid: string, csv: Buffer, query: Record<string, string> = {}) => {
      const qs = new URLSearchParams(query).toString();
      const res = await t.app.inject({
        method: 'POST',
        url: `/api/v1/projects/${pid}/imports${qs ? `?${qs}` : ''}`,
        headers: { authorization: 'Bearer test-admin-key', 'content-type': 'text/csv' },
        payload: csv,
      });
      return { status: res.statusCode, body: JSON.parse(res.body) as ImportView & Problem };
    };
    const rejected = async (pid: string, iid: string) =>
      (await t.app.inject({ method: 'GET', url: `/api/v1/projects/${pid}/imports/${iid}/rejected`, headers: { authorization: 'Bearer test-admin-key' } })).body;
    const cities = async (pid: string) => {
      const page = await t.api<{ items: { email: string; fields: { city?: string } }[] }>('GET', `/api/v1/projects/${pid}/contacts?limit=100`);
      return Object.fromEntries(page.body.items.map((c) => [c.email, c.fields.city]));
    };
    const expectImported = async (pid: string, res: { status: number; body: ImportView }) => {
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      expect(res.body).toMatchObject({ status: 'done', counts: { rows: 3, created: 2, rejected: 1 } });
      expect(await cities(pid)).toEqual({ 'zoe@example.com': 'Zürich', 'euro@example.com': '€ café' });
      expect(await rejected(pid, res.body.id)).toMatch(/\n3,"?email: /);
    };

    it('reads windows-1252, and latin1 as windows-1252 (the WHATWG reading, so 0x80 is €)', async () => {
      for (const encoding of ['windows-1252', 'latin1']) {
        const pid = await createProject(t);
        await expectImported(pid, await importCsv(pid, cp1252(ROWS), { encoding }));
      }
    });

    it('reads UTF-16 LE and BE from their byte-order mark, with encoding=utf-16 or without any encoding', async () => {
      for (const [bytes, query] of [
        [utf16le(ROWS), { encoding: 'utf-16' }],
        [utf16be(ROWS), { encoding: 'utf-16' }],
        [utf16le(ROWS), {}],
        [utf16be(ROWS), { encoding: 'utf-8' }],
      ] as const) {
        const pid = await createProject(t);
        await expectImported(pid, await importCsv(pid, bytes, query));
      }
      const pid = await createProject(t);
      await expectImported(pid, await importCsv(pid, Buffer.from(ROWS, 'utf16le'), { encoding: 'utf-16le' }));
    });

    it('rejects a line that is not valid UTF-8 with its number, imports the lines around it and stores no U+FFFD', async () => {
      const pid = await createProject(t);
      const csv = Buffer.concat([Buffer.from('email,city\nok1@example.com,Lyon\n"two\nlines@example.com",x\nbad@example.com,Z'), Buffer.from([0xfc]), Buffer.from('rich\nok2@example.com,Nice\n')]);
      const res = await importCsv(pid, csv);
      expect(res.body).toMatchObject({ status: 'done', counts: { rows: 4, created: 2, rejected: 2 } });
      const report = await rejected(pid, res.body.id);
      expect(report).toContain('5,"not valid UTF-8 (at character 18)');
      expect(report).toMatch(/\n3,"?email: /);
      const stored = await cities(pid);
      expect(stored).toEqual({ 'ok1@example.com': 'Lyon', 'ok2@example.com': 'Nice' });
      expect(JSON.stringify(stored)).not.toContain('\uFFFD');
    });

    it('rejects a UTF-16 line holding a lone surrogate with its number', async () => {
      const pid = await createProject(t);
      const good = Buffer.from('email,city\nok@example.com,Lyon\n', 'utf16le');
      const lone = Buffer.concat([Buffer.from('bad@example.com,', 'utf16le'), Buffer.from([0x00, 0xd8]), Buffer.from('\nok2@example.com,Nice\n', 'utf16le')]);
      const res = await importCsv(pid, Buffer.concat([BOM_LE, good, lone]), { encoding: 'utf-16' });
      expect(res.body).toMatchObject({ status: 'done', counts: { rows: 3, created: 2, rejected: 1 } });
      expect(await rejected(pid, res.body.id)).toContain('3,"not valid UTF-16LE');
    });

    it('an unknown encoding is a 400 naming the allowed values, as a query parameter and as a multipart field', async () => {
      const pid = await createProject(t);
      const query = await importCsv(pid, Buffer.from('email\na@example.com\n'), { encoding: 'ebcdic' });
      expect(query.status).toBe(400);
      expect(query.body.errors).toEqual([{ field: 'encoding', reason: 'must be one of utf-8, windows-1252, latin1, utf-16, utf-16le, utf-16be' }]);
      const boundary = `----tg${randomBytes(6).toString('hex')}`;
      const payload =
        `--${boundary}\r\nContent-Disposition: form-data; name="encoding"\r\n\r\nebcdic\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\nContent-Type: text/csv\r\n\r\nemail\na@example.com\n\r\n--${boundary}--\r\n`;
      const multipart = await t.app.inject({
        method: 'POST',
        url: `/api/v1/projects/${pid}/imports`,
        headers: { authorization: 'Bearer test-admin-key', 'content-type': `multipart/form-data; boundary=${boundary}` },
        payload,
      });
      expect(multipart.statusCode).toBe(400);
      expect((JSON.parse(multipart.body) as Problem).errors).toEqual([{ field: 'encoding', reason: 'must be one of utf-8, windows-1252, latin1, utf-16, utf-16le, utf-16be' }]);
      const doc = (await t.app.inject({ method: 'GET', url: '/api/openapi.json' })).body;
      expect(doc).toContain('"windows-1252"');
    });

    it('a multipart upload takes its encoding from a form field', async () => {
      const pid = await createProject(t);
      const boundary = `----tg${randomBytes(6).toString('hex')}`;
      const payload = Buffer.concat([
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="encoding"\r\n\r\nwindows-1252\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\nContent-Type: text/csv\r\n\r\n`),
        cp1252(ROWS),
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      const res = await t.app.inject({
        method: 'POST',
        url: `/api/v1/projects/${pid}/imports`,
        headers: { authorization: 'Bearer test-admin-key', 'content-type': `multipart/form-data; boundary=${boundary}` },
        payload,
      });
      await expectImported(pid, { status: res.statusCode, body: JSON.parse(res.body) as ImportView });
    });

    it('a header that does not decode, or utf-16 without a byte-order mark, is a 400 on encoding and stores no import', async () => {
      const pid = await createProject(t);
      const header = await importCsv(pid, Buffer.concat([Buffer.from('email,Stra'), Buffer.from([0xdf]), Buffer.from('e\na@example.com,x\n')]));
      expect(header.status).toBe(400);
      expect(header.body.errors?.[0]).toMatchObject({ field: 'encoding', reason: expect.stringContaining('the header row (line 1) is not valid UTF-8') });
      const noBom = await importCsv(pid, Buffer.from('email\na@example.com\n', 'utf16le'), { encoding: 'utf-16' });
      expect(noBom.status).toBe(400);
      expect(noBom.body.errors?.[0]?.field).toBe('encoding');
      const list = await t.api<{ items: unknown[] }>('GET', `/api/v1/projects/${pid}/imports`);
      expect(list.body.items).toEqual([]);
    });
  });
}
