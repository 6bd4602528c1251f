import type { Db } from '../store/database.js';
import { type Job, claimDueJob, failJob, insertJob, releaseJob, renewLease } from '../store/jobs.js';

export type { Job } from '../store/jobs.js';

/** What a step did: finished the job, or left more work for the next step. */
export type StepResult = 'done' | 'continue';

/** The lease a step runs under, as its runner's heartbeat keeps it. */
export interface Lease {
  /** True once the heartbeat found the lease gone (it lapsed and another runner may hold the job): stop handing work over. */
  readonly lost: boolean;
}

export interface JobHandler {
  /** Runs one bounded step (a batch); the lease covers it, renewed by a heartbeat while the step runs. */
  step(job: Job, lease: Lease): Promise<StepResult>;
  /** Called once when the job has failed for good. */
  failed?(job: Job, error: unknown): Promise<void>;
}

/** One step a runner ran: which job, when (epoch ms, this process's clock), and how it ended. */
export interface StepTrace {
  jobId: number;
  kind: string;
  projectId: number;
  refId: number;
  attempt: number;
  startedAt: number;
  finishedAt: number;
  result: StepResult | 'error';
}

const MAX_ATTEMPTS = 5;
/** Short, so the job of a crashed runner resumes within seconds; a live runner's heartbeat renews it. */
const LEASE_MS = 5_000;

/**
 * Durable background jobs in the `jobs` table. A runner claims a due job with
 * a short lease (`UPDATE … WHERE lease_until < now`) that a heartbeat renews
 * while the step runs, so after a crash another runner picks the job up within
 * seconds, and two processes never run one step twice.
 */
export class JobRunner {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopped = true;
  private idle: Promise<void> = Promise.resolve();
  /** Told of every step once it ended (the server logs it at debug level as `job step`). */
  onStep: ((step: StepTrace) => void) | undefined;

  constructor(
    private readonly db: Db,
    private readonly clock: () => number,
    private readonly handlers: Record<string, JobHandler>,
    /** `heartbeatMs` 0 renews nothing (a runner that stalls, in tests); by default a fifth of the lease. */
    private readonly options: { pollMs?: number; leaseMs?: number; heartbeatMs?: number } = {},
  ) {}

  private get leaseMs(): number {
    return this.options.leaseMs ?? LEASE_MS;
  }

  async enqueue(trx: Db, projectId: number, kind: string, refId: number, runAt = this.clock()): Promise<void> {
    await insertJob(trx, projectId, kind, refId, runAt, this.clock());
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops claiming jobs and waits for the step in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.idle;
  }

  /** Runs due work now instead of at the next poll. */
  wake(): void {
    if (!this.stopped && !this.running) this.schedule(0);
  }

  private schedule(delay: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.idle = this.drain();
    }, delay);
    this.timer.unref?.();
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (!this.stopped && (await this.runOnce())) {
        // keep going while there is due work
      }
    } finally {
      this.running = false;
      if (!this.stopped) this.schedule(this.options.pollMs ?? 500);
    }
  }

  /** Claims one due job and runs one step of it; false when nothing was due. */
  async runOnce(): Promise<boolean> {
    const now = this.clock();
    const job = await claimDueJob(this.db, now, this.leaseMs);
    if (!job) return false;
    const handler = this.handlers[job.kind];
    const heartbeat = this.heartbeat(job);
    const startedAt = Date.now();
    let outcome: StepTrace['result'] = 'error';
    const trace = () =>
      this.onStep?.({ jobId: job.id, kind: job.kind, projectId: job.project_id, refId: job.ref_id, attempt: job.attempts, startedAt, finishedAt: Date.now(), result: outcome });
    try {
      if (!handler) throw new Error(`no handler for job kind ${job.kind}`);
      outcome = await handler.step(job, heartbeat.lease);
      trace();
      await releaseJob(this.db, await heartbeat.stop(), outcome === 'done');
    } catch (error) {
      if (outcome === 'error') trace();
      const held = await heartbeat.stop();
      const message = error instanceof Error ? error.message : String(error);
      const final = job.attempts >= MAX_ATTEMPTS;
      await failJob(this.db, held, { final, retryAt: this.clock() + 1000 * 2 ** job.attempts, error: message });
      if (final) await handler?.failed?.(job, error);
    }
    return true;
  }

  /**
   * Renews the lease of `job` every `heartbeatMs` until stopped; `stop` resolves with the job as last
   * renewed (its `lease_until` is what release and fail compare against).
   */
  private heartbeat(job: Job): { lease: Lease; stop(): Promise<Job> } {
    const every = this.options.heartbeatMs ?? Math.floor(this.leaseMs / 5);
    const lease = { lost: false };
    let held = job;
    let stopped = false;
    let beat: Promise<void> = Promise.resolve();
    let timer: NodeJS.Timeout | undefined;
    const tick = () => {
      beat = (async () => {
        const until = Math.max(this.clock() + this.leaseMs, held.lease_until + 1);
        try {
          if (await renewLease(this.db, held, until)) held = { ...held, lease_until: until };
          else lease.lost = true;
        } catch {
          // A failed renewal (database busy or gone) leaves the lease as it was; the next beat tries again.
        }
        if (!stopped && !lease.lost) schedule();
      })();
    };
    const schedule = () => {
      timer = setTimeout(tick, every);
      timer.unref?.();
    };
    if (every > 0) schedule();
    return {
      lease,
      async stop() {
        stopped = true;
        if (timer) clearTimeout(timer);
        await beat;
        return held;
      },
    };
  }
}
