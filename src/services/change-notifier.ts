import { randomBytes } from 'node:crypto';

/** A committed change other processes must drop from their caches. */
export type Change =
  /** `contactIds: null`: every contact of the project (a bulk change). */
  | { kind: 'consent'; projectId: number; contactIds: number[] | null }
  | { kind: 'project'; projectId: number }
  | { kind: 'injection-rules'; projectId: number }
  /** Notifications may have been missed (the channel reconnected): forget everything. */
  | { kind: 'everything' };

/**
 * Carries notifications between processes: PostgreSQL `LISTEN/NOTIFY`, or a
 * NATS subject when the queue is configured. Two implementations, one port.
 */
export interface ChangeChannel {
  send(payload: string): Promise<void>;
  /** Starts delivering payloads; `onGap` after a reconnection, when some may have been lost. */
  listen(onPayload: (payload: string) => void, onGap: () => void): Promise<void>;
  close(): Promise<void>;
}

/** Contact ids per notification; above this a consent change invalidates the whole project (PostgreSQL payloads stop at 8000 bytes). */
const MAX_IDS = 400;

/**
 * Tells the other server processes about committed consent, settings and
 * injection-rule changes, so their caches drop the old values at once rather
 * than when they expire (SPEC §8). Caches only speed things up: the tracking
 * batch checks consent in its own transaction whatever they say.
 */
export class ChangeNotifier {
  private readonly origin = randomBytes(8).toString('hex');
  private readonly handlers: ((change: Change) => void)[] = [];
  private channel: ChangeChannel | undefined;
  private listening = false;
  /** Notifications sent and received, for /metrics. */
  readonly stats = { sent: 0, received: 0, failed: 0 };

  /** Sends through `channel` from now on. */
  use(channel: ChangeChannel): void {
    this.channel = channel;
  }

  /** Delivers other processes' changes to `handler`. */
  onRemote(handler: (change: Change) => void): void {
    this.handlers.push(handler);
  }

  /** Starts receiving (servers only: a CLI command publishes but keeps no listening connection). */
  async listen(): Promise<void> {
    if (!this.channel || this.listening) return;
    this.listening = true;
    await this.channel.listen(
      (payload) => this.receive(payload),
      () => this.deliver({ kind: 'everything' }),
    );
  }

  /** After commit: tells the other processes; never throws (their caches expire anyway). */
  publish(change: Change): void {
    if (!this.channel) return;
    const changes: Change[] =
      change.kind === 'consent' && change.contactIds !== null && change.contactIds.length > MAX_IDS ? [{ ...change, contactIds: null }] : [change];
    for (const c of changes) {
      this.stats.sent += 1;
      this.channel.send(JSON.stringify({ o: this.origin, c })).catch(() => {
        this.stats.failed += 1;
      });
    }
  }

  async close(): Promise<void> {
    const channel = this.channel;
    this.channel = undefined;
    await channel?.close();
  }

  private receive(payload: string): void {
    let message: { o?: unknown; c?: Change };
    try {
      message = JSON.parse(payload) as { o?: unknown; c?: Change };
    } catch {
      return;
    }
    if (message.o === this.origin || !message.c || typeof message.c.kind !== 'string') return;
    this.stats.received += 1;
    this.deliver(message.c);
  }

  private deliver(change: Change): void {
    for (const handler of this.handlers) handler(change);
  }
}
