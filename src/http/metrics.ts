import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** What the tracking writer has done since the process started. */
export interface WriterStats {
  batches: number;
  events: number;
  journaled: number;
}

/** What the hit queue (TRACKGUARD_QUEUE) reports. */
export interface QueueStats {
  /** Whether JetStream takes hits now. */
  up(): boolean;
  published: number;
  fallback: number;
  consumed: number;
  alreadyApplied: number;
  /** Hands over the observer of each acknowledged publish's round trip (seconds). */
  observePublishes(observe: (seconds: number) => void): void;
}

/** The process's Prometheus registry and the instruments the server updates. */
export function createMetrics(writer?: WriterStats, queue?: QueueStats) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  if (queue) {
    gauge('trackguard_queue_fallback', '1 while NATS JetStream is unavailable and hits go through direct group commit with the hit journal, else 0', () => (queue.up() ? 0 : 1));
    gauge('trackguard_queue_hits_published', 'hits of this process acknowledged by JetStream', () => queue.published);
    gauge('trackguard_queue_hits_fallback', 'hits of this process written directly because NATS was unavailable or a publish failed', () => queue.fallback);
    gauge('trackguard_queue_hits_consumed', 'queued hits pulled and committed by this process', () => queue.consumed);
    const publishes = new Histogram({
      name: 'trackguard_queue_publish_seconds',
      help: 'round trip of a hit publish until JetStream acknowledged it',
      buckets: [0.0005, 0.001, 0.0015, 0.002, 0.003, 0.004, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2],
      registers: [registry],
    });
    queue.observePublishes((seconds) => publishes.observe(seconds));
    gauge('trackguard_queue_hits_already_applied', 'queued hits this process found committed already (redeliveries) and acknowledged without writing', () => queue.alreadyApplied);
  }
  if (writer) {
    gauge('trackguard_tracking_events_written', 'tracking and web events committed by this process', () => writer.events);
    gauge('trackguard_tracking_batches_committed', 'group-commit transactions of this process', () => writer.batches);
    gauge('trackguard_tracking_events_journaled', 'events acknowledged from the hit journal because their commit was late', () => writer.journaled);
  }
  return {
    registry,
    httpRequests: new Counter({
      name: 'trackguard_http_requests_total',
      help: 'HTTP requests by route pattern, method and status',
      labelNames: ['route', 'method', 'status'] as const,
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'trackguard_http_request_duration_seconds',
      help: 'HTTP request duration by route pattern',
      labelNames: ['route'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
