// `trackguard import` is what an operator runs on a multi-million-row export: it must use the
// server's database settings, report every rejected line, and fail with exit 2 on a bad mapping.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { type AppContext, createContext } from '../../src/context.js';
import { freshDatabase } from '../helpers/harness.js';

const ROOT = resolve(import.meta.dirname, '../..');

function runCli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, env: { ...process.env, ...env }, timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

// SQLite only: each run spawns a process, and the import's database path is the service's,
// which test/integration/imports.test.ts covers on both dialects.
for (const dialect of ['sqlite'] as const) {
  describe(dialect, { timeout: 60_000 }, () => {
    let database: Awaited<ReturnType<typeof freshDatabase>>;
    let ctx: AppContext;
    let env: Record<string, string>;
    let projectId: number;
    let file: string;

    beforeAll(async () => {
      database = await freshDatabase(dialect);
      env = { TRACKGUARD_DATA_DIR: database.dataDir, DATABASE_URL: database.databaseUrl ?? '', TRACKGUARD_SECRET: 'cli-test', LOG_LEVEL: 'warn' };
      ctx = await createContext(loadConfig({}, { dataDir: database.dataDir, databaseUrl: database.databaseUrl, secrets: ['cli-test'], logLevel: 'warn' }));
      projectId = (await ctx.projects.create('cli-import')).id;
      const lines = ['E-mail;Consent;Date'];
      for (let i = 0; i < 50; i += 1) lines.push(i % 2 === 0 ? `user${i}@example.com;1;2025.01.0${(i % 9) + 1}` : `broken-${i};1;2025.01.01`);
      file = join(database.dataDir, 'contacts.csv');
      writeFileSync(file, `${lines.join('\r\n')}\r\n`);
    });
    afterAll(async () => {
      await ctx?.close();
      await database?.drop();
    });

    it('imports a file, prints the counts and the first 20 rejected lines, then how many more', async () => {
      const run = await runCli(['import', file, '--project', String(projectId), '--map', 'E-mail:email,Consent:hasTrackingConsent,Date:dtTrackingConsent'], env);
      // The project's tracking module is off: the only line on stderr says so (issue 12 item 3).
      expect(run.stderr).toMatch(/^warning: The tracking module of project \d+ is off: consent values are recorded but not applied[^\n]*\n$/);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/import \d+ done: contacts\.csv \(upsert, delimiter ";"\)/);
      expect(run.stdout).toMatch(/rows\s+50\n/);
      expect(run.stdout).toMatch(/created\s+25\n/);
      expect(run.stdout).toMatch(/consent applied\s+25\n/);
      expect(run.stdout).toMatch(/rejected\s+25\n/);
      expect(run.stdout).toContain('  line 3: email: invalid email address "broken-1"\n');
      expect(run.stdout).toContain('  line 41: email: invalid email address "broken-39"\n');
      expect(run.stdout).not.toContain('line 43:');
      expect(run.stdout).toContain('… and 5 more');
      const contacts = await ctx.store.db.selectFrom('contacts').select('email').where('project_id', '=', projectId).execute();
      expect(contacts).toHaveLength(25);
      const sources = await ctx.store.db.selectFrom('consent_history').select('source').where('project_id', '=', projectId).execute();
      expect(new Set(sources.map((s) => s.source)).size).toBe(1);
      expect(sources[0]?.source).toMatch(/^import:\d+$/);
    });

    it('exits 2 with a clear message on a bad mapping or an unknown project', async () => {
      const badMap = await runCli(['import', file, '--project', String(projectId), '--map', 'E-mail:mail'], env);
      expect(badMap.code).toBe(2);
      expect(badMap.stderr).toContain('trackguard import: map: unknown target "mail"');
      const noProject = await runCli(['import', file, '--project', '999'], env);
      expect(noProject.code).toBe(2);
      expect(noProject.stderr).toContain('999');
      const noFile = await runCli(['import', join(database.dataDir, 'missing.csv'), '--project', String(projectId)], env);
      expect(noFile.code).toBe(2);
      expect(noFile.stderr).toContain('cannot read');
    });

    it('reads the file in the --encoding given, rejects a line that does not decode by number, and exits 2 on an unknown encoding', async () => {
      const latin = join(database.dataDir, 'latin.csv');
      // windows-1252: ü is the single byte 0xFC, which is not UTF-8.
      writeFileSync(latin, Buffer.concat([Buffer.from('email,city\nzoe@example.com,Z'), Buffer.from([0xfc]), Buffer.from('rich\n')]));
      const ok = await runCli(['import', latin, '--project', String(projectId), '--encoding', 'windows-1252'], env);
      expect(ok.stderr).toMatch(/^(warning: The tracking module[^\n]*\n)?$/);
      expect(ok.code).toBe(0);
      expect(ok.stdout).toMatch(/created\s+1\n/);
      const zoe = await ctx.store.db.selectFrom('contacts').select('fields').where('project_id', '=', projectId).where('email', '=', 'zoe@example.com').executeTakeFirstOrThrow();
      expect(String(zoe.fields)).toContain('Zürich');
      const strict = await runCli(['import', latin, '--project', String(projectId)], env);
      expect(strict.code).toBe(0);
      expect(strict.stdout).toContain('  line 2: not valid UTF-8 (at character 18)');
      const unknown = await runCli(['import', latin, '--project', String(projectId), '--encoding', 'ebcdic'], env);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain('encoding: must be one of utf-8, windows-1252, latin1, utf-16, utf-16le, utf-16be');
    });

    it('rejects an erased address as erased, and imports it with --returning (the history says the person came back)', async () => {
      const merged = await ctx.contacts.merge(projectId, [{ email: 'gone@example.com' }], { source: 'test' });
      await ctx.privacy.eraseContact(projectId, Number(merged[0]!.contactId));
      const returning = join(database.dataDir, 'returning.csv');
      writeFileSync(returning, 'email\ngone@example.com\n');
      const refused = await runCli(['import', returning, '--project', String(projectId), '--no-progress'], env);
      expect(refused.code).toBe(0);
      expect(refused.stdout).toMatch(/rejected\s+1\n/);
      expect(refused.stdout).toContain('erased');
      const back = await runCli(['import', returning, '--project', String(projectId), '--returning', '--no-progress'], env);
      expect(back.code).toBe(0);
      expect(back.stdout).toMatch(/created\s+1\n/);
      const history = await ctx.store.db.selectFrom('consent_history').select('action').where('project_id', '=', projectId).where('action', '=', 'returning').execute();
      expect(history).toHaveLength(1);
    });
  });
}
