// A probe sent malformed input and got 500s, lost the valid records of a batch, or crashed the process (issue 9,
// item 2): each test replays one probe and expects a 400 problem+json (per record in batches), never a 5xx.
import { readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, dialects, startTestApp, type TestApp } from '../helpers/harness.js';

const HUMAN_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';

function deep(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = { leaf: 1 };
  for (let i = 0; i < levels; i++) value = { n: value };
  return value;
}

interface MergeBody {
  results: { index: number; result: string; contactId?: string; error?: string }[];
}

for (const dialect of dialects()) {
  describe(`malformed input (${dialect})`, () => {
    let t: TestApp;
    let pid: string;

    beforeAll(async () => {
      t = await startTestApp(dialect);
      pid = await createProject(t, { tracking: { enabled: true, mode: 'opt-out' } });
    });
    afterAll(() => t.close());

    const merge = (records: unknown[]) => t.api<MergeBody>('POST', `/api/v1/projects/${pid}/contacts/merge`, { records });

    it('a lone surrogate in an email is rejected per record and the batch keeps its valid records', async () => {
      const res = await merge([{ email: 'lone\ud800@example.com' }, { email: 'ok-surrogate@example.com' }, { externalId: 'x\udc00' }]);
      expect(res.status).toBe(200);
      expect(res.body.results.map((r) => r.result)).toEqual(['rejected', 'created', 'rejected']);
      expect(res.body.results[0]?.error).toMatch(/email: .*surrogate/);
      expect(res.body.results[0]?.contactId).toBeUndefined();
      // The next merge of the same batch still answers (it gave a 500 once a NULL-contact history entry existed).
      const again = await merge([{ email: 'lone\ud800@example.com', hasTrackingConsent: true }, { email: 'ok-surrogate@example.com', hasTrackingConsent: true }]);
      expect(again.status).toBe(200);
      expect(again.body.results.map((r) => r.result)).toEqual(['rejected', 'updated']);
    });

    it('a NUL byte in email, externalId, phone or a field is rejected per record, never stored', async () => {
      const res = await merge([
        { email: 'nul\u0000@example.com' },
        { externalId: 'ext\u0000' },
        { email: 'nul-phone@example.com', phone: '+33\u00001' },
        { email: 'nul-field@example.com', fields: { note: 'a\u0000b' } },
        { email: 'nul-key@example.com', fields: { 'k\u0000': 'v' } },
        { email: 'kept-nul@example.com', phone: '+331' },
      ]);
      expect(res.status).toBe(200);
      expect(res.body.results.map((r) => r.result)).toEqual(['rejected', 'rejected', 'rejected', 'rejected', 'rejected', 'created']);
      expect(res.body.results.map((r) => r.error?.split(':')[0])).toEqual(['email', 'externalId', 'phone', 'fields.note', 'fields.k?', undefined]);
      const list = await t.api<{ items: { email: string }[] }>('GET', `/api/v1/projects/${pid}/contacts?search=nul`);
      expect(list.body.items.map((c) => c.email)).toEqual(['kept-nul@example.com']);
    });

    it('fields nested 10,000 levels deep do not overflow the stack: that record is rejected, the others kept', async () => {
      const res = await t.api<MergeBody>('POST', `/api/v1/projects/${pid}/contacts/merge`, `{"records":[{"email":"deep@example.com","fields":${'{"n":'.repeat(10_000)}1${'}'.repeat(10_000)}},{"email":"kept-deep@example.com"}]}`);
      expect(res.status).toBe(200);
      expect(res.body.results.map((r) => r.result)).toEqual(['rejected', 'created']);
      expect(res.body.results[0]?.error).toMatch(/^fields: nested deeper than 5 levels/);
    });

    it('custom fields are bounded to 5 levels and 16 KB per record', async () => {
      const res = await merge([
        { email: 'depth5@example.com', fields: deep(3) },
        { email: 'depth6@example.com', fields: deep(5) },
        { email: 'big@example.com', fields: { note: 'x'.repeat(17_000) } },
        { email: 'big-utf8@example.com', fields: { note: 'é'.repeat(9_000) } },
        { email: 'fits@example.com', fields: { note: 'x'.repeat(15_000) } },
      ]);
      expect(res.body.results.map((r) => r.result)).toEqual(['created', 'rejected', 'rejected', 'rejected', 'created']);
      expect(res.body.results[2]?.error).toBe('fields: larger than 16 KB');
    });

    it('a consent date before 1970 is bad input, per record in a merge and 400 on the consent route', async () => {
      const res = await merge([{ email: 'old@example.com', hasTrackingConsent: true, dtTrackingConsent: '1969-12-31T23:59:59Z' }, { email: 'new@example.com', hasTrackingConsent: true, dtTrackingConsent: '1970-01-01' }]);
      expect(res.body.results.map((r) => r.result)).toEqual(['rejected', 'created']);
      expect(res.body.results[0]?.error).toMatch(/^dtTrackingConsent: .*before 1970/);
      const cid = res.body.results[1]?.contactId as string;
      const put = await t.api<{ errors: { field: string }[] }>('PUT', `/api/v1/projects/${pid}/contacts/${cid}/tracking-consent`, { consent: false, date: '1900-01-01' });
      expect(put.status).toBe(400);
      expect(put.headers['content-type']).toMatch(/application\/problem\+json/);
    });

    it('a NUL byte or lone surrogate anywhere else in a request is a 400 naming the field (PostgreSQL gave 500)', async () => {
      const cases: [string, string, unknown, string][] = [
        ['PATCH', `/api/v1/projects/${pid}`, { name: 'x\u0000y' }, 'name'],
        ['POST', `/api/v1/projects/${pid}/messages`, { channel: 'push', name: 'n', communicationType: 't', body: '\u0000' }, 'body'],
        ['POST', `/api/v1/projects/${pid}/groups`, { name: '\ud800', criteria: { field: 'email', op: 'exists' } }, 'name'],
        ['GET', `/api/v1/projects/${pid}/contacts?search=a%00b`, undefined, 'search'],
      ];
      for (const [method, url, body, field] of cases) {
        const res = await t.api<{ errors: { field: string }[] }>(method as 'GET', url, body);
        expect(res.status, `${method} ${url}`).toBe(400);
        expect(res.body.errors[0]?.field).toBe(field);
      }
    });

    it('a truncated or garbage multipart import body is a 400 problem+json', async () => {
      const boundary = 'XyZ123';
      const truncated = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\nContent-Type: text/csv\r\n\r\nemail\r\na@example.com\r\n`;
      const bodies: [string, string][] = [
        [`multipart/form-data; boundary=${boundary}`, truncated],
        [`multipart/form-data; boundary=${boundary}`, 'garbage without any boundary'],
        ['multipart/form-data', truncated],
        [`multipart/form-data; boundary=${boundary}`, `--${boundary}\r\nno headers at all\r\n`],
      ];
      for (const [type, payload] of bodies) {
        const res = await t.app.inject({ method: 'POST', url: `/api/v1/projects/${pid}/imports`, headers: { authorization: 'Bearer test-admin-key', 'content-type': type }, payload });
        expect(res.statusCode, `${type} ${JSON.stringify(payload.slice(0, 30))}: ${res.body}`).toBe(400);
        expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      }
    });

    it('a link with CR/LF, tab, space or non-ASCII is percent-encoded, and its click redirects with a valid Location', async () => {
      const merged = await merge([{ email: 'clicker@example.com', hasTrackingConsent: true }]);
      const cid = merged.body.results[0]?.contactId as string;
      const message = await t.api<{ id: string }>('POST', `/api/v1/projects/${pid}/messages`, {
        channel: 'email',
        name: 'crlf',
        communicationType: 'newsletter',
        subject: 'Links',
        html: '<html><body><a href="https://example.com/a&#13;&#10;Set-Cookie: x=1">A</a> <a href="https://example.com/b c\td?q=café">B</a></body></html>',
      });
      expect(message.status).toBe(201);
      const sending = await t.api<{ id: string }>('POST', `/api/v1/projects/${pid}/sendings`, { messageId: message.body.id, target: { contactIds: [cid] } });
      expect(sending.status).toBe(201);
      while (await t.ctx.jobs.runOnce()) {
        // drain
      }
      const dir = join(t.config.dataDir, 'outbox', sending.body.id);
      const eml = readFileSync(join(dir, readdirSync(dir).find((f) => f.endsWith('.eml')) as string), 'utf8').replace(/=\r?\n/g, '').replace(/=3D/g, '=');
      const clicks = [...new Set([...eml.matchAll(/(\/t\/c\/[A-Za-z0-9_-]+)/g)].map((m) => m[1] as string))];
      expect(clicks).toHaveLength(2);
      const locations: string[] = [];
      for (const path of clicks) {
        const res = await t.app.inject({ method: 'GET', url: path, headers: { 'user-agent': HUMAN_UA } });
        expect(res.statusCode).toBe(302);
        locations.push(String(res.headers.location));
      }
      await t.ctx.events.flush();
      expect(locations.sort()).toEqual(['https://example.com/a%0D%0ASet-Cookie:%20x=1', 'https://example.com/b%20c%09d?q=caf%C3%A9']);
      for (const location of locations) expect(location).toMatch(/^[\x21-\x7e]+$/);
    });

    it('a 100k-character token and oversized headers are answered as problem+json, not a bare error', async () => {
      for (const url of [`/t/c/${'A'.repeat(100_000)}`, `/t/o/${'A'.repeat(10_000)}`, `/f/unsubscribe/${'A'.repeat(50_000)}`]) {
        const res = await t.app.inject({ method: 'GET', url });
        expect(res.statusCode).toBeGreaterThanOrEqual(400);
        expect(res.statusCode).toBeLessThan(500);
        expect(res.headers['content-type'], url.slice(0, 10)).toMatch(/application\/problem\+json/);
      }
    });

    it('oversized headers and a 100k-character URL on a real socket get 431 problem+json from the HTTP parser', async () => {
      await t.app.listen({ port: 0, host: '127.0.0.1' });
      const port = (t.app.server.address() as { port: number }).port;
      const raw = (request: string) =>
        new Promise<string>((resolve, reject) => {
          const socket = connect(port, '127.0.0.1', () => socket.write(request));
          let answer = '';
          socket.on('data', (chunk) => {
            answer += chunk.toString('latin1');
          });
          socket.on('end', () => resolve(answer));
          socket.on('close', () => resolve(answer));
          socket.on('error', reject);
        });
      const bigHeader = await raw(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
      const longUrl = await raw(`GET /t/c/${'A'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
      const garbage = await raw('NOT-HTTP \x00\x01\r\n\r\n');
      for (const [answer, status] of [[bigHeader, 431], [longUrl, 431], [garbage, 400]] as const) {
        expect(answer.split('\r\n')[0]).toBe(`HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}`);
        expect(answer).toMatch(/content-type: application\/problem\+json/i);
        expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toMatchObject({ status });
      }
    });
  });
}
