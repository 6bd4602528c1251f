import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, InjectOptions } from 'fastify';
import pg from 'pg';
import { type Config, loadConfig } from '../../src/config.js';
import { type AppContext, createContext } from '../../src/context.js';
import { type AppOptions, buildApp } from '../../src/http/app.js';

export type DialectName = 'sqlite' | 'postgres';

export const ADMIN_KEY = 'test-admin-key';

/**
 * The dialects every integration test runs on: SQLite always, PostgreSQL when
 * TEST_DATABASE_URL is set. In CI a missing TEST_DATABASE_URL is an error,
 * not a silent skip.
 */
export function dialects(): DialectName[] {
  if (process.env.TEST_DATABASE_URL) return ['sqlite', 'postgres'];
  if (process.env.CI) throw new Error('TEST_DATABASE_URL must be set in CI: the PostgreSQL suite cannot be skipped');
  return ['sqlite'];
}

/** A fresh, empty database for one test file: a temp SQLite dir, or a new PostgreSQL database. */
export async function freshDatabase(dialect: DialectName): Promise<{ dataDir: string; databaseUrl?: string; drop(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'trackguard-test-'));
  if (dialect === 'sqlite') return { dataDir, drop: async () => rmSync(dataDir, { recursive: true, force: true }) };
  const base = process.env.TEST_DATABASE_URL as string;
  const name = `tg_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    dataDir,
    databaseUrl: url.toString(),
    drop: async () => {
      rmSync(dataDir, { recursive: true, force: true });
      const client = new pg.Client({ connectionString: base });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

export interface TestApp {
  dialect: DialectName;
  app: FastifyInstance;
  ctx: AppContext;
  config: Config;
  /** Calls the API with the admin key unless `key` is given (`null` sends none). */
  api<T = unknown>(method: InjectOptions['method'], url: string, body?: unknown, key?: string | null): Promise<{ status: number; body: T; headers: Record<string, unknown> }>;
  close(): Promise<void>;
}

export async function startTestApp(dialect: DialectName, overrides: Partial<Config> = {}, clock?: () => number, appOptions: AppOptions = {}): Promise<TestApp> {
  const database = await freshDatabase(dialect);
  const config = loadConfig({}, { dataDir: database.dataDir, databaseUrl: database.databaseUrl, adminKey: ADMIN_KEY, secrets: ['test-secret'], logLevel: 'warn', ...overrides });
  const ctx = await createContext(config, clock);
  await ctx.projects.ensureAdminKey(config.adminKey);
  const app = await buildApp(ctx, { logger: false, ...appOptions });
  await app.ready();
  return {
    dialect,
    app,
    ctx,
    config,
    async api(method, url, body, key = ADMIN_KEY) {
      const headers: Record<string, string> = {};
      if (key !== null) headers.authorization = `Bearer ${key}`;
      const options: InjectOptions = { method, url, headers };
      if (body !== undefined) {
        if (typeof body === 'string') {
          options.payload = body;
          headers['content-type'] ??= 'application/json';
        } else {
          options.payload = body as InjectOptions['payload'];
        }
      }
      const res = await app.inject(options);
      const type = String(res.headers['content-type'] ?? '');
      const parsed = type.includes('json') && res.body ? JSON.parse(res.body) : res.body;
      return { status: res.statusCode, body: parsed, headers: res.headers };
    },
    async close() {
      await app.close();
      await ctx.close();
      await database.drop();
    },
  };
}

/** Creates a project with the given settings and returns its id. */
export async function createProject(t: TestApp, settings?: Record<string, unknown>): Promise<string> {
  const res = await t.api<{ id: string }>('POST', '/api/v1/projects', { name: `p-${randomBytes(3).toString('hex')}` });
  if (res.status !== 201) throw new Error(`project creation failed: ${JSON.stringify(res.body)}`);
  if (settings) {
    const patched = await t.api('PATCH', `/api/v1/projects/${res.body.id}`, settings);
    if (patched.status !== 200) throw new Error(`project settings failed: ${JSON.stringify(patched.body)}`);
  }
  return res.body.id;
}
