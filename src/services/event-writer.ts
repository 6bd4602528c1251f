import type { CompiledQuery, Insertable } from 'kysely';
import type { Db } from '../store/database.js';
import { compileBulkInsert } from '../store/bulk.js';
import { HitJournal, type JournalBatch } from '../store/hit-journal.js';
import type { EventTable } from '../store/schema.js';

export type NewEvent = Insertable<EventTable>;

interface Pending {
  event: NewEvent;
  resolve: () => void;
  reject: (error: unknown) => void;
}

type Batch = JournalBatch<NewEvent>;

const MAX_BATCH = 2000;
/** Insert sizes: a batch is cut into these so only a handful of statement shapes are ever compiled and prepared. */
const CHUNKS = [256, 64, 16, 4, 1];
const EVENT_COLUMNS = [
  'project_id', 'type', 'contact_id', 'nonce', 'sending_id', 'message_id', 'link_idx', 'channel',
  'name', 'url', 'form_id', 'at', 'device', 'machine', 'ip', 'user_agent',
] as const satisfies readonly (keyof NewEvent)[];
/** How long a batch may wait for its database commit before it is acknowledged from the journal instead. */
const ACK_DEADLINE_MS = 50;
const RETRY_MS = 1000;

/**
 * Group commit for tracking hits: events queue up while the previous
 * transaction commits, then go in together with their counter increments.
 * A hit is acknowledged only once durable: committed, or — when the database
 * is slow or down — appended to the process's hit journal and fsynced, and
 * committed later in batch order. Each transaction records its batch number
 * under the journal's key, so a replay after a crash applies exactly what
 * the database lacks.
 */
export class EventWriter {
  private queue: Pending[] = [];
  private writing = false;
  private scheduled = false;
  private nextBatch = 0;
  /** The chain of commits: batches reach the database one at a time, in order. */
  private tail: Promise<unknown> = Promise.resolve();
  /** Journaled batches waiting for the database, oldest first. */
  private backlog: Batch[] = [];
  private retryTimer: NodeJS.Timeout | undefined;
  /** Transactions committed and events written, for metrics and benchmarks. */
  readonly stats = { batches: 0, events: 0, journaled: 0 };

  constructor(
    private readonly db: Db,
    private readonly runBatch: BatchRunner,
    private readonly journal: HitJournal<NewEvent>,
  ) {}

