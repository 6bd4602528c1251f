// `npm start` runs the compiled JavaScript of dist/ (issue 14), not the TypeScript: a source file tsc does not
// emit (the SQLite writer's worker) or a path computed from the source tree would only break there.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const MAIN = join(ROOT, 'dist', 'cli', 'main.js');
const built = existsSync(MAIN);
if (!built) {
  // `npm ci` builds dist/ (prepare): in CI its absence is a failure.
  if (process.env.CI) throw new Error('dist/cli/main.js is missing: `npm ci` (prepare → npm run build) did not build the server');
  console.warn('Skipping the compiled-start test: run `npm run build` first');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

describe.skipIf(!built)('the compiled server (npm start)', () => {
  let child: ChildProcess;
  let base: string;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'trackguard-compiled-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    child = spawn(process.execPath, [MAIN, 'serve'], {
      cwd: ROOT,
      env: { ...process.env, PORT: String(port), TRACKGUARD_DATA_DIR: dataDir, TRACKGUARD_ADMIN_KEY: 'compiled-key', DATABASE_URL: '', LOG_LEVEL: 'warn' },
      stdio: 'ignore',
    });
    const deadline = Date.now() + 30_000;
    for (;;) {
      const ok = await fetch(`${base}/healthz`).then((r) => r.ok, () => false);
      if (ok) break;
      if (Date.now() > deadline || child.exitCode !== null) throw new Error('the compiled server did not answer /healthz');
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  afterAll(() => {
    child?.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers the API, writes through the SQLite writer thread and serves the admin app', async () => {
    const headers = { authorization: 'Bearer compiled-key', 'content-type': 'application/json' };
    const project = await fetch(`${base}/api/v1/projects`, { method: 'POST', headers, body: JSON.stringify({ name: 'compiled' }) });
    expect(project.status).toBe(201);
    const { id } = (await project.json()) as { id: string };
    const merged = await fetch(`${base}/api/v1/projects/${id}/contacts/merge`, { method: 'POST', headers, body: JSON.stringify({ records: [{ email: 'someone@example.com' }] }) });
    expect(merged.status, await merged.clone().text()).toBe(200);
    // A web event goes through the batch writer (the worker thread loaded from dist/store/*.mjs).
    const event = await fetch(`${base}/api/v1/projects/${id}/events`, { method: 'POST', headers, body: JSON.stringify({ email: 'someone@example.com', type: 'page_view', url: 'https://example.com/a' }) });
    expect(event.status, await event.clone().text()).toBeLessThan(300);
    const admin = await fetch(`${base}/admin/login`);
    expect(admin.status).toBe(200);
    expect(await admin.text()).toContain('<div id="root">');
  });
});
