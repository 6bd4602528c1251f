import type { Insertable } from 'kysely';
import type { Db } from '../store/database.js';
import type { EventTable } from '../store/schema.js';

export type NewEvent = Insertable<EventTable>;

interface Pending {
  event: NewEvent;
  resolve: () => void;
  reject: (error: unknown) => void;
}

const MAX_BATCH = 2000;
const INSERT_CHUNK = 500;

/**
 * Group commit for tracking hits: events queue up while the previous
 * transaction commits, then go in together with their counter increments.
 * `write` resolves only after the commit, so an acknowledged hit is durable.
 */
export class EventWriter {
  private queue: Pending[] = [];
  private writing = false;
  private scheduled = false;
  /** Transactions committed and events written, for metrics and benchmarks. */
  readonly stats = { batches: 0, events: 0 };

  constructor(private readonly db: Db) {}

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

  /** Resolves once everything queued so far is committed. */
  async flush(): Promise<void> {
    while (this.queue.length > 0 || this.writing) {
      await new Promise((r) => setTimeout(r, 1));
      if (!this.writing && this.queue.length > 0) await this.drain();
    }
  }

  private async drain(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_BATCH);
        try {
          await this.commit(batch.map((p) => p.event));
          this.stats.batches += 1;
          this.stats.events += batch.length;
          for (const p of batch) p.resolve();
        } catch (error) {
          for (const p of batch) p.reject(error);
        }
      }
    } finally {
      this.writing = false;
    }
  }

  private async commit(events: NewEvent[]): Promise<void> {
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
    await this.db.transaction().execute(async (trx) => {
      for (let i = 0; i < events.length; i += INSERT_CHUNK) {
        await trx.insertInto('events').values(events.slice(i, i + INSERT_CHUNK)).execute();
      }
      for (const s of sendingCounters.values()) {
        await trx
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
          .execute();
      }
      for (const l of linkCounters.values()) {
        await trx
          .insertInto('link_stats')
          .values(l)
          .onConflict((oc) =>
            oc.columns(['project_id', 'sending_id', 'idx']).doUpdateSet((eb) => ({
              clicks: eb('link_stats.clicks', '+', eb.ref('excluded.clicks')),
              clicks_machine: eb('link_stats.clicks_machine', '+', eb.ref('excluded.clicks_machine')),
            })),
          )
          .execute();
      }
    });
  }
}
