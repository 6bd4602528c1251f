// Merge throughput: 100,000 contacts with consent, in API-sized batches of 1,000, through
// ContactService on a fresh database. Targets: ≥ 20,000 contacts/s (SQLite and, issue 14, PostgreSQL).
import { loadConfig } from '../src/config.js';
import { createContext } from '../src/context.js';
import type { MergeRecord } from '../src/services/contacts.service.js';
import { type DialectName, freshDatabase } from '../test/helpers/harness.js';
import { benchDialects } from './lib/dialects.js';
import { record } from './lib/summary.js';

const TOTAL = 100_000;
const BATCH = 1_000;

function records(pass: number): MergeRecord[] {
  const day = pass === 0 ? '2025.01.02' : '2025-03-04T10:00:00Z';
  return Array.from({ length: TOTAL }, (_, i) => ({
    email: i % 2 === 0 ? `User${i}@Example.com` : `user${i}@example.com`,
    ...(i % 10 === 0 ? { externalId: `crm-${i}` } : {}),
    fields: { firstName: `First${i}`, plan: i % 3 === 0 ? 'pro' : 'free' },
    hasTrackingConsent: (i + pass) % 3 === 0 ? '1' : (i + pass) % 3 === 1 ? '0' : true,
    dtTrackingConsent: day,
  }));
}

async function bench(dialect: DialectName): Promise<void> {
  const database = await freshDatabase(dialect);
  const ctx = await createContext(loadConfig({}, { dataDir: database.dataDir, databaseUrl: database.databaseUrl, secrets: ['bench'], logLevel: 'warn' }));
  try {
    const project = await ctx.projects.create('bench');
    await ctx.projects.update(project.id, { settings: { tracking: { enabled: true } } }, 'bench');
    for (const [pass, label] of [
      [0, 'create'],
      [1, 'update'],
    ] as const) {
      const input = records(pass);
      const started = performance.now();
      let rejected = 0;
      for (let i = 0; i < TOTAL; i += BATCH) {
        const results = await ctx.contacts.merge(project.id, input.slice(i, i + BATCH), { source: 'api:bench' });
        for (const r of results) if (r.result === 'rejected') rejected += 1;
      }
      const seconds = (performance.now() - started) / 1000;
      if (rejected > 0) throw new Error(`${rejected} records rejected`);
      const rate = Math.round(TOTAL / seconds);
      record({ name: `merge ${dialect} ${label}`, size: `${TOTAL.toLocaleString('en-US')} contacts`, figure: `${rate.toLocaleString('en-US')} contacts/s`, target: '≥ 20,000/s', pass: rate >= 20_000 });
      process.stdout.write(`merge ${dialect.padEnd(8)} ${label}: ${TOTAL} contacts with consent in ${seconds.toFixed(2)} s → ${rate.toLocaleString('en-US')} contacts/s\n`);
    }
  } finally {
    await ctx.close();
    await database.drop();
  }
}

export async function run(): Promise<void> {
  for (const dialect of benchDialects('merge')) await bench(dialect);
}
