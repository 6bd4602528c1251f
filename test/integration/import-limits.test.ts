// A CSV with one 50 MB line once took 1.4–2.1 GB of the server's memory (3.6 GB for three at once), reported 786
// invented rejects and lost the row after it. This runs a real server process and watches its peak RSS (VmHWM).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects, freshDatabase } from '../helpers/harness.js';
import { type ServerProcess, startServer } from '../helpers/processes.js';

const ADMIN = 'limits-admin-key';
const BIG = 50 * 1024 * 1024;
const PEAK_LIMIT_MB = 300;

interface ImportView {
  id: string;
  status: string;
  counts: { rows: number; created: number; rejected: number };
  error: string | null;
}

/** The upload, produced piece by piece: the test process never holds the 50 MB either. */
function* body(prefix: string, fill: number, suffix: string): Generator<Buffer> {
  yield Buffer.from(prefix);
  const piece = Buffer.alloc(64 * 1024, 'x');
  for (let left = fill; left > 0; left -= piece.length) yield left >= piece.length ? piece : piece.subarray(0, left);
  yield Buffer.from(suffix);
}

/** POSTs a streamed body with backpressure; resolves with the status and the parsed answer. */
function upload(base: string, path: string, contentType: string, parts: Iterable<Buffer>, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': contentType, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode ?? 0, body: text.startsWith('{') ? JSON.parse(text) : text });
      });
    });
    req.on('error', reject);
    const iterator = parts[Symbol.iterator]();
    const write = () => {
      for (;;) {
        const next = iterator.next();
        if (next.done) return void req.end();
        if (!req.write(next.value)) return void req.once('drain', write);
      }
    };
    write();
  });
}

/** The peak resident memory of a process since it started, in MB (Linux). */
function peakMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1]);
  return kb / 1024;
}

for (const dialect of dialects()) {
  describe.skipIf(process.platform !== 'linux')(`import limits on a running server (${dialect})`, () => {
    let database: Awaited<ReturnType<typeof freshDatabase>>;
    let server: ServerProcess;
    let dataDir: string;

    const call = async <T>(method: string, path: string, json?: unknown): Promise<T> => {
      const res = await fetch(`${server.base}/api/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${ADMIN}`, ...(json === undefined ? {} : { 'content-type': 'application/json' }) },
        body: json === undefined ? undefined : JSON.stringify(json),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
      return (res.headers.get('content-type') ?? '').includes('json') ? (JSON.parse(text) as T) : (text as T);
    };
    const project = async () => (await call<{ id: string }>('POST', '/projects', { name: `limits-${Math.random()}` })).id;
    const poll = async (pid: string, iid: string): Promise<ImportView> => {
      for (;;) {
        const record = await call<ImportView>('GET', `/projects/${pid}/imports/${iid}`);
        if (record.status !== 'running') return record;
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const bigLine = () => body('email,city\nfirst@example.com,Lyon\nbig@example.com,', BIG, '\nafter@example.com,Nice\n');
    const expectBigLineImport = async (pid: string, record: ImportView) => {
      expect(record).toMatchObject({ status: 'done', error: null, counts: { rows: 3, created: 2, rejected: 1 } });
      const rejected = await call<string>('GET', `/projects/${pid}/imports/${record.id}/rejected`);
      const lines = rejected.trim().split('\n');
      expect(lines).toHaveLength(2);
      expect(lines[1]).toMatch(/^3,"?record longer than 1 MiB/);
      const found = await call<{ items: { email: string }[] }>('GET', `/projects/${pid}/contacts?email=after%40example.com`);
      expect(found.items.map((c) => c.email)).toEqual(['after@example.com']);
    };

    beforeAll(async () => {
      database = await freshDatabase(dialect);
      dataDir = mkdtempSync(join(tmpdir(), 'trackguard-limits-'));
      server = await startServer(['serve'], {
        TRACKGUARD_DATA_DIR: dialect === 'sqlite' ? database.dataDir : dataDir,
        DATABASE_URL: database.databaseUrl ?? '',
        TRACKGUARD_ADMIN_KEY: ADMIN,
      });
    });
    afterAll(async () => {
      await server?.stop();
      await database?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('a 50 MB line is rejected at its own line and the next line imported, one upload then three at once, under 300 MB', async () => {
      const idle = peakMb(server.child.pid!);
      const pid = await project();
      const one = await upload(server.base, `/api/v1/projects/${pid}/imports`, 'text/csv', bigLine());
      expect(one.status, JSON.stringify(one.body)).toBe(202);
      await expectBigLineImport(pid, one.body as ImportView);
      const afterOne = peakMb(server.child.pid!);

      // Three at once, through the three ways in: a text/csv body, a multipart part, and an upload spooled for an async import.
      const pids = [await project(), await project(), await project()];
      const boundary = 'limits-boundary';
      const multipart = function* () {
        yield Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\nContent-Type: text/csv\r\n\r\n`);
        yield* bigLine();
        yield Buffer.from(`\r\n--${boundary}--\r\n`);
      };
      const [plain, parts, spooled] = await Promise.all([
        upload(server.base, `/api/v1/projects/${pids[0]}/imports`, 'text/csv', bigLine()),
        upload(server.base, `/api/v1/projects/${pids[1]}/imports`, `multipart/form-data; boundary=${boundary}`, multipart()),
        upload(server.base, `/api/v1/projects/${pids[2]}/imports?async=true`, 'text/csv', bigLine()),
      ]);
      for (const res of [plain, parts, spooled]) expect(res.status, JSON.stringify(res.body)).toBe(202);
      await expectBigLineImport(pids[0]!, plain.body as ImportView);
      await expectBigLineImport(pids[1]!, parts.body as ImportView);
      await expectBigLineImport(pids[2]!, await poll(pids[2]!, (spooled.body as ImportView).id));
      const afterThree = peakMb(server.child.pid!);
      console.info(`peak RSS (VmHWM) of the ${dialect} server: ${idle.toFixed(0)} MB idle, ${afterOne.toFixed(0)} MB after one 50 MB line, ${afterThree.toFixed(0)} MB after three at once`);
      expect(afterThree).toBeLessThan(PEAK_LIMIT_MB);
    });

    it('a 50 MB header without a line break is a 400 naming the header, not a finished import of nothing', async () => {
      const pid = await project();
      for (const query of ['', '?async=true']) {
        const res = await upload(server.base, `/api/v1/projects/${pid}/imports${query}`, 'text/csv', body('email,', BIG, ''));
        expect(res.status, JSON.stringify(res.body)).toBe(400);
        const problem = res.body as { errors: { field: string; reason: string }[] };
        expect(problem.errors[0]).toMatchObject({ field: 'file', reason: expect.stringContaining('header row (line 1) is longer than 1 MiB') });
      }
      expect((await call<{ items: unknown[] }>('GET', `/projects/${pid}/imports`)).items).toEqual([]);
      expect(peakMb(server.child.pid!)).toBeLessThan(PEAK_LIMIT_MB);
    });
  });
}
