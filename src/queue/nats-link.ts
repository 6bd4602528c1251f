import { AckPolicy, DeliverPolicy, DiscardPolicy, type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { connect, type NatsConnection, nanos } from '@nats-io/transport-node';

/** How the queue's parts log: the server's pino logger fits. */
export interface QueueLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

/** The names one installation uses on a NATS shared with others (TRACKGUARD_QUEUE_PREFIX). */
export interface QueueNames {
  stream: string;
  hitSubject: string;
  consumer: string;
  changeSubject: string;
}

export function queueNames(prefix: string): QueueNames {
  return { stream: `${prefix}-hits`, hitSubject: `${prefix}.hits`, consumer: `${prefix}-writers`, changeSubject: `${prefix}.changes` };
}

/**
 * Retention of the hit stream (README, "Running on several machines"): a work queue, so a hit
 * leaves the broker once a writer has committed and acknowledged it; an unconsumed one for at
 * most a day; at most 1 GiB, beyond which publishes are refused and hits go the direct way.
 */
export const STREAM_MAX_AGE_MS = 24 * 60 * 60 * 1000;
const STREAM_MAX_BYTES = 1024 * 1024 * 1024;
/** Publishes retried with the same message id within this window are stored once. */
const DUPLICATE_WINDOW_MS = 2 * 60 * 1000;
/** A delivered hit not acknowledged within this is delivered again (to any writer). */
export const ACK_WAIT_MS = 10_000;
const MAX_ACK_PENDING = 20_000;

/**
 * One process's connection to NATS and JetStream, and whether hits can go
 * through it now (`up`): connected, with the stream and consumer in place.
 * It connects in the background and keeps reconnecting, so a server starts
 * and answers with NATS down, and the queue's users fall back meanwhile.
 */
export class NatsLink {
  readonly names: QueueNames;
  private connection: NatsConnection | undefined;
  private jsClient: JetStreamClient | undefined;
  private manager: JetStreamManager | undefined;
  private ready = false;
  private closed = false;
  private started = false;
  private readonly upHandlers: (() => void)[] = [];
  private readonly downHandlers: (() => void)[] = [];
  private log: QueueLog | undefined;
  /** Times the link went down since start, for tests and logs. */
  downs = 0;

  constructor(
    private readonly servers: string,
    prefix: string,
    private readonly clientName: string,
  ) {
    this.names = queueNames(prefix);
  }

  /** Whether JetStream takes hits now. */
  get up(): boolean {
    return this.ready && !this.closed;
  }

  get nc(): NatsConnection | undefined {
    return this.connection;
  }

  get js(): JetStreamClient | undefined {
    return this.jsClient;
  }

  get jsm(): JetStreamManager | undefined {
    return this.manager;
  }

  /** Calls `handler` each time the link comes up (first connection and every reconnection). */
  onUp(handler: () => void): void {
    this.upHandlers.push(handler);
    if (this.up) handler();
  }

  /** Calls `handler` each time the link goes down. */
  onDown(handler: () => void): void {
    this.downHandlers.push(handler);
  }

  /** Starts connecting; returns at once (the first connection may come much later). */
  start(log: QueueLog): void {
    if (this.started) return;
    this.started = true;
    this.log = log;
    void this.run();
  }

  /** Marks the link down (a publish or fetch found it broken before the client noticed). */
  markDown(reason: string): void {
    if (!this.ready) return;
    this.ready = false;
    this.downs += 1;
    this.log?.warn({ reason }, 'NATS unavailable: tracking hits go through direct group commit with the hit journal until it answers');
    for (const handler of this.downHandlers) handler();
    // A reconnection brings it up again; a connection that stayed open (a refused or timed-out publish) is tried again here.
    const retry = setTimeout(() => void this.becomeReady('JetStream answers again: tracking hits go through it'), 1000);
    retry.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.ready = false;
    const nc = this.connection;
    this.connection = undefined;
    if (nc && !nc.isClosed()) await nc.drain().catch(() => nc.close());
  }

  private async run(): Promise<void> {
    let warned = false;
    const timer = setTimeout(() => {
      warned = true;
      if (!this.closed) this.log?.warn({ servers: this.servers }, 'NATS unreachable: tracking hits go through direct group commit with the hit journal until it answers');
    }, 2000);
    timer.unref();
    let nc: NatsConnection;
    for (;;) {
      try {
        nc = await connect({
          servers: this.servers.split(',').map((s) => s.trim()),
          name: this.clientName,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 500,
          reconnectJitter: 100,
          pingInterval: 5000,
          maxPingOut: 2,
          timeout: 2000,
        });
        break;
      } catch {
        if (this.closed) return;
        await new Promise((r) => setTimeout(r, 1000).unref());
        if (this.closed) return;
      }
    }
    clearTimeout(timer);
    if (this.closed) {
      await nc.close();
      return;
    }
    this.connection = nc;
    this.jsClient = jetstream(nc, { timeout: 5000 });
    void this.watch(nc);
    await this.becomeReady(warned ? 'NATS reachable again: tracking hits go through JetStream' : 'connected to NATS JetStream');
  }

  /** Follows the connection's status: down on disconnect, up again (stream and consumer ensured) on reconnect. */
  private async watch(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (this.closed) return;
      if (status.type === 'disconnect' || status.type === 'staleConnection') this.markDown(status.type);
      else if (status.type === 'reconnect') await this.becomeReady('NATS reachable again: tracking hits go through JetStream');
    }
  }

  private becoming: Promise<void> | undefined;

  /** Ensures the stream and consumer, then marks the link up (one attempt loop at a time). */
  private becomeReady(message: string): Promise<void> {
    this.becoming ??= this.tryReady(message).finally(() => {
      this.becoming = undefined;
    });
    return this.becoming;
  }

  private async tryReady(message: string): Promise<void> {
    const nc = this.connection;
    if (!nc || this.closed) return;
    for (let attempt = 1; !this.closed && !nc.isClosed(); attempt++) {
      try {
        this.manager ??= await jetstreamManager(nc, { timeout: 5000 });
        await this.ensure(this.manager);
        break;
      } catch (error) {
        if (attempt === 1) this.log?.warn({ err: String(error) }, 'JetStream not ready: tracking hits go through direct group commit meanwhile');
        await new Promise((r) => setTimeout(r, 1000).unref());
      }
    }
    if (this.closed || nc.isClosed()) return;
    const wasReady = this.ready;
    this.ready = true;
    if (!wasReady) {
      this.log?.info({ stream: this.names.stream, consumer: this.names.consumer }, message);
      for (const handler of this.upHandlers) handler();
    }
  }

  /** Creates the stream and the writers' durable consumer when missing (any process may be first). */
  private async ensure(jsm: JetStreamManager): Promise<void> {
    const { stream, hitSubject, consumer } = this.names;
    try {
      await jsm.streams.info(stream);
    } catch {
      await jsm.streams
        .add({
          name: stream,
          subjects: [hitSubject],
          retention: RetentionPolicy.Workqueue,
          storage: StorageType.File,
          max_age: nanos(STREAM_MAX_AGE_MS),
          max_bytes: STREAM_MAX_BYTES,
          discard: DiscardPolicy.New,
          duplicate_window: nanos(DUPLICATE_WINDOW_MS),
          num_replicas: 1,
        })
        .catch(async (error: unknown) => {
          // Another process created it between our look and our add.
          await jsm.streams.info(stream).catch(() => {
            throw error;
          });
        });
    }
    try {
      await jsm.consumers.info(stream, consumer);
    } catch {
      await jsm.consumers
        .add(stream, {
          durable_name: consumer,
          ack_policy: AckPolicy.Explicit,
          deliver_policy: DeliverPolicy.All,
          ack_wait: nanos(ACK_WAIT_MS),
          max_ack_pending: MAX_ACK_PENDING,
          filter_subject: hitSubject,
        })
        .catch(async (error: unknown) => {
          await jsm.consumers.info(stream, consumer).catch(() => {
            throw error;
          });
        });
    }
  }
}
