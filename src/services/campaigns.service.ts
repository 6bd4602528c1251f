import { type Campaign, type CampaignSpec, parseCampaignSpec } from '../domain/campaign.js';
import { AppError, notFound } from '../domain/errors.js';
import {
  campaignCounts,
  changeCampaignStatus,
  deleteCampaign,
  enterCampaign,
  enterCampaignContacts,
  getCampaign,
  insertCampaign,
  listCampaigns,
  resetCampaignNodes,
  updateCampaign,
} from '../store/campaigns.js';
import type { Db } from '../store/database.js';
import { idlePendingJob, setJobRunAt } from '../store/jobs.js';
import type { JobRunner } from './jobs.js';
import type { MessageService } from './messages.service.js';
import type { SegmentService } from './segments.service.js';

export interface CampaignInput {
  name: string;
  entry: unknown;
  start: unknown;
  nodes: unknown;
}

export interface CampaignStats {
  entered: number;
  completed: number;
  leftUntracked: number;
  /** Contacts who left for another reason (their contact was erased). */
  left: number;
  active: number;
  nodes: Record<string, { reached: number; leftUntracked: number }>;
}

const BATCH = 500;

/**
 * Campaigns: their definition and lifecycle (draft → running ⇄ paused →
 * finished) and how contacts enter them. Each contact's place in a running
 * campaign is a `campaign_contacts` row; one `campaign` job per running
 * campaign moves them through the nodes (see `CampaignRunner`).
 */
export class CampaignService {
  constructor(
    private readonly db: Db,
    private readonly clock: () => number,
    private readonly segments: SegmentService,
    private readonly messages: MessageService,
    private readonly jobs: JobRunner,
  ) {}

  /** Validates the spec, then that its group and messages exist in the project. */
  private async checkSpec(projectId: number, input: { entry: unknown; start: unknown; nodes: unknown }): Promise<CampaignSpec> {
    const spec = parseCampaignSpec(input);
    if ('groupId' in spec.entry) await this.segments.get(projectId, Number(spec.entry.groupId));
    for (const [i, node] of spec.nodes.entries()) {
      if (node.type === 'send') {
        await this.messages.get(projectId, Number(node.messageId)).catch(() => {
          throw new AppError('InvalidCampaign', `nodes[${i}].messageId: no message ${node.messageId}`, [
            { field: `nodes[${i}].messageId`, reason: `no message ${node.messageId} in this project` },
          ]);
        });
      }
      // Compiling checks the score models a condition refers to.
      if (node.type === 'condition') await this.segments.predicate(projectId, node.criteria);
    }
    return spec;
  }

  async create(projectId: number, input: CampaignInput): Promise<Campaign> {
    const spec = await this.checkSpec(projectId, input);
    const now = this.clock();
    const id = await this.db.transaction().execute(async (trx) => {
      const created = await insertCampaign(trx, projectId, input.name, spec, now);
      await resetCampaignNodes(trx, projectId, created, spec);
      return created;
    });
    return this.get(projectId, id);
  }

  list(projectId: number): Promise<Campaign[]> {
    return listCampaigns(this.db, projectId);
  }

  async get(projectId: number, campaignId: number): Promise<Campaign> {
    const campaign = await getCampaign(this.db, projectId, campaignId);
    if (!campaign) throw notFound('Campaign', campaignId);
    return campaign;
  }

  /** The name can change at any time; the definition only while the campaign is a draft. */
  async update(projectId: number, campaignId: number, patch: Partial<CampaignInput>): Promise<Campaign> {
    const campaign = await this.get(projectId, campaignId);
    const changesSpec = patch.entry !== undefined || patch.start !== undefined || patch.nodes !== undefined;
    if (changesSpec && campaign.status !== 'draft') {
      throw new AppError('CampaignNotDraft', `campaign ${campaignId} is ${campaign.status}: only a draft's entry and nodes can change`);
    }
    const now = this.clock();
    const spec = changesSpec
      ? await this.checkSpec(projectId, { entry: patch.entry ?? campaign.entry, start: patch.start ?? campaign.start, nodes: patch.nodes ?? campaign.nodes })
      : undefined;
    await this.db.transaction().execute(async (trx) => {
      await updateCampaign(trx, projectId, campaignId, { ...(patch.name !== undefined ? { name: patch.name } : {}), ...(spec ? { spec } : {}) }, now);
      if (spec) await resetCampaignNodes(trx, projectId, campaignId, spec);
    });
    return this.get(projectId, campaignId);
  }

