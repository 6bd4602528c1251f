// `trackguard ledger verify` is how an auditor checks that nobody rewrote the consent history
// behind the server's back: it must pass an intact database and name the entry of each tampering.
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { type AppContext, createContext } from '../../src/context.js';
import { entryHash, piiDigest } from '../../src/domain/ledger.js';
import { dialects, freshDatabase } from '../helpers/harness.js';

const ROOT = resolve(import.meta.dirname, '../..');

function runVerify(env: Record<string, string>): Promise<{ code: number; output: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'ledger', 'verify'],
      { cwd: ROOT, env: { ...process.env, ...env }, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        done({ code, output: `${stdout}${stderr}` });
      },
    );
  });
}

for (const dialect of dialects()) {
  describe(dialect, () => {
    let database: Awaited<ReturnType<typeof freshDatabase>>;
    let ctx: AppContext;
    let env: Record<string, string>;
    const projects: number[] = [];

    beforeAll(async () => {
      database = await freshDatabase(dialect);
      env = { TRACKGUARD_DATA_DIR: database.dataDir, DATABASE_URL: database.databaseUrl ?? '', TRACKGUARD_SECRET: 'cli-test', LOG_LEVEL: 'warn' };
      ctx = await createContext(loadConfig({}, { dataDir: database.dataDir, databaseUrl: database.databaseUrl, secrets: ['cli-test'], logLevel: 'warn' }));
      // Four projects, one per kind of tampering, each with a module-activation entry and contact entries.
      for (let p = 0; p < 4; p += 1) {
        const project = await ctx.projects.create(`ledger-${p}`);
        await ctx.projects.update(project.id, { settings: { tracking: { enabled: true } } }, 'admin');
        const results = await ctx.contacts.merge(
          project.id,
          Array.from({ length: 5 }, (_, i) => ({ email: `c${i}@example.com`, hasTrackingConsent: i % 2, dtTrackingConsent: '2025-01-01' })),
          { source: 'api:admin' },
        );
        await ctx.consent.setConsent(project.id, Number(results[0]!.contactId), { value: true, date: Date.UTC(2025, 5, 1), source: 'admin:alice', ip: '203.0.113.1' });
        projects.push(project.id);
      }
    });
    afterAll(async () => {
      await ctx?.close();
      await database?.drop();
    });

    const entriesOf = (projectId: number) =>
      ctx.store.db.selectFrom('consent_history').selectAll().where('project_id', '=', projectId).orderBy('seq').execute();

    it('exits 0 on an intact database and non-zero naming the entry for each kind of tampering', async () => {
      const intact = await runVerify(env);
      expect(intact.output).toMatch(/ledger verify: ok/);
      expect(intact.code).toBe(0);
      for (const id of projects) expect(intact.output).toContain(`project ${id}: ok (7 entries)`);

      // 1. An entry's action changed by hand.
      const [altered, deleted, forged, truncated] = projects as [number, number, number, number];
      const alteredEntry = (await entriesOf(altered))[3]!;
      await ctx.store.db
        .updateTable('consent_history')
        .set({ action: alteredEntry.action === 'accepted' ? 'refused' : 'accepted' })
        .where('project_id', '=', altered)
        .where('id', '=', alteredEntry.id)
        .execute();
      let run = await runVerify(env);
      expect(run.code).not.toBe(0);
      expect(run.output).toContain(`project ${altered}: BROKEN at entry id ${alteredEntry.id} `);
      expect(run.output).toMatch(/FAILED/);

      // 2. A middle entry deleted: the entry after the gap is named.
      const before = await entriesOf(deleted);
      await ctx.store.db.deleteFrom('consent_history').where('project_id', '=', deleted).where('id', '=', before[2]!.id).execute();

      // 3. A forged entry appended with a correctly computed hash: it lies beyond the ledger head.
      const chain = await entriesOf(forged);
      const last = chain[chain.length - 1]!;
      const content = {
        projectId: forged,
        seq: last.seq + 1,
        subjectHash: last.subject_hash,
        action: 'accepted',
        date: Date.UTC(2025, 6, 1),
        recordedAt: Date.UTC(2025, 6, 1),
        source: 'admin:mallory',
        wordingHash: null,
        detail: null,
        piiDigest: piiDigest(last.contact_id, null, null),
      };
      const inserted = await ctx.store.db
        .insertInto('consent_history')
        .values({
          project_id: forged,
          seq: content.seq,
          contact_id: last.contact_id,
          subject_hash: content.subjectHash,
          action: content.action,
          date: content.date,
          recorded_at: content.recordedAt,
          source: content.source,
          ip: null,
          user_agent: null,
          wording_hash: null,
          detail: null,
          pii_digest: content.piiDigest,
          erased: 0,
          prev_hash: last.hash,
          hash: entryHash(content, last.hash),
        })
        .returning('id')
        .executeTakeFirstOrThrow();

      // 4. The last entry deleted: the chain ends before the head.
      const tail = await entriesOf(truncated);
      await ctx.store.db.deleteFrom('consent_history').where('project_id', '=', truncated).where('id', '=', tail[tail.length - 1]!.id).execute();
      // Each project's chain is verified on its own, so one run names every break.
      run = await runVerify(env);
      expect(run.code).not.toBe(0);
      expect(run.output).toContain(`project ${altered}: BROKEN at entry id ${alteredEntry.id} `);
      expect(run.output).toContain(`project ${deleted}: BROKEN at entry id ${before[3]!.id} `);
      expect(run.output).toContain(`project ${forged}: BROKEN at entry id ${inserted.id} `);
      expect(run.output).toMatch(new RegExp(`project ${truncated}: BROKEN at the head \\(sequence ${tail[tail.length - 1]!.seq}\\)`));
      const count = await sql<{ n: number }>`select count(*) as n from consent_history`.execute(ctx.store.db);
      expect(Number(count.rows[0]!.n)).toBe(4 * 7 - 2 + 1);
    });
  });
}
