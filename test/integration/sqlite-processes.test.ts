// Several processes on one SQLite file (serve --workers N, or a worker beside the server): a transaction that
// reads and then writes must wait for another process's write lock, not fail with SQLITE_BUSY at its first
// write because that process committed after its read (Kysely's BEGIN is deferred; the store begins IMMEDIATE).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, openStore, type Store } from '../../src/store/database.js';
import { freshDatabase } from '../helpers/harness.js';

/** Another process takes SQLite's write lock, writes a row, says "locked", holds the lock `ms`, then commits. */
function holdWriteLock(file: string, ms: number): Promise<{ done: Promise<number> }> {
  const code = `
    const Database = require('better-sqlite3');
    const db = new Database(process.argv[1]);
    db.pragma('busy_timeout = 10000');
    db.exec('BEGIN IMMEDIATE');
    db.prepare("INSERT INTO meta (key, value) VALUES ('other-process', '1')").run();
    process.stdout.write('locked\\n');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(process.argv[2]));
    db.exec('COMMIT');
    db.close();
  `;
  const child = spawn(process.execPath, ['-e', code, file, String(ms)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const done = new Promise<number>((resolve) => child.once('exit', (status) => resolve(status ?? -1)));
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('locked')) resolve({ done });
    });
    child.once('exit', (status) => reject(new Error(`lock holder exited ${status} before locking`)));
  });
}

describe('SQLite shared by several processes', () => {
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let store: Store;

  beforeAll(async () => {
    database = await freshDatabase('sqlite');
    store = openStore({ dataDir: database.dataDir });
    await migrate(store);
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  it('a read-then-write transaction waits for the other process and sees its commit', async () => {
    const holder = await holdWriteLock(join(database.dataDir, 'trackguard.sqlite'), 300);
    const seen = await store.db.transaction().execute(async (trx) => {
      const rows = await trx.selectFrom('meta').select('key').where('key', '=', 'other-process').execute();
      await trx.insertInto('meta').values({ key: 'this-process', value: String(rows.length) }).execute();
      return rows.length;
    });
    expect(await holder.done).toBe(0);
    // It began once the other process had committed, so it read that row.
    expect(seen).toBe(1);
    const keys = await store.db.selectFrom('meta').select('key').where('key', 'in', ['other-process', 'this-process']).orderBy('key').execute();
    expect(keys.map((k) => k.key)).toEqual(['other-process', 'this-process']);
  });
});