  write(event: NewEvent): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ event, resolve, reject });
      if (!this.writing && !this.scheduled) {
        this.scheduled = true;
        // Let the requests already read from sockets join this batch.
        setImmediate(() => {
          this.scheduled = false;
          void this.drain();
        });
      }
    });
  }

  /** Resolves once everything queued so far is committed (journaled batches included, while the database answers). */
  async flush(): Promise<void> {
    for (;;) {
      if (!this.writing && this.queue.length > 0) await this.drain();
      await this.tail;
      if (this.backlog.length > 0) await this.retry();
      if (this.queue.length === 0 && !this.writing && this.backlog.length === 0) return;
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Flushes, then removes the journal if the database has everything. */
  async close(): Promise<void> {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    try {
      await this.flush();
    } catch {
      // the database is gone: the journal keeps the backlog for the next start
    }
    if (this.backlog.length === 0) await this.journal.discard();
  }

  /**
   * Applies the batches of journals left by processes that died, skipping the
   * batches their transactions recorded as committed. Run at start-up.
   */
  static async replay(db: Db, runBatch: BatchRunner, journalDir: string): Promise<number> {
    let applied = 0;
    for (const orphan of await HitJournal.orphans<NewEvent>(journalDir)) {
      const key = HitJournal.metaKey(orphan.name);
      const row = await db.selectFrom('meta').select('value').where('key', '=', key).executeTakeFirst();
      const committed = Number(row?.value ?? 0);
      for (const batch of orphan.batches.filter((b) => b.batch > committed).sort((a, b) => a.batch - b.batch)) {
        await runBatch(batchQueries(db, batch.events, key, batch.batch));
        applied += batch.events.length;
      }
      await db.deleteFrom('meta').where('key', '=', key).execute();
      await orphan.remove();
    }
    return applied;
  }

  private async drain(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      while (this.queue.length > 0) {
        const pending = this.queue.splice(0, MAX_BATCH);
        await this.handle(pending);
      }
    } finally {
      this.writing = false;
    }
  }

  /** Resolves once the batch is acknowledged (committed or journaled); its commit may still be running. */
  private handle(pending: Pending[]): Promise<void> {
    const batch: Batch = { batch: ++this.nextBatch, events: pending.map((p) => p.event) };
    let settled = false;
    let journaled: Promise<void> | undefined;
    return new Promise<void>((done) => {
      const ack = () => {
        if (settled) return;
        settled = true;
        for (const p of pending) p.resolve();
        done();
      };
      const fail = (error: unknown) => {
        if (settled) return;
        settled = true;
        for (const p of pending) p.reject(error);
        done();
      };
      const toJournal = () => {
        journaled ??= this.journal.append([batch]).then(() => {
          this.stats.journaled += batch.events.length;
        });
        return journaled;
      };
      if (this.backlog.length > 0) {
        // The database is behind: keep order, journal this batch and queue it after the others.
        this.backlog.push(batch);
        toJournal().then(ack, fail);
        this.scheduleRetry();
        return;
      }
      const timer = setTimeout(() => toJournal().then(ack, () => undefined), ACK_DEADLINE_MS);
      const commit = this.chain(batch);
      commit.then(
        () => {
          clearTimeout(timer);
          ack();
        },
        (error: unknown) => {
          clearTimeout(timer);
          this.backlog.unshift(batch);
          this.scheduleRetry();
          toJournal().then(ack, () => fail(error));
        },
      );
    });
  }

  private chain(batch: Batch): Promise<void> {
    const run = this.tail.then(
      () => this.commitCounted(batch),
      () => this.commitCounted(batch),
    );
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async commitCounted(batch: Batch): Promise<void> {
    await this.runBatch(batchQueries(this.db, batch.events, this.journal.metaKey, batch.batch));
    this.stats.batches += 1;
    this.stats.events += batch.events.length;
  }

  private scheduleRetry(): void {
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.retry().catch(() => this.scheduleRetry());
    }, RETRY_MS);
    this.retryTimer.unref?.();
  }

  /** Commits the backlog in order; stops at the first failure and tries again later. */
  private async retry(): Promise<void> {
    while (this.backlog.length > 0) {
      const batch = this.backlog[0]!;
      await this.chain(batch);
      this.backlog.shift();
    }
  }
}

/** Runs compiled statements in one transaction (Store.runBatch). */
export type BatchRunner = (queries: CompiledQuery[]) => Promise<void>;

/**
 * One batch's statements, compiled for one transaction: the events, their
 * counters, and the batch number under the journal's key.
 */
function batchQueries(db: Db, events: NewEvent[], journalKey: string, batchId: number): CompiledQuery[] {
  const sendingCounters = new Map<string, { project_id: number; sending_id: number; opens: number; opens_machine: number; clicks: number; clicks_machine: number }>();
  const linkCounters = new Map<string, { project_id: number; sending_id: number; idx: number; clicks: number; clicks_machine: number }>();
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
  const queries: CompiledQuery[] = [];
  let offset = 0;
  for (const size of CHUNKS) {
    for (; events.length - offset >= size; offset += size) {
      const rows = events.slice(offset, offset + size).map((e) => EVENT_COLUMNS.map((c) => e[c] ?? null));
      queries.push(compileBulkInsert(db, 'events', EVENT_COLUMNS, rows));
    }
  }
  for (const s of sendingCounters.values()) {
    const query = db
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
    queries.push(query);
  }
  for (const l of linkCounters.values()) {
    const query = db
      .insertInto('link_stats')
      .values(l)
      .onConflict((oc) =>
        oc.columns(['project_id', 'sending_id', 'idx']).doUpdateSet((eb) => ({
          clicks: eb('link_stats.clicks', '+', eb.ref('excluded.clicks')),
          clicks_machine: eb('link_stats.clicks_machine', '+', eb.ref('excluded.clicks_machine')),
        })),
      )
      .compile();
    queries.push(query);
  }
  queries.push(
    db
      .insertInto('meta')
      .values({ key: journalKey, value: String(batchId) })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value: String(batchId) }))
      .compile(),
  );
  return queries;
}
