import type { Db } from '../store/database.js';
import type { NewEvent } from '../store/event-batch.js';
import { HitJournal, type JournalBatch } from '../store/hit-journal.js';
import { deleteMeta, getMeta } from '../store/meta.js';
import type { AppliedMessage } from '../store/queue-applied.js';
import type { BatchRecorder } from './batch-recorder.js';

export type { NewEvent } from '../store/event-batch.js';

/**
 * How a written event was stored: `identified` or `anonymous` as decided in
 * its commit, or `pending` when it was acknowledged from the hit journal and
 * the decision is made when the database takes the batch.
 */
export type WriteOutcome = 'identified' | 'anonymous' | 'pending';

/** Where the tracking routes hand hits: the group-commit writer, or the hit queue in front of it. */
export interface HitWriter {
  write(event: NewEvent): Promise<WriteOutcome>;
  flush(): Promise<void>;
}

interface Pending {
  event: NewEvent;
  /** The queue message id of a hit that was meant for JetStream (NATS failed): recorded as applied with the batch. */
  messageId: string | null;
  resolve: (outcome: WriteOutcome) => void;
  reject: (error: unknown) => void;
}

type Batch = JournalBatch<NewEvent>;

const MAX_BATCH = 2000;
/** How long a batch may wait for its database commit before it is acknowledged from the journal instead. */
const ACK_DEADLINE_MS = 50;
const RETRY_MS = 1000;

/**
 * Group commit for tracking hits: events queue up while the previous
 * transaction commits, then go in together with their counter increments.
 * An event naming a contact is a candidate: the batch's own transaction
 * decides whether it is stored identified (see BatchRecorder).
 * A hit is acknowledged only once durable: committed, or — when the database
 * is slow or down — appended to the process's hit journal and fsynced, and
 * committed later in batch order. Each transaction records its batch number
 * under the journal's key, so a replay after a crash applies exactly what
 * the database lacks.
 */
export class EventWriter implements HitWriter {
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
    private readonly recorder: BatchRecorder,
    private readonly journal: HitJournal<NewEvent>,
  ) {}

  /**
   * Queues an event; resolves once it is durable, with how it was stored.
   * `messageId`: the id it was published to the hit queue under, when that
   * publish failed or went unanswered, so the copy JetStream may still hold
   * is not applied a second time.
   */
  write(event: NewEvent, messageId: string | null = null): Promise<WriteOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ event, messageId, resolve, reject });
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
    if (this.backlog.length === 0) {
      await this.journal.discard();
      // The database has every batch: the journal's committed-batch row is of no further use.
      await this.recorder.forget(this.journal.metaKey).catch(() => undefined);
    }
  }

  /**
   * Applies the batches of journals left by processes that died, skipping the
   * batches their transactions recorded as committed. Run at start-up.
   */
  static async replay(db: Db, recorder: BatchRecorder, journalDir: string): Promise<number> {
    let applied = 0;
    for (const orphan of await HitJournal.orphans<NewEvent>(journalDir)) {
      const key = HitJournal.metaKey(orphan.name);
      const committed = Number((await getMeta(db, key)) ?? 0);
      for (const batch of orphan.batches.filter((b) => b.batch > committed).sort((a, b) => a.batch - b.batch)) {
        await recorder.record(batch.events, { journal: { key, batch: batch.batch }, messages: messagesOf(batch) });
        applied += batch.events.length;
      }
      await deleteMeta(db, key);
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
    if (pending.some((p) => p.messageId !== null)) batch.ids = pending.map((p) => p.messageId);
    let settled = false;
    let journaled: Promise<void> | undefined;
    return new Promise<void>((done) => {
      const ack = (identified?: boolean[]) => {
        if (settled) return;
        settled = true;
        pending.forEach((p, i) => {
          const flag = identified?.[i];
          p.resolve(flag === undefined ? 'pending' : flag ? 'identified' : 'anonymous');
        });
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
        toJournal().then(() => ack(), fail);
        this.scheduleRetry();
        return;
      }
      const timer = setTimeout(() => toJournal().then(() => ack(), () => undefined), ACK_DEADLINE_MS);
      const commit = this.chain(batch);
      commit.then(
        (identified) => {
          clearTimeout(timer);
          ack(identified);
        },
        (error: unknown) => {
          clearTimeout(timer);
          this.backlog.unshift(batch);
          this.scheduleRetry();
          toJournal().then(() => ack(), () => fail(error));
        },
      );
    });
  }

  private chain(batch: Batch): Promise<boolean[]> {
    const run = this.tail.then(
      () => this.commitCounted(batch),
      () => this.commitCounted(batch),
    );
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async commitCounted(batch: Batch): Promise<boolean[]> {
    const identified = await this.recorder.record(batch.events, { journal: { key: this.journal.metaKey, batch: batch.batch }, messages: messagesOf(batch) });
    this.stats.batches += 1;
    this.stats.events += batch.events.length;
    return identified;
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

/** The queue messages a journal batch carries, as the recorder takes them. */
function messagesOf(batch: Batch): (AppliedMessage | null)[] | undefined {
  return batch.ids?.map((id) => (id === null ? null : { id, stream: null, seq: null }));
}
