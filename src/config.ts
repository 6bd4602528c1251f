import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ensurePrivateDir } from './store/private-files.js';

/**
 * What a server process does (SPEC §8): `track` answers `/t/*` only, `api` the
 * API, forms and the admin app, `worker` runs jobs and hit consumers; `all` everything.
 */
export type Role = 'all' | 'api' | 'track' | 'worker';
export const ROLES: readonly Role[] = ['all', 'api', 'track', 'worker'];

/** `null` drops every message; benchmarks only, not settable from the environment. */
export type TransportKind = 'outbox' | 'smtp' | 'webhook' | 'null';

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  /** TRACKGUARD_ADMIN_KEY: one key, or several comma-separated (all accepted, for rotation). */
  adminKey: string | undefined;
  /** TRACKGUARD_ADMIN_EMAIL / TRACKGUARD_ADMIN_PASSWORD: the owner ensured at start. */
  adminEmail: string | undefined;
  adminPassword: string | undefined;
  publicUrl: string;
  /** Token secrets: the first signs, all verify. */
  secrets: string[];
  transport: TransportKind;
  smtpUrl: string | undefined;
  webhookUrl: string | undefined;
  outboxRetentionDays: number;
  /** Fastify's trustProxy: whether X-Forwarded-For names the client (behind a reverse proxy). */
  trustProxy: boolean | string;
  /** Sender of emails whose message names none. */
  fromAddress: string;
  logLevel: string;
  /** TRACKGUARD_ROLE / `serve --role`. */
  role: Role;
  /** TRACKGUARD_WORKERS / `serve --workers`: server processes forked on this machine (node:cluster); 1 = no fork. */
  workers: number;
  /**
   * TRACKGUARD_SQLITE_SYNC: SQLite's `synchronous` in WAL mode. `full` (default): a commit is on disk
   * before the hit is answered, power loss included; `normal`: a process crash loses nothing, a power
   * loss can lose the last commits.
   */
  sqliteSync: SqliteSync;
  /** TRACKGUARD_METRICS_TOKEN: when set, /metrics requires `Authorization: Bearer <token>`. */
  metricsToken: string | undefined;
  /** TRACKGUARD_QUEUE: NATS servers (`nats://host:port`, comma-separated) whose JetStream buffers tracking hits (SPEC §8). */
  queueUrl: string | undefined;
  /** TRACKGUARD_QUEUE_PREFIX: names the stream, consumer and subjects, so installations can share one NATS. */
  queuePrefix: string;
  /** TRACKGUARD_WEBHOOK_ALLOW_PRIVATE: webhook receivers may be on loopback / private addresses (SPEC §14; tests, a CRM on the LAN). */
  webhookAllowPrivate: boolean;
}

export const SQLITE_SYNC = ['full', 'normal'] as const;
export type SqliteSync = (typeof SQLITE_SYNC)[number];

type Env = Record<string, string | undefined>;

