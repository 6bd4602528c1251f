import { createHash } from 'node:crypto';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Worker } from 'node:worker_threads';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  Kysely,
  type KyselyConfig,
  Migrator,
  PostgresDialect,
  type PostgresPool,
  type PostgresPoolClient,
  SqliteDialect,
  type SqliteDialectConfig,
  SqliteDriver,
} from 'kysely';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { CONTACT_STAGE_TABLE } from './contacts.js';
import { CopyPayload } from './copy.js';
import { type Dialect, migrationProvider } from './migrations/index.js';
import type { Database } from './schema.js';
import { ensurePrivateDir, ensurePrivateFile } from './private-files.js';

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
   * Runs one tracking batch in one transaction (see {@link BatchPlan}). On
   * SQLite this happens on a worker thread with its own connection, in a
   * `BEGIN IMMEDIATE` transaction, so the event loop stays free for requests;
   * on PostgreSQL on the pool, retried on deadlock or serialization failure.
   */
  runBatch(plan: BatchPlan): Promise<BatchOutcome>;
  close(): Promise<void>;
}

/**
 * A batch whose writes were built on rows read earlier: the transaction takes
 * `locks`, runs `reads` and writes only if they return exactly `expected`;
 * otherwise it writes nothing and hands back what it read, so the caller
 * decides again. Reads and writes happen under one lock: SQLite's write lock
 * (the transaction is IMMEDIATE), or on PostgreSQL the row locks `locks`
 * take, so no change of the rows read can commit between check and commit.
 */
export interface BatchPlan {
  /** Statements that only take locks (PostgreSQL); their rows are ignored. */
  locks: CompiledQuery[];
  reads: CompiledQuery[];
  /** Per read, its rows as arrays of column values in select order. */
  expected: unknown[][][];
  writes: CompiledQuery[];
}

export type BatchOutcome = { written: true } | { written: false; rows: unknown[][][] };

/** PostgreSQL codes after which a transaction may simply run again: serialization failure, deadlock. */
const RETRYABLE = new Set(['40001', '40P01']);

async function runPlan(db: Db, plan: BatchPlan): Promise<BatchOutcome> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction().execute(async (trx): Promise<BatchOutcome> => {
        for (const query of plan.locks) await trx.executeQuery(query);
        const rows: unknown[][][] = [];
        for (const query of plan.reads) rows.push((await trx.executeQuery<Record<string, unknown>>(query)).rows.map((row) => Object.values(row)));
        if (JSON.stringify(rows) !== JSON.stringify(plan.expected)) return { written: false, rows };
        for (const query of plan.writes) await trx.executeQuery(query);
        return { written: true };
      });
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (attempt >= 5 || typeof code !== 'string' || !RETRYABLE.has(code)) throw error;
      await new Promise((r) => setTimeout(r, 5 * attempt));
    }
  }
}

