import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import SQLite from 'better-sqlite3';
import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { ensurePrivateDir } from '../store/private-files.js';

const run = promisify(execFile);

/**
 * `trackguard backup --out DIR`: a consistent copy of the installation while
 * the server runs. SQLite through the online backup API (pages copied under
 * the database's own locks, WAL included), PostgreSQL through `pg_dump`
 * (custom format, restore with `pg_restore`). The token secret is copied too
 * when it lives in the data dir: without it, every link already sent (tracking,
 * unsubscribe, confirmation) stops working after a restore.
 */
export function registerBackupCommand(program: Command): void {
  program
    .command('backup')
    .description('copy the database (SQLite online backup, or pg_dump for PostgreSQL) and the token secret into a new directory, while the server runs')
    .requiredOption('--out <dir>', 'directory to create (must not exist or be empty)')
    .action(async (opts: { out: string }) => {
      const config = loadConfig(process.env, { secrets: [] });
      const out = resolve(opts.out);
      if (existsSync(out) && readdirSync(out).length > 0) throw new Error(`${out} is not empty: give a new directory`);
      ensurePrivateDir(out);
      const files: string[] = [];
      let dialect: 'sqlite' | 'postgres';
      if (config.databaseUrl?.startsWith('postgres')) {
        dialect = 'postgres';
        const file = join(out, 'trackguard.pgdump');
        try {
          await run('pg_dump', ['--format=custom', '--no-owner', `--file=${file}`, config.databaseUrl], { maxBuffer: 16 * 1024 * 1024 });
        } catch (error) {
          const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'pg_dump is not installed (apt-get install postgresql-client)' : String((error as { stderr?: string }).stderr ?? error);
          throw new Error(`pg_dump failed: ${reason}`);
        }
        files.push('trackguard.pgdump');
      } else {
        dialect = 'sqlite';
        const source = join(config.dataDir, 'trackguard.sqlite');
        if (!existsSync(source)) throw new Error(`no database at ${source} (TRACKGUARD_DATA_DIR)`);
        const db = new SQLite(source, { fileMustExist: true });
        try {
          await db.backup(join(out, 'trackguard.sqlite'));
        } finally {
          db.close();
        }
        files.push('trackguard.sqlite');
      }
      const secret = join(config.dataDir, 'secret');
      if (existsSync(secret)) {
        copyFileSync(secret, join(out, 'secret'));
        files.push('secret');
      }
      const manifest = { createdAt: new Date().toISOString(), dialect, files, secretFromEnvironment: process.env.TRACKGUARD_SECRET ? true : undefined };
      writeFileSync(join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
      process.stdout.write(`backup written to ${out}: ${files.join(', ')}${process.env.TRACKGUARD_SECRET ? ' (TRACKGUARD_SECRET is set in the environment: keep it with the backup)' : ''}\n`);
    });
}
