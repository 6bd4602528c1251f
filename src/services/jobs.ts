import type { Selectable } from 'kysely';
import type { Db } from '../store/database.js';
import type { JobTable } from '../store/schema.js';

export type Job = Selectable<JobTable>;

/** What a step did: finished the job, or left more work for the next step. */
export type StepResult = 'done' | 'continue';

export interface JobHandler {
  /** Runs one bounded step (a batch); the lease covers it. */
  step(job: Job): Promise<StepResult>;
  /** Called once when the job has failed for good. */
  failed?(job: Job, error: unknown): Promise<void>;
}

const MAX_ATTEMPTS = 5;

/**
 * Durable background jobs in the `jobs` table. A runner claims a due job with
 * a lease (`UPDATE … WHERE lease_until < now`), so after a crash another runner
 * picks it up when the lease lapses, and two processes never run one step twice.
 */
export class JobRunner {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopped = true;
  private idle: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Db,
    private readonly clock: () => number,
    private readonly handlers: Record<string, JobHandler>,
    private readonly options: { pollMs?: number; leaseMs?: number } = {},
  ) {}

  private get leaseMs(): number {
    return this.options.leaseMs ?? 60_000;
  }

  async enqueue(trx: Db, projectId: number, kind: string, refId: number, runAt = this.clock()): Promise<void> {
    await trx
      .insertInto('jobs')
      .values({ project_id: projectId, kind, ref_id: refId, state: 'pending', run_at: runAt, lease_until: 0, attempts: 0, created_at: this.clock() })
      .execute();
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
    const job = await this.db
      .updateTable('jobs')
      .set((eb) => ({ lease_until: now + this.leaseMs, attempts: eb('attempts', '+', 1) }))
      .where('id', '=', (eb) =>
        eb
          .selectFrom('jobs')
          .select('id')
          .where('state', '=', 'pending')
          .where('run_at', '<=', now)
          .where('lease_until', '<', now)
          .orderBy('run_at')
          .orderBy('id')
          .limit(1),
      )
      .where('lease_until', '<', now)
      .returningAll()
      .executeTakeFirst();
    if (!job) return false;
    const handler = this.handlers[job.kind];
    try {
      if (!handler) throw new Error(`no handler for job kind ${job.kind}`);
      const result = await handler.step(job);
      await this.db
        .updateTable('jobs')
        .set(result === 'done' ? { state: 'done', lease_until: 0 } : { lease_until: 0, attempts: 0 })
        .where('project_id', '=', job.project_id)
        .where('id', '=', job.id)
        .execute();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const final = job.attempts >= MAX_ATTEMPTS;
      await this.db
        .updateTable('jobs')
        .set({ state: final ? 'failed' : 'pending', lease_until: 0, run_at: this.clock() + 1000 * 2 ** job.attempts, last_error: message })
        .where('project_id', '=', job.project_id)
        .where('id', '=', job.id)
        .execute();
      if (final) await handler?.failed?.(job, error);
    }
    return true;
  }
}
