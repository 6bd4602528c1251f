import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Worker } from 'node:worker_threads';
import { type CompiledQuery, Kysely, type KyselyConfig, Migrator, PostgresDialect, type PostgresPool, type PostgresPoolClient, SqliteDialect } from 'kysely';
import pg from 'pg';
import { type Dialect, migrationProvider } from './migrations/index.js';
import type { Database } from './schema.js';

export type Db = Kysely<Database>;

export interface Store {
  db: Db;
  /**
   * For the tracking hot path's reads. On SQLite a second, read-only
   * connection: WAL readers never wait for the writer, so a long write
   * transaction (an import batch) does not hold up a redirect. On PostgreSQL the same pool.
   */
  reader: Db;
  dialect: Dialect;
  /**
   * Runs compiled statements in one transaction. On SQLite this happens on a
   * worker thread with its own connection (the tracking writer's batches),
   * so the event loop stays free for requests; on PostgreSQL on the pool.
   */
  runBatch(queries: CompiledQuery[]): Promise<void>;
  close(): Promise<void>;
}

async function runInTransaction(db: Db, queries: CompiledQuery[]): Promise<void> {
  await db.transaction().execute(async (trx) => {
    for (const query of queries) await trx.executeQuery(query);
  });
}

/** A worker thread holding the SQLite connection that batches are written through. */
function sqliteBatchWriter(file: string): { run(queries: CompiledQuery[]): Promise<void>; close(): Promise<void> } {
  let worker: Worker | undefined;
  let next = 0;
  const pending = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  const start = (): Worker => {
    const created = new Worker(new URL('./sqlite-writer.worker.mjs', import.meta.url), { workerData: { file } });
    created.on('message', (message: { id: number; error?: string }) => {
      const waiter = pending.get(message.id);
      pending.delete(message.id);
      if (message.error === undefined) waiter?.resolve();
      else waiter?.reject(new Error(message.error));
    });
    created.on('error', (error) => {
      for (const waiter of pending.values()) waiter.reject(error);
      pending.clear();
      worker = undefined;
    });
    created.unref();
    return created;
  };
  return {
    run(queries) {
      worker ??= start();
      const id = ++next;
      const payload = queries.map((q) => ({ sql: q.sql, parameters: q.parameters }));
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker!.postMessage({ id, queries: payload });
      });
    },
    async close() {
      if (!worker) return;
      const closing = worker;
      worker = undefined;
      await new Promise<void>((resolve) => {
        closing.once('exit', () => resolve());
        closing.postMessage({ close: true });
      });
    },
  };
}

// int8 (bigint) and numeric columns come back as numbers: our ids and epoch
// milliseconds stay far below 2^53, and one code path needs one type.
pg.types.setTypeParser(20, (v) => Number.parseInt(v, 10));
pg.types.setTypeParser(1700, (v) => Number.parseFloat(v));

export interface StoreOptions {
  databaseUrl?: string | undefined;
  dataDir: string;
  poolSize?: number;
}

/** TRACKGUARD_SLOW_QUERY_MS=n prints every query slower than n ms to stderr (its SQL, never its parameters). */
function slowQueryLog(): KyselyConfig['log'] {
  const threshold = Number(process.env.TRACKGUARD_SLOW_QUERY_MS);
  if (!Number.isFinite(threshold) || threshold <= 0) return undefined;
  return (event) => {
    if (event.queryDurationMillis >= threshold) {
      process.stderr.write(`slow query ${event.queryDurationMillis.toFixed(1)} ms: ${event.query.sql.slice(0, 300)}\n`);
    }
  };
}

export function openStore(options: StoreOptions): Store {
  const log = slowQueryLog();
  if (options.databaseUrl?.startsWith('postgres')) {
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolSize ?? 10 });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: preparingPool(pool) }), log });
    return { db, reader: db, dialect: 'postgres', runBatch: (queries) => runInTransaction(db, queries), close: () => db.destroy() };
  }
  mkdirSync(options.dataDir, { recursive: true });
  const file = join(options.dataDir, 'trackguard.sqlite');
  const database = new SQLite(file);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('busy_timeout = 10000');
  database.pragma('foreign_keys = ON');
  database.pragma('cache_size = -32768');
  // Kysely prepares every query anew; for batch statements with thousands of
  // parameters that costs more than running them. Statements are cached by SQL
  // text (Kysely runs one query at a time on this connection, so none is busy).
  const statements = new Map<string, SQLite.Statement>();
  const cachedPrepare = {
    close: () => database.close(),
    prepare(text: string): SQLite.Statement {
      let statement = statements.get(text);
      if (!statement) {
        if (statements.size >= 500) statements.clear();
        statement = database.prepare(text);
        statements.set(text, statement);
      }
      return statement;
    },
  };
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: cachedPrepare }), log });
  let reader: Db | undefined;
  const batches = sqliteBatchWriter(file);
  return {
    db,
    runBatch: (queries) => batches.run(queries),
    // Opened on first use: the file and its WAL exist by then (migrations ran).
    get reader(): Db {
      if (!reader) {
        const connection = new SQLite(file, { readonly: true });
        connection.pragma('busy_timeout = 10000');
        reader = new Kysely<Database>({ dialect: new SqliteDialect({ database: connection }) });
      }
      return reader;
    },
    dialect: 'sqlite',
    close: async () => {
      await batches.close();
      await reader?.destroy();
      await db.destroy();
    },
  };
}

/**
 * Bulk INSERTs (hundreds of parameters) are sent as named prepared statements,
 * so each connection parses them once instead of on every batch. Only INSERT …
 * VALUES: its plan cannot go stale, whereas a SELECT or UPDATE prepared while a
 * table was empty would keep a sequential-scan generic plan. Everything else passes through.
 */
function preparingPool(pool: pg.Pool): PostgresPool {
  const names = new Map<string, string>();
  const nameOf = (text: string): string => {
    let name = names.get(text);
    if (!name) {
      if (names.size >= 1000) names.clear();
      name = `tg_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
      names.set(text, name);
    }
    return name;
  };
  return {
    async connect() {
      const client = await pool.connect();
      const query = (text: unknown, parameters?: readonly unknown[]) =>
        typeof text === 'string' && parameters !== undefined && parameters.length >= 100 && text.startsWith('insert into ')
          ? client.query({ name: nameOf(text), text, values: [...parameters] })
          : client.query(text as string, parameters as unknown[]);
      return { query: query as unknown as PostgresPoolClient['query'], release: (destroy?: boolean) => client.release(destroy) };
    },
    end: () => pool.end(),
  };
}

/** Applies pending migrations under the migrator's lock; throws on failure. */
export async function migrate(store: Store): Promise<void> {
  const migrator = new Migrator({ db: store.db, provider: migrationProvider(store.dialect) });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    const reason = error instanceof Error ? error.message : String(error ?? '');
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${reason}`);
  }
}
