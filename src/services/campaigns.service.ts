import { type Expression, type Selectable, type SqlBool, sql } from 'kysely';
import { type CampaignNode, type CampaignSpec, containsBehaviour, parseCampaignSpec, parseDuration } from '../domain/campaign.js';
import { trackedSql } from '../domain/consent.js';
import { AppError, notFound } from '../domain/errors.js';
import type { Db } from '../store/database.js';
import type { CampaignTable } from '../store/schema.js';
import type { Job, JobRunner, StepResult } from './jobs.js';
import type { MessageService } from './messages.service.js';
import type { ProjectService } from './projects.service.js';
import type { SegmentService } from './segments.service.js';
import type { SendingService } from './sendings.service.js';

export type CampaignStatus = 'draft' | 'running' | 'paused' | 'finished';
export type CampaignContactState = 'active' | 'completed' | 'left_untracked' | 'left';

export interface Campaign extends CampaignSpec {
  id: number;
  projectId: number;
  name: string;
  status: CampaignStatus;
  createdAt: number;
  updatedAt: number;
  startedAt: number | null;
}

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
  nodes: Record<string, { reached: number }>;
}

const BATCH = 500;
const LEASE_MS = 5 * 60_000;
/** How often a running API-entry campaign with nobody due looks again (adding contacts wakes it at once). */
const IDLE_MS = 60_000;

function toCampaign(row: Selectable<CampaignTable>): Campaign {
  const spec = JSON.parse(row.spec) as CampaignSpec;
  return {
    id: row.id,
    projectId: row.project_id,
    name: row.name,
    status: row.status as CampaignStatus,
    entry: spec.entry,
    start: spec.start,
    nodes: spec.nodes,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    startedAt: row.started_at,
  };
}

const specOf = (c: CampaignSpec): string => JSON.stringify({ entry: c.entry, start: c.start, nodes: c.nodes });

/**
 * Campaigns: a durable scheduler in the database. Each contact's place in a
 * running campaign is a `campaign_contacts` row (node, next due time, lease).
 * One `campaign` job per running campaign claims due rows with a lease and
 * moves them through nodes until a wait; every move is a transaction guarded
 * by the node and the lease, so a restart resumes where the database says and
 * a step never runs twice for a contact. A send records its batch in the
 * transaction that moves the contacts past it; the sending is created from
 * that record, and a retry finds the sending instead of creating a second one.
 */
export class CampaignService {
  constructor(
    private readonly db: Db,
    private readonly clock: () => number,
    private readonly projects: ProjectService,
    private readonly segments: SegmentService,
    private readonly sendings: SendingService,
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
    const row = await this.db.transaction().execute(async (trx) => {
      const created = await trx
        .insertInto('campaigns')
        .values({ project_id: projectId, name: input.name, spec: specOf(spec), status: 'draft', created_at: now, updated_at: now, started_at: null })
        .returning('id')
        .executeTakeFirstOrThrow();
      await this.resetNodes(trx, projectId, created.id, spec);
      return created;
    });
    return this.get(projectId, row.id);
  }

  private async resetNodes(trx: Db, projectId: number, campaignId: number, spec: CampaignSpec): Promise<void> {
    await trx.deleteFrom('campaign_nodes').where('project_id', '=', projectId).where('campaign_id', '=', campaignId).execute();
    await trx
      .insertInto('campaign_nodes')
      .values(spec.nodes.map((n) => ({ project_id: projectId, campaign_id: campaignId, node_id: n.id, reached: 0 })))
      .execute();
  }

  async list(projectId: number): Promise<Campaign[]> {
    const rows = await this.db.selectFrom('campaigns').selectAll().where('project_id', '=', projectId).orderBy('id').execute();
    return rows.map(toCampaign);
  }

