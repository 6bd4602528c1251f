import type { Config } from '../config.js';
import { anonymizeEventsBefore } from '../store/events.js';
import type { Db } from '../store/database.js';
import { purgeOutbox } from '../transport/outbox.js';
import type { Job, JobRunner, StepResult } from './jobs.js';
import type { ProjectService } from './projects.service.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Jobs that belong to no project use project id 0. */
const SYSTEM_PROJECT = 0;

/**
 * Hourly upkeep, as a durable job so one server process of many runs it:
 * identified events older than a project's `retentionDays` are anonymised
 * (SPEC §7), and outbox files older than TRACKGUARD_OUTBOX_RETENTION_DAYS are purged (§9).
 */
export class HousekeepingService {
  constructor(
    private readonly db: Db,
    private readonly clock: () => number,
    private readonly config: Config,
    private readonly projects: ProjectService,
    private readonly jobs: JobRunner,
  ) {}

  /** Makes sure one housekeeping job is pending (called at server start). */
  async schedule(): Promise<void> {
    const pending = await this.db.selectFrom('jobs').select('id').where('kind', '=', 'housekeeping').where('state', '=', 'pending').executeTakeFirst();
    if (!pending) await this.jobs.enqueue(this.db, SYSTEM_PROJECT, 'housekeeping', 0);
  }

  async run(now = this.clock()): Promise<{ anonymized: number; purged: number }> {
    let anonymized = 0;
    for (const project of await this.projects.list()) {
      if (project.settings.retentionDays <= 0) continue;
      const before = now - project.settings.retentionDays * DAY;
      for (let changed = -1; changed !== 0; ) {
        changed = await this.db.transaction().execute((trx) => anonymizeEventsBefore(trx, project.id, before));
        anonymized += changed;
      }
    }
    const purged = this.config.outboxRetentionDays > 0 ? await purgeOutbox(this.config.dataDir, this.config.outboxRetentionDays, now) : 0;
    return { anonymized, purged };
  }

  async step(_job: Job): Promise<StepResult> {
    await this.run();
    await this.jobs.enqueue(this.db, SYSTEM_PROJECT, 'housekeeping', 0, this.clock() + HOUR);
    return 'done';
  }
}
