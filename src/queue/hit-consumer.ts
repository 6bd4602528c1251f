import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import type { BatchRecorder } from '../services/batch-recorder.js';
import type { Db } from '../store/database.js';
import type { NewEvent } from '../store/event-batch.js';
import { type AppliedMessage, purgeApplied } from '../store/queue-applied.js';
import type { HitMessage } from './hit-publisher.js';
import { type NatsLink, type QueueLog, STREAM_MAX_AGE_MS } from './nats-link.js';

const MAX_BATCH = 2000;
/** Messages the consumer asks JetStream for ahead of its commits. */
const PREFETCH = 4000;
/** A batch that failed to commit comes back after this. */
const NAK_DELAY_MS = 1000;
const PURGE_EVERY_MS = 60_000;
const PURGE_CHUNK = 5000;

/**
 * The writer side of the hit queue (SPEC §8): pulls hits from the durable
 * consumer, records them in batches through the BatchRecorder (consent
 * decided in the batch's own transaction) and acknowledges them once that
 * transaction has committed. The transaction records the message ids it
 * applied (queue_applied), so a message delivered again — the process died
 * between commit and acknowledgement, or the acknowledgement was lost — is
 * acknowledged without being written twice. A batch that fails is
 * negatively acknowledged and delivered again a second later.
 */
export class HitConsumer {
  private messages: ConsumerMessages | undefined;
  private buffer: JsMsg[] = [];
  private draining: Promise<void> | undefined;
  private scheduled = false;
  private stopped = true;
  private purgeTimer: NodeJS.Timeout | undefined;
  private lastFailureLog = 0;
  /** Hits pulled and committed (or found applied already) by this process, and its commits. */
  readonly stats = { consumed: 0, batches: 0 };

  constructor(
    private readonly link: NatsLink,
    private readonly recorder: BatchRecorder,
    private readonly db: Db,
    private readonly clock: () => number,
  ) {}

  start(log: QueueLog): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.link.onUp(() => void this.subscribe(log));
    this.purgeTimer = setInterval(() => void this.purge().catch(() => undefined), PURGE_EVERY_MS);
    this.purgeTimer.unref();
  }

  /** Stops pulling, waits for the batch being committed; what is buffered is handed back to the stream. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.purgeTimer) clearInterval(this.purgeTimer);
    const messages = this.messages;
    this.messages = undefined;
    await messages?.close().catch(() => undefined);
    await this.draining;
    for (const m of this.buffer.splice(0)) m.nak();
  }

  /** Removes applied-message rows the stream can no longer deliver again (bounded per run). */
  async purge(): Promise<number> {
    const jsm = this.link.jsm;
    if (!jsm || !this.link.up) return 0;
    const { stream, consumer } = this.link.names;
    const info = await jsm.consumers.info(stream, consumer);
    const before = this.clock() - STREAM_MAX_AGE_MS - 60 * 60 * 1000;
    let removed = 0;
    for (let round = 0; round < 100; round++) {
      const n = await purgeApplied(this.db, stream, info.ack_floor.stream_seq, before, PURGE_CHUNK);
      removed += n;
      if (n < PURGE_CHUNK) break;
    }
    return removed;
  }

  private async subscribe(log: QueueLog): Promise<void> {
    if (this.stopped || this.messages) return;
    const js = this.link.js;
    if (!js) return;
    try {
      const consumer = await js.consumers.get(this.link.names.stream, this.link.names.consumer);
      if (this.stopped || this.messages) return;
      const messages = await consumer.consume({ max_messages: PREFETCH, callback: (m) => this.take(m) });
      this.messages = messages;
      void messages.closed().then(() => {
        if (this.messages !== messages) return;
        // Closed under us (consumer deleted, connection closed): subscribe again once the link is up.
        this.messages = undefined;
        if (!this.stopped) setTimeout(() => void this.subscribe(log), 1000).unref();
      });
    } catch (error) {
      log.warn({ err: String(error) }, 'hit consumer: cannot pull from JetStream yet; trying again');
      if (!this.stopped) setTimeout(() => void this.subscribe(log), 1000).unref();
    }
  }

  private take(m: JsMsg): void {
    this.buffer.push(m);
    this.schedule();
  }

  private schedule(): void {
    if (this.draining || this.scheduled || this.stopped) return;
    this.scheduled = true;
    // Let the messages of the same read join this batch.
    setImmediate(() => {
      this.scheduled = false;
      this.draining = this.drain().finally(() => {
        this.draining = undefined;
        if (this.buffer.length > 0) this.schedule();
      });
    });
  }

  private async drain(): Promise<void> {
    while (this.buffer.length > 0 && !this.stopped) {
      await this.commit(this.buffer.splice(0, MAX_BATCH));
    }
  }

  private async commit(batch: JsMsg[]): Promise<void> {
    const events: NewEvent[] = [];
    const applied: (AppliedMessage | null)[] = [];
    const seen = new Set<string>();
    const stream = this.link.names.stream;
    for (const m of batch) {
      let message: HitMessage;
      try {
        message = m.json<HitMessage>();
      } catch {
        m.term();
        continue;
      }
      if (typeof message?.id !== 'string' || typeof message.e !== 'object' || message.e === null) {
        m.term();
        continue;
      }
      // Delivered twice within one batch (its first delivery's wait ran out): one copy is enough.
      if (seen.has(message.id)) continue;
      seen.add(message.id);
      events.push(message.e);
      applied.push({ id: message.id, stream, seq: m.seq });
    }
    try {
      if (events.length > 0) await this.recorder.record(events, { messages: applied });
      this.stats.batches += 1;
      this.stats.consumed += events.length;
    } catch (error) {
      if (Date.now() - this.lastFailureLog > 10_000) {
        this.lastFailureLog = Date.now();
        process.stderr.write(`trackguard: hit consumer: batch of ${events.length} not committed (${error instanceof Error ? error.message : String(error)}); delivered again shortly\n`);
      }
      for (const m of batch) m.nak(NAK_DELAY_MS);
      await new Promise((r) => setTimeout(r, 200));
      return;
    }
    for (const m of batch) m.ack();
  }
}