/** Reads SPEC §10's environment variables; the token secret is generated once and kept in the data dir. */
export function loadConfig(env: Env = process.env, overrides: Partial<Config> = {}): Config {
  const port = overrides.port ?? Number(env.PORT ?? 8787);
  const host = overrides.host ?? env.HOST ?? '127.0.0.1';
  const dataDir = resolve(overrides.dataDir ?? env.TRACKGUARD_DATA_DIR ?? './data');
  const fromEnv = env.TRACKGUARD_TRANSPORT ?? 'outbox';
  if (!['outbox', 'smtp', 'webhook'].includes(fromEnv)) {
    throw new Error(`TRACKGUARD_TRANSPORT must be outbox, smtp or webhook (got ${fromEnv})`);
  }
  const transport = overrides.transport ?? (fromEnv as TransportKind);
  const sqliteSync = overrides.sqliteSync ?? (env.TRACKGUARD_SQLITE_SYNC || 'full');
  if (!(SQLITE_SYNC as readonly string[]).includes(sqliteSync)) {
    throw new Error(`TRACKGUARD_SQLITE_SYNC must be one of ${SQLITE_SYNC.join(', ')} (got ${sqliteSync})`);
  }
  const publicHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return {
    port,
    host,
    dataDir,
    databaseUrl: overrides.databaseUrl ?? (env.DATABASE_URL || undefined),
    adminKey: overrides.adminKey ?? (env.TRACKGUARD_ADMIN_KEY || undefined),
    adminEmail: overrides.adminEmail ?? (env.TRACKGUARD_ADMIN_EMAIL || undefined),
    adminPassword: overrides.adminPassword ?? (env.TRACKGUARD_ADMIN_PASSWORD || undefined),
    publicUrl: (overrides.publicUrl ?? env.TRACKGUARD_PUBLIC_URL ?? `http://${publicHost}:${port}`).replace(/\/+$/, ''),
    secrets: overrides.secrets ?? readSecrets(env.TRACKGUARD_SECRET, dataDir),
    transport,
    smtpUrl: overrides.smtpUrl ?? (env.SMTP_URL || undefined),
    webhookUrl: overrides.webhookUrl ?? (env.TRACKGUARD_WEBHOOK_URL || undefined),
    outboxRetentionDays: overrides.outboxRetentionDays ?? Number(env.TRACKGUARD_OUTBOX_RETENTION_DAYS ?? 7),
    trustProxy: overrides.trustProxy ?? readTrustProxy(env.TRACKGUARD_TRUST_PROXY),
    fromAddress: overrides.fromAddress ?? env.TRACKGUARD_FROM ?? 'trackguard <no-reply@localhost>',
    logLevel: overrides.logLevel ?? env.LOG_LEVEL ?? 'info',
    role: overrides.role ?? readRole(env.TRACKGUARD_ROLE),
    workers: overrides.workers ?? readWorkers(env.TRACKGUARD_WORKERS),
    sqliteSync: sqliteSync as SqliteSync,
    metricsToken: overrides.metricsToken ?? (env.TRACKGUARD_METRICS_TOKEN || undefined),
    queueUrl: overrides.queueUrl ?? readQueueUrl(env.TRACKGUARD_QUEUE),
    queuePrefix: overrides.queuePrefix ?? readQueuePrefix(env.TRACKGUARD_QUEUE_PREFIX),
    webhookAllowPrivate: overrides.webhookAllowPrivate ?? env.TRACKGUARD_WEBHOOK_ALLOW_PRIVATE === 'true',
  };
}

function readQueueUrl(value: string | undefined): string | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  for (const server of value.split(',')) {
    if (!/^(nats|tls):\/\/[^\s/]+\/?$/.test(server.trim())) {
      throw new Error(`TRACKGUARD_QUEUE must be nats://host:port (several separated by commas; got ${value})`);
    }
  }
  return value;
}

/** Letters, digits, `_` and `-`: it goes into stream and consumer names and subjects, where `.`, `*`, `>` and spaces mean something. */
export function readQueuePrefix(value: string | undefined): string {
  if (value === undefined || value === '') return 'trackguard';
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(value)) throw new Error(`TRACKGUARD_QUEUE_PREFIX must be 1 to 64 letters, digits, _ or - (got ${value})`);
  return value;
}

export function readRole(value: string | undefined): Role {
  if (value === undefined || value === '') return 'all';
  if (!(ROLES as readonly string[]).includes(value)) throw new Error(`TRACKGUARD_ROLE must be one of ${ROLES.join(', ')} (got ${value})`);
  return value as Role;
}

export function readWorkers(value: string | undefined): number {
  if (value === undefined || value === '') return 1;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new Error(`TRACKGUARD_WORKERS must be a whole number from 1 to 256 (got ${value})`);
  return n;
}

/** `true`/`false`, or a comma-separated list of proxy addresses (CIDR allowed). */
function readTrustProxy(value: string | undefined): boolean | string {
  if (value === undefined || value === '' || value === 'false') return false;
  return value === 'true' ? true : value;
}

function readSecrets(fromEnv: string | undefined, dataDir: string): string[] {
  const listed = (fromEnv ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (listed.length > 0) return listed;
  const file = join(dataDir, 'secret');
  if (existsSync(file)) return [readFileSync(file, 'utf8').trim()];
  ensurePrivateDir(dataDir);
  const secret = randomBytes(32).toString('base64url');
  try {
    writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    // Another process created it first: use theirs.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return [readFileSync(file, 'utf8').trim()];
    throw error;
  }
  return [secret];
}
