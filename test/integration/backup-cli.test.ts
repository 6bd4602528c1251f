// A backup is only worth what its restore gives back (issue 12 item 16): `trackguard backup` runs beside a live
// server, and a server started on the restored copy answers with the same data and the same signed links.
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects, freshDatabase } from '../helpers/harness.js';
import { startServer } from '../helpers/processes.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);
const ADMIN = 'backup-test-admin';

for (const dialect of dialects()) {
  describe(`trackguard backup (${dialect})`, () => {
    let source: Awaited<ReturnType<typeof freshDatabase>>;
    let restored: Awaited<ReturnType<typeof freshDatabase>>;
    let home: string;

    beforeAll(async () => {
      source = await freshDatabase(dialect);
      restored = await freshDatabase(dialect);
      home = mkdtempSync(join(tmpdir(), 'trackguard-backup-'));
    });
    afterAll(async () => {
      rmSync(home, { recursive: true, force: true });
      await source?.drop();
      await restored?.drop();
    });

    it('copies the database and the token secret while the server runs; a server on the restored copy has the same contacts and links', async () => {
      const env = { TRACKGUARD_DATA_DIR: source.dataDir, DATABASE_URL: source.databaseUrl, TRACKGUARD_ADMIN_KEY: ADMIN, TRACKGUARD_SECRET: undefined };
      const server = await startServer(['serve'], env);
      const auth = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
      let projectId: string;
      let unsubscribe: string;
      try {
        const project = (await (await fetch(`${server.base}/api/v1/projects`, { method: 'POST', headers: auth, body: JSON.stringify({ name: 'Backed up' }) })).json()) as { id: string };
        projectId = project.id;
        const records = Array.from({ length: 50 }, (_, i) => ({ email: `p${i}@example.com`, hasTrackingConsent: i % 2 === 0 }));
        await fetch(`${server.base}/api/v1/projects/${projectId}/contacts/merge`, { method: 'POST', headers: auth, body: JSON.stringify({ records }) });
        const preview = (await (
          await fetch(`${server.base}/api/v1/projects/${projectId}/messages/preview`, {
            method: 'POST',
            headers: auth,
            body: JSON.stringify({ channel: 'email', subject: 's', html: '<a href="{{unsubscribeUrl}}">u</a>', contactId: '1' }),
          })
        ).json()) as { html: string };
        unsubscribe = /href="([^"]*\/f\/unsubscribe\/[^"]+)"/.exec(preview.html)![1]!.replace(server.base, '');
        const out = join(home, 'backup');
        const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'backup', '--out', out], {
          cwd: ROOT,
          env: { ...process.env, ...env, TRACKGUARD_SECRET: '', LOG_LEVEL: 'warn' },
          timeout: 60_000,
        });
        expect(stdout).toContain('backup written to');
        expect(statSync(out).mode & 0o777).toBe(0o700);
        expect(readFileSync(join(out, 'secret'), 'utf8')).toBe(readFileSync(join(source.dataDir, 'secret'), 'utf8'));
        const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { dialect: string; files: string[] };
        expect(manifest.dialect).toBe(dialect);
        // Restore as the README says, into another data dir and database.
        copyFileSync(join(out, 'secret'), join(restored.dataDir, 'secret'));
        if (dialect === 'sqlite') copyFileSync(join(out, 'trackguard.sqlite'), join(restored.dataDir, 'trackguard.sqlite'));
        else await run('pg_restore', ['--no-owner', `--dbname=${restored.databaseUrl}`, join(out, 'trackguard.pgdump')]);
      } finally {
        await server.stop();
      }
      expect(existsSync(join(restored.dataDir, 'secret'))).toBe(true);
      const again = await startServer(['serve'], { TRACKGUARD_DATA_DIR: restored.dataDir, DATABASE_URL: restored.databaseUrl, TRACKGUARD_ADMIN_KEY: ADMIN, TRACKGUARD_SECRET: undefined });
      try {
        const counts = (await (await fetch(`${again.base}/api/v1/projects/${projectId}/contacts/counts`, { headers: auth })).json()) as Record<string, unknown>;
        expect(JSON.stringify(counts)).toMatch(/25/);
        // A link sent before the backup still opens its page after the restore (same secret).
        expect((await fetch(`${again.base}${unsubscribe}`)).status).toBe(200);
      } finally {
        await again.stop();
      }
    });

    it('refuses a directory that is not empty', async () => {
      const out = join(home, 'backup');
      await expect(
        run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'backup', '--out', out], { cwd: ROOT, env: { ...process.env, TRACKGUARD_DATA_DIR: source.dataDir, DATABASE_URL: source.databaseUrl }, timeout: 60_000 }),
      ).rejects.toMatchObject({ stderr: expect.stringContaining('is not empty') });
    });
  });
}
