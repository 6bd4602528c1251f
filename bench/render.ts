// Rendering throughput: a 20 KB HTML email with 20 links, merge tags resolved,
// every link and the pixel tokenised, handed to a null transport. Measured as
// the sending job does it (SendingService.compose), then through the whole job
// (database batches included) on SQLite and, with TEST_DATABASE_URL, PostgreSQL.
import { loadConfig } from '../src/config.js';
import { createContext } from '../src/context.js';
import { prepareMessage } from '../src/domain/render.js';
import { type DialectName, freshDatabase } from '../test/helpers/harness.js';
import { record } from './lib/summary.js';

const RECIPIENTS = Number(process.env.BENCH_RECIPIENTS ?? 10_000);

function html20k(): string {
  const links = Array.from({ length: 20 }, (_, i) => `<p><a href="https://example.com/article/${i}?ref=news">Article ${i}</a></p>`);
  let body = '';
  while (body.length < 20_000) {
    body += `<p>Hello {{contact.firstName | "there"}}, ${'lorem ipsum dolor sit amet '.repeat(12)}</p>\n`;
  }
  return `<html><body>${links.slice(0, 10).join('')}${body}${links.slice(10).join('')}<a href="{{unsubscribeUrl}}">unsubscribe</a></body></html>`;
}

async function one(label: DialectName): Promise<void> {
  const database = await freshDatabase(label);
  const config = loadConfig({}, { dataDir: database.dataDir, databaseUrl: database.databaseUrl, adminKey: 'bench', secrets: ['bench-secret'], transport: 'null', logLevel: 'warn' });
  const ctx = await createContext(config);
  try {
    const project = await ctx.projects.create('bench');
    await ctx.projects.update(project.id, { settings: { tracking: { enabled: true } } }, 'bench');
    const records = Array.from({ length: RECIPIENTS }, (_, i) => ({ email: `r${i}@bench.test`, fields: { firstName: `R${i}` }, hasTrackingConsent: i % 10 === 0 ? 0 : 1 }));
    for (let i = 0; i < records.length; i += 1000) await ctx.contacts.merge(project.id, records.slice(i, i + 1000), { source: 'bench' });
    const { message } = await ctx.messages.create(project.id, { channel: 'email', name: 'bench', communicationType: 'newsletter', subject: 'Hi {{contact.firstName}}', html: html20k() });
    const fresh = await ctx.projects.get(project.id);
    const prepared = prepareMessage({ channel: 'email', subject: message.subject, html: message.html });
    const contact = (await ctx.contacts.list(project.id, { limit: 1 })).items[0]!;
    const n = 20_000;
    let start = performance.now();
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      const out = ctx.sendings.compose(fresh, message, prepared, { id: 1, startedAt: Date.now() }, contact, i % 10 === 0 ? { nonce: 'AAAAAAAAAAA' } : { contactId: contact.id });
      bytes += out.html?.length ?? 0;
    }
    const composeRate = n / ((performance.now() - start) / 1000);
    console.log(`render compose: ${Math.round(composeRate)} messages/s (${Math.round(bytes / n / 1024)} KB HTML, 20 links + pixel each)`);
    start = performance.now();
    const sending = await ctx.sendings.create(project.id, { messageId: message.id, target: { all: true } });
    while (await ctx.jobs.runOnce()) {
      // drain the sending job
    }
    const done = await ctx.sendings.get(project.id, sending.id);
    const jobRate = done.delivered / ((performance.now() - start) / 1000);
    record({ name: `render ${label} sending job`, size: `${RECIPIENTS.toLocaleString('en-US')} recipients, 20 KB`, figure: `${Math.round(jobRate).toLocaleString('en-US')} messages/s`, target: '≥ 5,000/s', pass: jobRate >= 5000 });
    console.log(`render ${label} sending job: ${Math.round(jobRate)} messages/s (${done.delivered} delivered, ${done.tracked} tracked, ${done.untracked} untracked, null transport)`);
  } finally {
    await ctx.close();
    await database.drop();
  }
}

export async function run(): Promise<void> {
  await one('sqlite');
  if (process.env.TEST_DATABASE_URL) await one('postgres');
  else console.log('render postgres: skipped (set TEST_DATABASE_URL)');
}
