import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

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
}

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
  };
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
  mkdirSync(dataDir, { recursive: true });
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
