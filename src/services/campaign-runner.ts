import { type Campaign, type CampaignContactState, type CampaignNode, parseDuration } from '../domain/campaign.js';
import { trackedSql } from '../domain/consent.js';
import { hasBehaviorClause } from '../domain/criteria.js';
import {
  addReached,
  changeCampaignStatus,
  claimDueContacts,
  getCampaign,
  heldContacts,
  insertCampaignSend,
  linkCampaignSend,
  moveContacts,
  nextDueAt,
  pendingCampaignSends,
  unlinkedSendingOf,
} from '../store/campaigns.js';
import { contactIdsAmong } from '../store/contacts.js';
import type { Db } from '../store/database.js';
import { hasNewerPendingJob, setJobRunAt } from '../store/jobs.js';
import type { Job, StepResult } from './jobs.js';
import type { ProjectService } from './projects.service.js';
import type { SegmentService } from './segments.service.js';
import type { SendingService } from './sendings.service.js';

const BATCH = 500;
const LEASE_MS = 5 * 60_000;
/** How often a running API-entry campaign with nobody due looks again (adding contacts wakes it at once). */
const IDLE_MS = 60_000;

/**
 * The step runner of campaigns: a durable scheduler in the database. One
 * `campaign` job per running campaign claims due `campaign_contacts` rows with
 * a lease and moves them through nodes until a wait; every move is a
 * transaction guarded by the node and the lease, so a restart resumes where
 * the database says and a step never runs twice for a contact. A send records
 * its batch in the transaction that moves the contacts past it; the sending is
 * created from that record, and a retry finds the sending instead of creating a second one.
 */
export class CampaignRunner {
  constructor(
    private readonly db: Db,
    private readonly clock: () => number,
    private readonly projects: ProjectService,
    private readonly segments: SegmentService,
    private readonly sendings: SendingService,
  ) {}

  /** One step of a campaign's job: a batch of due contacts, then the job sleeps until the next one is due. */
  async step(job: Job): Promise<StepResult> {
    const projectId = job.project_id;
    const campaign = await getCampaign(this.db, projectId, job.ref_id);
    if (campaign?.status !== 'running') return 'done';
    // One job per campaign: a newer one (see CampaignService.ensureJob) takes over.
    if (await hasNewerPendingJob(this.db, projectId, 'campaign', job.ref_id, job.id)) return 'done';
    await this.createSendings(campaign);
    const now = this.clock();
    const lease = now + LEASE_MS;
    const claimed = await claimDueContacts(this.db, campaign, now, lease, BATCH);
    if (claimed.length > 0) {
      await this.advance(campaign, claimed, lease, now);
      await this.createSendings(campaign);
    }
    const next = await nextDueAt(this.db, campaign, now);
    if (next === undefined && 'groupId' in campaign.entry) {
      await changeCampaignStatus(this.db, projectId, campaign.id, 'running', { status: 'finished', updatedAt: now });
      return 'done';
    }
    const runAt = claimed.length === BATCH ? now : (next ?? now + IDLE_MS);
    await setJobRunAt(this.db, projectId, job.id, runAt);
    return 'continue';
  }

  /** Moves claimed contacts through nodes until each waits, ends or leaves. */
  private async advance(campaign: Campaign, claimed: { contactId: number; nodeId: string }[], lease: number, now: number): Promise<void> {
    const byId = new Map(campaign.nodes.map((n) => [n.id, n]));
    let at = new Map<string, number[]>();
    for (const { contactId, nodeId } of claimed) at.set(nodeId, [...(at.get(nodeId) ?? []), contactId]);
    // Without a loop free of waits (rejected on save), a contact visits each node at most once per step.
    for (let hop = 0; at.size > 0 && hop <= campaign.nodes.length; hop++) {
      const next = new Map<string, number[]>();
      for (const [nodeId, ids] of at) {
        const node = byId.get(nodeId);
        const moved = node ? await this.runNode(campaign, node, ids, lease, now) : await this.leave(campaign, nodeId, ids, lease, 'left');
        for (const [to, movedIds] of moved) next.set(to, [...(next.get(to) ?? []), ...movedIds]);
      }
      at = next;
    }
  }

