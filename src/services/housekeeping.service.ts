import type { Config } from '../config.js';
import { anonymizeEventsBefore } from '../store/events.js';
import type { Db } from '../store/database.js';
import { ensureMonthPartitions } from '../store/event-partitions.js';
import type { Dialect } from '../store/migrations/index.js';
import { hasPendingJobOfKind } from '../store/jobs.js';
import { purgeOutbox } from '../transport/outbox.js';
import type { FormSubmissionService } from './form-submissions.service.js';
import type { Job, JobRunner, StepResult } from './jobs.js';
import type { ProjectService } from './projects.service.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Jobs that belong to no project use project id 0. */
const SYSTEM_PROJECT = 0;
/** Months of events partitions kept ready after the current one. */
export const PARTITIONS_AHEAD = 2;

/**
 * Hourly upkeep, as a durable job so one server process of many runs it:
 * identified events older than a project's `retentionDays` are anonymised
 * (SPEC §7), outbox files older than TRACKGUARD_OUTBOX_RETENTION_DAYS are purged (§9),
 * and double opt-in requests never confirmed are deleted once their link expired.
 * On PostgreSQL it also creates the events table's monthly partitions of this
 * month and the next {@link PARTITIONS_AHEAD} (SPEC §8).
 */
export class HousekeepingService {
  constructor(
    private readonly db: Db,
    private readonly clock: () => number,
    private readonly config: Config,
    private readonly projects: ProjectService,
    private readonly jobs: JobRunner,
    private readonly forms: FormSubmissionService,
    private readonly dialect: Dialect,
  ) {}

  /** Makes sure one housekeeping job is pending (called at server start). */
  async schedule(): Promise<void> {
    if (!(await hasPendingJobOfKind(this.db, 'housekeeping'))) await this.jobs.enqueue(this.db, SYSTEM_PROJECT, 'housekeeping', 0);
  }

  async run(now = this.clock()): Promise<{ anonymized: number; purged: number; expiredRequests: number; spentTokens: number; partitions: { created: string[]; failed: string[] } }> {
    const partitions = this.dialect === 'postgres' ? await ensureMonthPartitions(this.db, now, PARTITIONS_AHEAD) : { created: [], failed: [] };
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
    const expiredRequests = await this.forms.purgeExpiredRequests(now);
    const spentTokens = await this.forms.purgeSpentTokens(now);
    return { anonymized, purged, expiredRequests, spentTokens, partitions };
  }

  async step(_job: Job): Promise<StepResult> {
    await this.run();
    await this.jobs.enqueue(this.db, SYSTEM_PROJECT, 'housekeeping', 0, this.clock() + HOUR);
    return 'done';
  }
}