  async get(projectId: number, campaignId: number): Promise<Campaign> {
    const row = await this.db.selectFrom('campaigns').selectAll().where('project_id', '=', projectId).where('id', '=', campaignId).executeTakeFirst();
    if (!row) throw notFound('Campaign', campaignId);
    return toCampaign(row);
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
      await trx
        .updateTable('campaigns')
        .set({ updated_at: now, ...(patch.name !== undefined ? { name: patch.name } : {}), ...(spec ? { spec: specOf(spec) } : {}) })
        .where('project_id', '=', projectId)
        .where('id', '=', campaignId)
        .execute();
      if (spec) await this.resetNodes(trx, projectId, campaignId, spec);
    });
    return this.get(projectId, campaignId);
  }

  async delete(projectId: number, campaignId: number): Promise<void> {
    const campaign = await this.get(projectId, campaignId);
    if (campaign.status === 'running') throw new AppError('CampaignRunning', `campaign ${campaignId} is running: pause it first`);
    await this.db.transaction().execute(async (trx) => {
      for (const table of ['campaign_contacts', 'campaign_nodes', 'campaign_sends'] as const) {
        await trx.deleteFrom(table).where('project_id', '=', projectId).where('campaign_id', '=', campaignId).execute();
      }
      await trx.deleteFrom('campaigns').where('project_id', '=', projectId).where('id', '=', campaignId).execute();
    });
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
      const updated = await trx
        .updateTable('campaigns')
        .set({ status: 'running', updated_at: now, started_at: campaign.startedAt ?? now })
        .where('project_id', '=', projectId)
        .where('id', '=', campaignId)
        .where('status', '=', campaign.status)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) !== 1) throw new AppError('CampaignNotStartable', `campaign ${campaignId} changed meanwhile`);
      if (membership) await this.enter(trx, campaign, membership, now);
      await this.ensureJob(trx, campaign, now);
    });
    this.jobs.wake();
    return this.get(projectId, campaignId);
  }

  async pause(projectId: number, campaignId: number): Promise<Campaign> {
    const campaign = await this.get(projectId, campaignId);
    if (campaign.status !== 'running') throw new AppError('CampaignNotRunning', `campaign ${campaignId} is ${campaign.status}`);
    await this.db
      .updateTable('campaigns')
      .set({ status: 'paused', updated_at: this.clock() })
      .where('project_id', '=', projectId)
      .where('id', '=', campaignId)
      .where('status', '=', 'running')
      .execute();
    return this.get(projectId, campaignId);
  }

  /** Puts the project's contacts matching `filter` at the start node (a contact enters a campaign once). */
  private async enter(trx: Db, campaign: Campaign, filter: Expression<SqlBool>, now: number): Promise<number> {
    const result = await trx
      .insertInto('campaign_contacts')
      .columns(['project_id', 'campaign_id', 'contact_id', 'node_id', 'state', 'next_run_at', 'lease_until', 'entered_at', 'updated_at'])
      .expression(
        trx
          .selectFrom('contacts as c')
          .select([
            sql.lit(campaign.projectId).as('project_id'),
            sql.lit(campaign.id).as('campaign_id'),
            'c.id',
            // Node ids are validated ([A-Za-z0-9_-]), so a literal is safe.
            sql.lit(campaign.start).as('node_id'),
            sql.lit('active').as('state'),
            sql.lit(now).as('next_run_at'),
            sql.lit(0).as('lease_until'),
            sql.lit(now).as('entered_at'),
            sql.lit(now).as('updated_at'),
          ])
          .where('c.project_id', '=', campaign.projectId)
          .where(filter),
      )
      .onConflict((oc) => oc.columns(['project_id', 'campaign_id', 'contact_id']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0);
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
      entered += await this.db.transaction().execute((trx) => this.enter(trx, campaign, sql<SqlBool>`c.id IN (${sql.join(chunk)})`, now));
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
   * is enqueued and the older one stands down at its next step (see `step`).
   */
  private async ensureJob(trx: Db, campaign: Campaign, now: number): Promise<void> {
    const pending = await trx
      .selectFrom('jobs')
      .select(['id', 'run_at'])
      .where('project_id', '=', campaign.projectId)
      .where('kind', '=', 'campaign')
      .where('ref_id', '=', campaign.id)
      .where('state', '=', 'pending')
      .where('lease_until', '<', now)
      .executeTakeFirst();
    if (!pending) await this.jobs.enqueue(trx, campaign.projectId, 'campaign', campaign.id, now);
    else if (pending.run_at > now) await trx.updateTable('jobs').set({ run_at: now }).where('project_id', '=', campaign.projectId).where('id', '=', pending.id).execute();
  }

  async stats(projectId: number, campaignId: number): Promise<CampaignStats> {
    await this.get(projectId, campaignId);
    const states = await this.db
      .selectFrom('campaign_contacts')
      .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
      .where('project_id', '=', projectId)
      .where('campaign_id', '=', campaignId)
      .groupBy('state')
      .execute();
    const count = (state: CampaignContactState) => Number(states.find((s) => s.state === state)?.n ?? 0);
    const nodes = await this.db
      .selectFrom('campaign_nodes')
      .select(['node_id', 'reached'])
      .where('project_id', '=', projectId)
      .where('campaign_id', '=', campaignId)
      .execute();
    return {
      entered: states.reduce((sum, s) => sum + Number(s.n), 0),
      completed: count('completed'),
      leftUntracked: count('left_untracked'),
      left: count('left'),
      active: count('active'),
      nodes: Object.fromEntries(nodes.map((n) => [n.node_id, { reached: Number(n.reached) }])),
    };
  }

  // -------------------------------------------------------------------------
  // The scheduler

  /** One step of a campaign's job: a batch of due contacts, then the job sleeps until the next one is due. */
  async step(job: Job): Promise<StepResult> {
    const projectId = job.project_id;
    const row = await this.db.selectFrom('campaigns').selectAll().where('project_id', '=', projectId).where('id', '=', job.ref_id).executeTakeFirst();
    if (row?.status !== 'running') return 'done';
    const newer = await this.db
      .selectFrom('jobs')
      .select('id')
      .where('project_id', '=', projectId)
      .where('kind', '=', 'campaign')
      .where('ref_id', '=', job.ref_id)
      .where('state', '=', 'pending')
      .where('id', '>', job.id)
      .executeTakeFirst();
    // One job per campaign: a newer one (see ensureJob) takes over.
    if (newer) return 'done';
    const campaign = toCampaign(row);
    await this.createSendings(campaign);
    const now = this.clock();
    const lease = now + LEASE_MS;
    const claimed = await this.db
      .updateTable('campaign_contacts')
      .set({ lease_until: lease })
      .where('project_id', '=', projectId)
      .where('campaign_id', '=', campaign.id)
      .where('state', '=', 'active')
      .where('next_run_at', '<=', now)
      .where('lease_until', '<', now)
      .where('contact_id', 'in', (eb) =>
        eb
          .selectFrom('campaign_contacts')
          .select('contact_id')
          .where('project_id', '=', projectId)
          .where('campaign_id', '=', campaign.id)
          .where('state', '=', 'active')
          .where('next_run_at', '<=', now)
          .where('lease_until', '<', now)
          .orderBy('next_run_at')
          .orderBy('contact_id')
          .limit(BATCH),
      )
      .returning(['contact_id', 'node_id'])
      .execute();
    if (claimed.length > 0) {
      await this.advance(campaign, claimed, lease, now);
      await this.createSendings(campaign);
    }
    const next = await this.nextDue(campaign, now);
    if (next === undefined) {
      if ('groupId' in campaign.entry) {
        await this.db
          .updateTable('campaigns')
          .set({ status: 'finished', updated_at: now })
          .where('project_id', '=', projectId)
          .where('id', '=', campaign.id)
          .where('status', '=', 'running')
          .execute();
        return 'done';
      }
    }
    const runAt = claimed.length === BATCH ? now : (next ?? now + IDLE_MS);
    await this.db.updateTable('jobs').set({ run_at: runAt }).where('project_id', '=', projectId).where('id', '=', job.id).execute();
    return 'continue';
  }

  /** When the next active contact is due (a leased one once its lease lapses), or undefined when nobody is active. */
  private async nextDue(campaign: Campaign, now: number): Promise<number | undefined> {
    const row = await this.db
      .selectFrom('campaign_contacts')
      .select([
        (eb) => eb.fn.min('next_run_at').filterWhere('lease_until', '<', now).as('free'),
        (eb) => eb.fn.min('lease_until').filterWhere('lease_until', '>=', now).as('leased'),
        (eb) => eb.fn.countAll<number>().as('n'),
      ])
      .where('project_id', '=', campaign.projectId)
      .where('campaign_id', '=', campaign.id)
      .where('state', '=', 'active')
      .executeTakeFirstOrThrow();
    if (Number(row.n) === 0) return undefined;
    const candidates = [row.free, row.leased === null ? null : Number(row.leased) + 1].filter((v): v is number => v !== null).map(Number);
    return Math.min(...candidates);
  }

  /** Moves claimed contacts through nodes until each waits, ends or leaves. */
  private async advance(campaign: Campaign, claimed: { contact_id: number; node_id: string }[], lease: number, now: number): Promise<void> {
    const byId = new Map(campaign.nodes.map((n) => [n.id, n]));
    let at = new Map<string, number[]>();
    for (const { contact_id, node_id } of claimed) at.set(node_id, [...(at.get(node_id) ?? []), Number(contact_id)]);
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

  /** The rows among `ids` still at `nodeId` under this step's lease (a lapsed lease means another runner owns them). */
  private held(trx: Db, campaign: Campaign, nodeId: string, ids: number[], lease: number) {
    return trx
      .selectFrom('campaign_contacts')
      .select('contact_id')
      .where('project_id', '=', campaign.projectId)
      .where('campaign_id', '=', campaign.id)
      .where('node_id', '=', nodeId)
      .where('state', '=', 'active')
      .where('lease_until', '=', lease)
      .where('contact_id', 'in', ids)
      .execute()
      .then((rows) => rows.map((r) => Number(r.contact_id)));
  }

  private async move(
    trx: Db,
    campaign: Campaign,
    from: string,
    ids: number[],
    lease: number,
    change: { node_id?: string; state?: CampaignContactState; next_run_at?: number; lease_until?: number },
    now: number,
  ): Promise<void> {
    if (ids.length === 0) return;
    await trx
      .updateTable('campaign_contacts')
      .set({ ...change, updated_at: now })
      .where('project_id', '=', campaign.projectId)
      .where('campaign_id', '=', campaign.id)
      .where('node_id', '=', from)
      .where('lease_until', '=', lease)
      .where('contact_id', 'in', ids)
      .execute();
  }

  private async reached(trx: Db, campaign: Campaign, nodeId: string, n: number): Promise<void> {
    if (n === 0) return;
    await trx
      .updateTable('campaign_nodes')
      .set((eb) => ({ reached: eb('reached', '+', n) }))
      .where('project_id', '=', campaign.projectId)
      .where('campaign_id', '=', campaign.id)
      .where('node_id', '=', nodeId)
      .execute();
  }

  private async leave(campaign: Campaign, nodeId: string, ids: number[], lease: number, state: CampaignContactState): Promise<Map<string, number[]>> {
    const now = this.clock();
    await this.db.transaction().execute(async (trx) => {
      const held = await this.held(trx, campaign, nodeId, ids, lease);
      await this.move(trx, campaign, nodeId, held, lease, { state, lease_until: 0 }, now);
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
            behavioural: containsBehaviour(node.criteria),
            settings: (await this.projects.get(campaign.projectId)).settings.tracking,
          }
        : undefined;
    await this.db.transaction().execute(async (trx) => {
      const held = await this.held(trx, campaign, node.id, ids, lease);
      if (held.length === 0) return;
      await this.reached(trx, campaign, node.id, held.length);
      switch (node.type) {
        case 'send': {
          // The batch is recorded with the move, so the sending is created once (see createSendings).
          await trx
            .insertInto('campaign_sends')
            .values({
              project_id: campaign.projectId,
              campaign_id: campaign.id,
              node_id: node.id,
              message_id: Number(node.messageId),
              contact_ids: JSON.stringify(held),
              sending_id: null,
              created_at: now,
            })
            .execute();
          await this.move(trx, campaign, node.id, held, lease, { node_id: node.next, next_run_at: now }, now);
          out.set(node.next, held);
          return;
        }
        case 'wait': {
          const ms = parseDuration(node.duration) ?? 0;
          await this.move(trx, campaign, node.id, held, lease, { node_id: node.next, next_run_at: now + ms, lease_until: 0 }, now);
          return;
        }
        case 'end':
          await this.move(trx, campaign, node.id, held, lease, { state: 'completed', lease_until: 0 }, now);
          return;
        case 'condition': {
          if (!condition) return;
          const contactsOf = () => trx.selectFrom('contacts as c').select('c.id').where('c.project_id', '=', campaign.projectId);
          const inBatch = (q: ReturnType<typeof contactsOf>) => q.where('c.id', 'in', held);
          const existing = new Set((await inBatch(contactsOf()).execute()).map((r) => Number(r.id)));
          // Rule 9: at a condition on behaviour, contacts untracked at this moment leave (neither branch).
          // The contacts not in the tracked set are the untracked ones (a NULL consent is never "NOT tracked" in SQL).
          const tracked = condition.behavioural
            ? new Set((await inBatch(contactsOf()).where(trackedSql(condition.settings, 'c.has_tracking_consent')).execute()).map((r) => Number(r.id)))
            : existing;
          const untracked = new Set([...existing].filter((id) => !tracked.has(id)));
          const yes = new Set((await inBatch(contactsOf()).where(condition.predicate).execute()).map((r) => Number(r.id)));
          const gone = held.filter((id) => !existing.has(id));
          const left = held.filter((id) => existing.has(id) && untracked.has(id));
          const yesIds = held.filter((id) => existing.has(id) && !untracked.has(id) && yes.has(id));
          const noIds = held.filter((id) => existing.has(id) && !untracked.has(id) && !yes.has(id));
          await this.move(trx, campaign, node.id, gone, lease, { state: 'left', lease_until: 0 }, now);
          await this.move(trx, campaign, node.id, left, lease, { state: 'left_untracked', lease_until: 0 }, now);
          await this.move(trx, campaign, node.id, yesIds, lease, { node_id: node.yes, next_run_at: now }, now);
          await this.move(trx, campaign, node.id, noIds, lease, { node_id: node.no, next_run_at: now }, now);
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
    const pending = await this.db
      .selectFrom('campaign_sends')
      .selectAll()
      .where('project_id', '=', campaign.projectId)
      .where('campaign_id', '=', campaign.id)
      .where('sending_id', 'is', null)
      .orderBy('id')
      .execute();
    for (const batch of pending) {
      const target = { contactIds: JSON.parse(batch.contact_ids) as number[] };
      const existing = await this.db
        .selectFrom('sendings')
        .select('id')
        .where('project_id', '=', campaign.projectId)
        .where('message_id', '=', batch.message_id)
        .where('target', '=', JSON.stringify(target))
        .where('created_at', '>=', batch.created_at)
        .where('id', 'not in', (eb) =>
          eb
            .selectFrom('campaign_sends')
            .select('sending_id')
            .where('project_id', '=', campaign.projectId)
            .where('campaign_id', '=', campaign.id)
            .where('sending_id', 'is not', null),
        )
        .orderBy('id')
        .executeTakeFirst();
      const sendingId = existing?.id ?? (await this.sendings.create(campaign.projectId, { messageId: batch.message_id, target })).id;
      // Once linked, the batch's list of contacts is not needed: it is not kept (rule 3 keeps no per-recipient trace).
      await this.db
        .updateTable('campaign_sends')
        .set({ sending_id: sendingId, contact_ids: '[]' })
        .where('project_id', '=', campaign.projectId)
        .where('id', '=', batch.id)
        .where('sending_id', 'is', null)
        .execute();
    }
  }
}
