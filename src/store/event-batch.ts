import { type CompiledQuery, type Insertable, PostgresAdapter, sql } from 'kysely';
import { compileBulkInsert, compileShaped } from './bulk.js';
import type { Db } from './database.js';
import type { EventTable } from './schema.js';

export type NewEvent = Insertable<EventTable>;

/** Insert sizes: a batch is cut into these so only a handful of statement shapes are ever compiled and prepared. */
const CHUNKS = [256, 64, 16, 4, 1];
const EVENT_COLUMNS = [
  'project_id', 'type', 'contact_id', 'nonce', 'sending_id', 'message_id', 'link_idx', 'channel',
  'name', 'url', 'form_id', 'at', 'device', 'machine', 'ip', 'user_agent', 'web_type',
] as const satisfies readonly (keyof NewEvent)[];

/**
 * One batch's statements, compiled for one transaction: `marks` first (what
 * the batch records as applied: its journal batch number, its queue
 * messages), then the events and their counters.
 */
export function batchQueries(db: Db, events: NewEvent[], marks: CompiledQuery[]): CompiledQuery[] {
  const sendingCounters = new Map<string, SendingCounter>();
  const linkCounters = new Map<string, LinkCounter>();
  for (const e of events) {
    if (e.sending_id === null || e.sending_id === undefined || (e.type !== 'open' && e.type !== 'click')) continue;
    const key = `${e.project_id}:${e.sending_id}`;
    let s = sendingCounters.get(key);
    if (!s) {
      s = { project_id: e.project_id, sending_id: e.sending_id, opens: 0, opens_machine: 0, clicks: 0, clicks_machine: 0 };
      sendingCounters.set(key, s);
    }
    const machine = e.machine === 1 ? 1 : 0;
    if (e.type === 'open') {
      s.opens += 1;
      s.opens_machine += machine;
    } else {
      s.clicks += 1;
      s.clicks_machine += machine;
      const linkKey = `${key}:${e.link_idx}`;
      let l = linkCounters.get(linkKey);
      if (!l) {
        l = { project_id: e.project_id, sending_id: e.sending_id, idx: e.link_idx ?? 0, clicks: 0, clicks_machine: 0 };
        linkCounters.set(linkKey, l);
      }
      l.clicks += 1;
      l.clicks_machine += machine;
    }
  }
  const queries: CompiledQuery[] = [...marks];
  // PostgreSQL: one statement per table whatever the batch size (one round trip each, one prepared text);
  // SQLite (in-process, no round trips): a few fixed chunk sizes of multi-row inserts.
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  if (postgres) {
    if (events.length > 0) queries.push(compileUnnestInsert(db, events));
  } else {
    let offset = 0;
    for (const size of CHUNKS) {
      for (; events.length - offset >= size; offset += size) {
        const rows = events.slice(offset, offset + size).map((e) => EVENT_COLUMNS.map((c) => e[c] ?? null));
        queries.push(compileBulkInsert(db, 'events', EVENT_COLUMNS, rows));
      }
    }
  }
  // The counter upserts have one shape each: compiled once, then given fresh values (see compileShaped).
  for (const s of sendingCounters.values()) {
    const values = [s.project_id, s.sending_id, s.opens, s.opens_machine, s.clicks, s.clicks_machine];
    queries.push(compileShaped(db, 'upsert:sending_stats', () => sendingCounterUpsert(db, s), values));
  }
  if (postgres) {
    if (linkCounters.size > 0) queries.push(compileLinkCountersUnnest(db, [...linkCounters.values()]));
  } else {
    for (const l of linkCounters.values()) {
      const values = [l.project_id, l.sending_id, l.idx, l.clicks, l.clicks_machine];
      queries.push(compileShaped(db, 'upsert:link_stats', () => linkCounterUpsert(db, l), values));
    }
  }
  return queries;
}