  private async leave(campaign: Campaign, nodeId: string, ids: number[], lease: number, state: CampaignContactState): Promise<Map<string, number[]>> {
    const now = this.clock();
    await this.db.transaction().execute(async (trx) => {
      const held = await heldContacts(trx, campaign, nodeId, ids, lease);
      await moveContacts(trx, campaign, nodeId, held, lease, { state, lease_until: 0 }, now);
    });
    return new Map();
  }

  /** Runs one node for the contacts at it, in one transaction; returns who moves on at once, by node. */
  private async runNode(campaign: Campaign, node: CampaignNode, ids: number[], lease: number, now: number): Promise<Map<string, number[]>> {
    const out = new Map<string, number[]>();
    // Read before the transaction: SQLite has one connection, held by the transaction.
    const condition =
      node.type === 'condition'
        ? {
            predicate: await this.segments.predicate(campaign.projectId, node.criteria, now),
            behavioral: hasBehaviorClause(node.criteria),
            settings: (await this.projects.get(campaign.projectId)).settings.tracking,
          }
        : undefined;
    await this.db.transaction().execute(async (trx) => {
      const held = await heldContacts(trx, campaign, node.id, ids, lease);
      if (held.length === 0) return;
      await addReached(trx, campaign, node.id, held.length);
      const move = (from: number[], change: Parameters<typeof moveContacts>[5]) => moveContacts(trx, campaign, node.id, from, lease, change, now);
      switch (node.type) {
        case 'send': {
          // The batch is recorded with the move, so the sending is created once (see createSendings).
          await insertCampaignSend(trx, campaign, node.id, Number(node.messageId), held, now);
          await move(held, { node_id: node.next, next_run_at: now });
          out.set(node.next, held);
          return;
        }
        case 'wait': {
          const ms = parseDuration(node.duration) ?? 0;
          await move(held, { node_id: node.next, next_run_at: now + ms, lease_until: 0 });
          return;
        }
        case 'end':
          await move(held, { state: 'completed', lease_until: 0 });
          return;
        case 'condition': {
          if (!condition) return;
          const existing = await contactIdsAmong(trx, campaign.projectId, held);
          // Rule 9: at a condition on behaviour, contacts untracked at this moment leave (neither branch).
          // The contacts not in the tracked set are the untracked ones (a NULL consent is never "NOT tracked" in SQL).
          const tracked = condition.behavioral ? await contactIdsAmong(trx, campaign.projectId, held, trackedSql(condition.settings, 'c.has_tracking_consent')) : existing;
          const untracked = new Set([...existing].filter((id) => !tracked.has(id)));
          const yes = await contactIdsAmong(trx, campaign.projectId, held, condition.predicate);
          const gone = held.filter((id) => !existing.has(id));
          const left = held.filter((id) => existing.has(id) && untracked.has(id));
          const yesIds = held.filter((id) => existing.has(id) && !untracked.has(id) && yes.has(id));
          const noIds = held.filter((id) => existing.has(id) && !untracked.has(id) && !yes.has(id));
          await move(gone, { state: 'left', lease_until: 0 });
          await move(left, { state: 'left_untracked', lease_until: 0 });
          await move(yesIds, { node_id: node.yes, next_run_at: now });
          await move(noIds, { node_id: node.no, next_run_at: now });
          if (yesIds.length > 0) out.set(node.yes, yesIds);
          if (noIds.length > 0) out.set(node.no, [...(out.get(node.no) ?? []), ...noIds]);
          return;
        }
      }
    });
    return out;
  }

  /**
   * Creates the sendings of recorded send batches. A batch whose sending was
   * created just before a crash is found by its exact target and linked,
   * instead of being sent a second time.
   */
  private async createSendings(campaign: Campaign): Promise<void> {
    for (const batch of await pendingCampaignSends(this.db, campaign)) {
      const target = { contactIds: batch.contactIds };
      const existing = await unlinkedSendingOf(this.db, campaign, batch, JSON.stringify(target));
      const sendingId = existing ?? (await this.sendings.create(campaign.projectId, { messageId: batch.messageId, target })).id;
      await linkCampaignSend(this.db, campaign.projectId, batch.id, sendingId);
    }
  }
}