  async delete(projectId: number, campaignId: number): Promise<void> {
    const campaign = await this.get(projectId, campaignId);
    if (campaign.status === 'running') throw new AppError('CampaignRunning', `campaign ${campaignId} is running: pause it first`);
    await this.db.transaction().execute((trx) => deleteCampaign(trx, projectId, campaignId));
  }

  /**
   * Starts a draft (a group entry takes the group's members now; a dynamic
   * group is evaluated at this moment) or resumes a paused campaign.
   */
  async start(projectId: number, campaignId: number): Promise<Campaign> {
    const campaign = await this.get(projectId, campaignId);
    if (campaign.status === 'running' || campaign.status === 'finished') {
      throw new AppError('CampaignNotStartable', `campaign ${campaignId} is ${campaign.status}`);
    }
    const now = this.clock();
    // Read before the transaction: SQLite has one connection, held by the transaction.
    const membership = campaign.status === 'draft' && 'groupId' in campaign.entry ? await this.segments.membership(projectId, Number(campaign.entry.groupId), now) : undefined;
    await this.db.transaction().execute(async (trx) => {
      const started = await changeCampaignStatus(trx, projectId, campaignId, campaign.status, { status: 'running', updatedAt: now, startedAt: campaign.startedAt ?? now });
      if (!started) throw new AppError('CampaignNotStartable', `campaign ${campaignId} changed meanwhile`);
      if (membership) await enterCampaign(trx, campaign, membership, now);
      await this.ensureJob(trx, campaign, now);
    });
    this.jobs.wake();
    return this.get(projectId, campaignId);
  }

  async pause(projectId: number, campaignId: number): Promise<Campaign> {
    const campaign = await this.get(projectId, campaignId);
    if (campaign.status !== 'running') throw new AppError('CampaignNotRunning', `campaign ${campaignId} is ${campaign.status}`);
    await changeCampaignStatus(this.db, projectId, campaignId, 'running', { status: 'paused', updatedAt: this.clock() });
    return this.get(projectId, campaignId);
  }

  /** API entry: contacts of the project enter a running or paused campaign. */
  async addContacts(projectId: number, campaignId: number, contactIds: number[]): Promise<{ entered: number; ignored: number }> {
    const campaign = await this.get(projectId, campaignId);
    if (!('api' in campaign.entry)) throw new AppError('CampaignEntryNotApi', `campaign ${campaignId} takes its contacts from a group`);
    if (campaign.status !== 'running' && campaign.status !== 'paused') {
      throw new AppError('CampaignNotRunning', `campaign ${campaignId} is ${campaign.status}: start it before adding contacts`);
    }
    const ids = [...new Set(contactIds)];
    const now = this.clock();
    let entered = 0;
    for (let i = 0; i < ids.length; i += BATCH) {
      const chunk = ids.slice(i, i + BATCH);
      entered += await this.db.transaction().execute((trx) => enterCampaignContacts(trx, campaign, chunk, now));
    }
    if (entered > 0 && campaign.status === 'running') {
      await this.db.transaction().execute((trx) => this.ensureJob(trx, campaign, now));
      this.jobs.wake();
    }
    return { entered, ignored: ids.length - entered };
  }

  /**
   * Brings the campaign's pending job forward to now, or enqueues one: a campaign
   * keeps one job however often it is paused, resumed or fed contacts. A job in
   * the middle of a step may be about to end, so it does not count: a second job
   * is enqueued and the older one stands down at its next step (see `CampaignRunner.step`).
   */
  private async ensureJob(trx: Db, campaign: Campaign, now: number): Promise<void> {
    const pending = await idlePendingJob(trx, campaign.projectId, 'campaign', campaign.id, now);
    if (!pending) await this.jobs.enqueue(trx, campaign.projectId, 'campaign', campaign.id, now);
    else if (pending.runAt > now) await setJobRunAt(trx, campaign.projectId, pending.id, now);
  }

  async stats(projectId: number, campaignId: number): Promise<CampaignStats> {
    await this.get(projectId, campaignId);
    const { states, nodes, leftUntrackedAt } = await campaignCounts(this.db, projectId, campaignId);
    return {
      entered: [...states.values()].reduce((sum, n) => sum + n, 0),
      completed: states.get('completed') ?? 0,
      leftUntracked: states.get('left_untracked') ?? 0,
      left: states.get('left') ?? 0,
      active: states.get('active') ?? 0,
      nodes: Object.fromEntries(nodes.map((n) => [n.nodeId, { reached: n.reached, leftUntracked: leftUntrackedAt.get(n.nodeId) ?? 0 }])),
    };
  }
}