type SendingCounter = { project_id: number; sending_id: number; opens: number; opens_machine: number; clicks: number; clicks_machine: number };
type LinkCounter = { project_id: number; sending_id: number; idx: number; clicks: number; clicks_machine: number };

/** Adds a batch's opens and clicks to its sending's counters; parameters in the order of `SendingCounter`'s keys. */
function sendingCounterUpsert(db: Db, s: SendingCounter): CompiledQuery {
  return db
    .insertInto('sending_stats')
    .values(s)
    .onConflict((oc) =>
      oc.columns(['project_id', 'sending_id']).doUpdateSet((eb) => ({
        opens: eb('sending_stats.opens', '+', eb.ref('excluded.opens')),
        opens_machine: eb('sending_stats.opens_machine', '+', eb.ref('excluded.opens_machine')),
        clicks: eb('sending_stats.clicks', '+', eb.ref('excluded.clicks')),
        clicks_machine: eb('sending_stats.clicks_machine', '+', eb.ref('excluded.clicks_machine')),
      })),
    )
    .compile();
}

/** Adds a batch's clicks to one link's counters; parameters in the order of `LinkCounter`'s keys. */
function linkCounterUpsert(db: Db, l: LinkCounter): CompiledQuery {
  return db
    .insertInto('link_stats')
    .values(l)
    .onConflict((oc) =>
      oc.columns(['project_id', 'sending_id', 'idx']).doUpdateSet((eb) => ({
        clicks: eb('link_stats.clicks', '+', eb.ref('excluded.clicks')),
        clicks_machine: eb('link_stats.clicks_machine', '+', eb.ref('excluded.clicks_machine')),
      })),
    )
    .compile();
}

/** Numbers are BIGINT and strings TEXT in every events column (postgres migrations 0001, 0015, 0022). */
const EVENT_PG_TYPES: Record<(typeof EVENT_COLUMNS)[number], 'bigint' | 'text'> = {
  project_id: 'bigint', type: 'text', contact_id: 'bigint', nonce: 'text', sending_id: 'bigint', message_id: 'bigint',
  link_idx: 'bigint', channel: 'text', name: 'text', url: 'text', form_id: 'bigint', at: 'bigint', device: 'text',
  machine: 'bigint', ip: 'text', user_agent: 'text', web_type: 'text',
};

/** `INSERT INTO events … SELECT FROM unnest(…)`: one array parameter per column, any number of rows. */
function compileUnnestInsert(db: Db, events: NewEvent[]): CompiledQuery {
  const columns = EVENT_COLUMNS.map((c) => events.map((e) => e[c] ?? null));
  return compileShaped(
    db,
    'insert-unnest:events',
    () =>
      sql`INSERT INTO events (${sql.join(EVENT_COLUMNS.map((c) => sql.ref(c)))}) SELECT * FROM unnest(${sql.join(
        columns.map((values, i) => sql`CAST(${values} AS ${sql.raw(`${EVENT_PG_TYPES[EVENT_COLUMNS[i]!]}[]`)})`),
      )})`.compile(db),
    columns,
  );
}

/** All of a batch's per-link click counters in one upsert (each link once: the batch folded them). */
function compileLinkCountersUnnest(db: Db, counters: LinkCounter[]): CompiledQuery {
  const keys = ['project_id', 'sending_id', 'idx', 'clicks', 'clicks_machine'] as const;
  const columns = keys.map((k) => counters.map((c) => c[k]));
  return compileShaped(
    db,
    'upsert-unnest:link_stats',
    () =>
      sql`INSERT INTO link_stats (project_id, sending_id, idx, clicks, clicks_machine)
        SELECT * FROM unnest(${sql.join(columns.map((values) => sql`CAST(${values} AS bigint[])`))})
        ON CONFLICT (project_id, sending_id, idx) DO UPDATE SET
          clicks = link_stats.clicks + excluded.clicks, clicks_machine = link_stats.clicks_machine + excluded.clicks_machine`.compile(db),
    columns,
  );
}