/** A worker thread holding the SQLite connection that batches are written through. */
function sqliteBatchWriter(file: string, sync: 'full' | 'normal'): { run(plan: BatchPlan): Promise<BatchOutcome>; close(): Promise<void> } {
  let worker: Worker | undefined;
  let next = 0;
  const pending = new Map<number, { resolve: (outcome: BatchOutcome) => void; reject: (error: Error) => void }>();
  const start = (): Worker => {
    const created = new Worker(new URL('./sqlite-writer.worker.mjs', import.meta.url), { workerData: { file, sync } });
    created.on('message', (message: { id: number; error?: string; rows?: unknown[][][] }) => {
      const waiter = pending.get(message.id);
      pending.delete(message.id);
      if (message.error !== undefined) waiter?.reject(new Error(message.error));
      else waiter?.resolve(message.rows === undefined ? { written: true } : { written: false, rows: message.rows });
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
    run(plan) {
      worker ??= start();
      const id = ++next;
      const plain = (queries: CompiledQuery[]) => queries.map((q) => ({ sql: q.sql, parameters: q.parameters }));
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker!.postMessage({ id, reads: plain(plan.reads), expected: JSON.stringify(plan.expected), writes: plain(plan.writes) });
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
  /** SQLite `synchronous` (WAL): `full` unless told otherwise. */
  sqliteSync?: 'full' | 'normal';
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

/**
 * SQLite transactions take the write lock when they begin (`BEGIN IMMEDIATE`).
 * Kysely's `BEGIN` is deferred: a transaction that reads first and writes
 * later fails at once with SQLITE_BUSY when another process (several workers
 * on one database file) wrote in between, without waiting on busy_timeout.
 * An immediate one waits for the lock instead, and then reads the latest data.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  readonly #settings: SqliteDialectConfig;

  constructor(settings: SqliteDialectConfig) {
    super(settings);
    this.#settings = settings;
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#settings);
  }
}

export function openStore(options: StoreOptions): Store {
  const log = slowQueryLog();
  if (options.databaseUrl?.startsWith('postgres')) {
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolSize ?? 10 });
    // An idle client whose server connection ends (a PostgreSQL restart, a
    // failover, pg_terminate_backend) emits 'error' on the pool; unhandled, it
    // would kill the process. The pool drops that client and opens a new one
    // for the next query, so a line on stderr is all it needs.
    pool.on('error', (error) => {
      process.stderr.write(`postgres: idle connection lost (${(error as { code?: string }).code ?? error.message}); the pool reconnects\n`);
    });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: preparingPool(pool) }), log });
    return { db, reader: db, dialect: 'postgres', runBatch: (plan) => runPlan(db, plan), close: () => db.destroy() };
  }
  ensurePrivateDir(options.dataDir);
  const file = join(options.dataDir, 'trackguard.sqlite');
  ensurePrivateFile(file);
  const database = new SQLite(file);
  database.pragma('journal_mode = WAL');
  const sync = options.sqliteSync ?? 'full';
  database.pragma(sync === 'normal' ? 'synchronous = NORMAL' : 'synchronous = FULL');
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
  const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: cachedPrepare }), log });
  let reader: Db | undefined;
  const batches = sqliteBatchWriter(file, sync);
  return {
    db,
    runBatch: (plan) => batches.run(plan),
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

/** Streams a COPY … FROM STDIN statement's rows (see store/copy.ts) on this connection. */
async function copyIn(client: pg.PoolClient, text: string, payload: CopyPayload): Promise<{ command: string; rowCount: number; rows: never[] }> {
  const stream = client.query(copyFrom(text));
  await new Promise<void>((resolve, reject) => {
    stream.on('error', reject);
    stream.on('finish', resolve);
    stream.end(payload.text);
  });
  return { command: 'COPY', rowCount: stream.rowCount, rows: [] };
}

/**
 * Bulk INSERTs (hundreds of parameters) are sent as named prepared statements,
 * so each connection parses them once instead of on every batch. Only INSERT …
 * VALUES: its plan cannot go stale, whereas a SELECT or UPDATE prepared while a
 * table was empty would keep a sequential-scan generic plan. A COPY whose
 * parameter is a {@link CopyPayload} is streamed with pg-copy-streams. Each new
 * connection creates the session's staging tables once (temporary, emptied at
 * every commit). Everything else passes through.
 */
function preparingPool(pool: pg.Pool): PostgresPool {
  const staged = new WeakSet<pg.PoolClient>();
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
      if (!staged.has(client)) {
        try {
          await client.query(CONTACT_STAGE_TABLE);
        } catch (error) {
          client.release(true);
          throw error;
        }
        staged.add(client);
      }
      const query = (text: unknown, parameters?: readonly unknown[]) => {
        if (typeof text !== 'string' || parameters === undefined) return client.query(text as string, parameters as unknown[]);
        if (parameters.length === 1 && parameters[0] instanceof CopyPayload) return copyIn(client, text, parameters[0]);
        return parameters.length >= 100 && text.startsWith('insert into ')
          ? client.query({ name: nameOf(text), text, values: [...parameters] })
          : client.query(text, parameters as unknown[]);
      };
      return { query: query as unknown as PostgresPoolClient['query'], release: (destroy?: boolean) => client.release(destroy) };
    },
    end: () => pool.end(),
  };
}

/** Applies pending migrations under the migrator's lock; throws on failure. */
export async function migrate(store: Store): Promise<void> {
  // Numbers are handed out to pieces of work before they land, so a database may already hold a later
  // number than one that arrives (0012 after 0016): apply it all the same, in name order among the pending.
  const migrator = new Migrator({ db: store.db, provider: migrationProvider(store.dialect), allowUnorderedMigrations: true });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    const reason = error instanceof Error ? error.message : String(error ?? '');
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${reason}`);
  }
}
