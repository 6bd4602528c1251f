import { randomBytes } from 'node:crypto';
import type { EventWriter, HitWriter, NewEvent, WriteOutcome } from '../services/event-writer.js';
import type { NatsLink } from './nats-link.js';

/** How long a publish may wait for JetStream's acknowledgement before the hit goes the direct way. */
const PUBLISH_TIMEOUT_MS = 2000;

/** A queue message: the hit and the id it is published (and de-duplicated) under. */
export interface HitMessage {
  id: string;
  e: NewEvent;
}

interface InFlight {
  event: NewEvent;
  id: string;
  settled: boolean;
  resolve: (outcome: WriteOutcome) => void;
  reject: (error: unknown) => void;
}

/**
 * The tracking side of the hit queue (SPEC §8): each hit is published to the
 * JetStream stream under its own message id and answered once JetStream
 * acknowledges it; publishes are not awaited one by one, so many are in
 * flight at once. While the link is down, and for a publish that fails or is
 * in flight when the connection drops, the hit goes to the direct group
 * commit (EventWriter, with its journal) carrying its message id: if
 * JetStream did store it after all, the writer that pulls it finds the id
 * applied and skips it.
 */
export class HitPublisher implements HitWriter {
  private readonly origin = randomBytes(6).toString('hex');
  private counter = 0;
  private readonly inFlight = new Set<InFlight>();
  /** Hits acknowledged by JetStream, and hits written directly because NATS was unavailable. */
  readonly stats = { published: 0, fallback: 0 };
  /** Called with each acknowledged publish's round trip in seconds (the `trackguard_queue_publish_seconds` histogram). */
  observePublish: ((seconds: number) => void) | undefined;

  constructor(
    private readonly link: NatsLink,
    private readonly direct: EventWriter,
  ) {
    link.onDown(() => {
      for (const entry of [...this.inFlight]) this.fallBack(entry);
    });
  }

  write(event: NewEvent): Promise<WriteOutcome> {
    const id = `${this.origin}-${(++this.counter).toString(36)}`;
    const js = this.link.js;
    if (!this.link.up || !js) return this.writeDirect(event, id);
    return new Promise<WriteOutcome>((resolve, reject) => {
      const entry: InFlight = { event, id, settled: false, resolve, reject };
      this.inFlight.add(entry);
      const started = performance.now();
      const message: HitMessage = { id, e: event };
      js.publish(this.link.names.hitSubject, JSON.stringify(message), { msgID: id, timeout: PUBLISH_TIMEOUT_MS }).then(
        () => {
          if (entry.settled) return;
          entry.settled = true;
          this.inFlight.delete(entry);
          this.stats.published += 1;
          this.observePublish?.((performance.now() - started) / 1000);
          resolve('pending');
        },
        (error: unknown) => {
          if (entry.settled) return;
          this.link.markDown(error instanceof Error ? error.message : String(error));
          this.fallBack(entry);
        },
      );
    });
  }

  /** Waits for the publishes in flight, then for the direct writer. */
  async flush(): Promise<void> {
    while (this.inFlight.size > 0) await new Promise((r) => setTimeout(r, 5));
    await this.direct.flush();
  }

  async close(): Promise<void> {
    const deadline = Date.now() + PUBLISH_TIMEOUT_MS + 1000;
    while (this.inFlight.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    for (const entry of [...this.inFlight]) this.fallBack(entry);
  }

  private fallBack(entry: InFlight): void {
    if (entry.settled) return;
    entry.settled = true;
    this.inFlight.delete(entry);
    this.writeDirect(entry.event, entry.id).then(entry.resolve, entry.reject);
  }

  private writeDirect(event: NewEvent, id: string): Promise<WriteOutcome> {
    this.stats.fallback += 1;
    return this.direct.write(event, id);
  }
}
