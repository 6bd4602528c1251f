import { type Expression, type Selectable, type SqlBool, sql } from 'kysely';
import type { Campaign, CampaignContactState, CampaignSpec, CampaignStatus } from '../domain/campaign.js';
import { idList } from './id-list.js';
import type { Db } from './database.js';
import type { CampaignTable } from './schema.js';

/*
 * The campaigns repository: definitions (`campaigns`, `campaign_nodes`), each
 * contact's place in a running campaign (`campaign_contacts`) and the send
 * batches recorded by the step runner (`campaign_sends`).
 */

export function toCampaign(row: Selectable<CampaignTable>): Campaign {
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

const specColumn = (c: CampaignSpec): string => JSON.stringify({ entry: c.entry, start: c.start, nodes: c.nodes });

export async function insertCampaign(db: Db, projectId: number, name: string, spec: CampaignSpec, now: number): Promise<number> {
  const row = await db
    .insertInto('campaigns')
    .values({ project_id: projectId, name, spec: specColumn(spec), status: 'draft', created_at: now, updated_at: now, started_at: null })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** Gives every node of the spec a fresh `reached` counter. */
export async function resetCampaignNodes(db: Db, projectId: number, campaignId: number, spec: CampaignSpec): Promise<void> {
  await db.deleteFrom('campaign_nodes').where('project_id', '=', projectId).where('campaign_id', '=', campaignId).execute();
  await db
    .insertInto('campaign_nodes')
    .values(spec.nodes.map((n) => ({ project_id: projectId, campaign_id: campaignId, node_id: n.id, reached: 0 })))
    .execute();
}

export async function listCampaigns(db: Db, projectId: number): Promise<Campaign[]> {
  const rows = await db.selectFrom('campaigns').selectAll().where('project_id', '=', projectId).orderBy('id').execute();
  return rows.map(toCampaign);
}

export async function getCampaign(db: Db, projectId: number, campaignId: number): Promise<Campaign | undefined> {
  const row = await db.selectFrom('campaigns').selectAll().where('project_id', '=', projectId).where('id', '=', campaignId).executeTakeFirst();
  return row ? toCampaign(row) : undefined;
}

export async function updateCampaign(db: Db, projectId: number, campaignId: number, change: { name?: string; spec?: CampaignSpec }, now: number): Promise<void> {
  await db
    .updateTable('campaigns')
    .set({ updated_at: now, ...(change.name !== undefined ? { name: change.name } : {}), ...(change.spec ? { spec: specColumn(change.spec) } : {}) })
    .where('project_id', '=', projectId)
    .where('id', '=', campaignId)
    .execute();
}

/** Deletes a campaign with its contacts, nodes and send batches. */
export async function deleteCampaign(db: Db, projectId: number, campaignId: number): Promise<void> {
  for (const table of ['campaign_contacts', 'campaign_nodes', 'campaign_sends'] as const) {
    await db.deleteFrom(table).where('project_id', '=', projectId).where('campaign_id', '=', campaignId).execute();
  }
  await db.deleteFrom('campaigns').where('project_id', '=', projectId).where('id', '=', campaignId).execute();
}

/** Moves a campaign from status `from` to `change.status`; false when it was not in `from` any more. */
export async function changeCampaignStatus(
  db: Db,
  projectId: number,
  campaignId: number,
  from: CampaignStatus,
  change: { status: CampaignStatus; updatedAt: number; startedAt?: number },
): Promise<boolean> {
  const updated = await db
    .updateTable('campaigns')
    .set({ status: change.status, updated_at: change.updatedAt, ...(change.startedAt !== undefined ? { started_at: change.startedAt } : {}) })
    .where('project_id', '=', projectId)
    .where('id', '=', campaignId)
    .where('status', '=', from)
    .executeTakeFirst();
  return Number(updated.numUpdatedRows) === 1;
}

/** Puts the project's contacts matching `filter` at the start node (a contact enters a campaign once); returns how many entered. */
export async function enterCampaign(db: Db, campaign: Campaign, filter: Expression<SqlBool>, now: number): Promise<number> {
  const result = await db
    .insertInto('campaign_contacts')
    .columns(['project_id', 'campaign_id', 'contact_id', 'node_id', 'state', 'next_run_at', 'lease_until', 'entered_at', 'updated_at'])
    .expression(
      db
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

/** Puts the given contacts of the project at the start node (see {@link enterCampaign}). */
export function enterCampaignContacts(db: Db, campaign: Campaign, contactIds: readonly number[], now: number): Promise<number> {
  return enterCampaign(db, campaign, sql<SqlBool>`c.id IN ${idList(db, contactIds)}`, now);
}

/** How many contacts are in each state, and how many reached each node. */
export async function campaignCounts(
  db: Db,
  projectId: number,
  campaignId: number,
): Promise<{ states: Map<CampaignContactState, number>; nodes: { nodeId: string; reached: number }[]; leftUntrackedAt: Map<string, number> }> {
  const states = await db
    .selectFrom('campaign_contacts')
    .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
    .where('project_id', '=', projectId)
    .where('campaign_id', '=', campaignId)
    .groupBy('state')
    .execute();
  const nodes = await db.selectFrom('campaign_nodes').select(['node_id', 'reached']).where('project_id', '=', projectId).where('campaign_id', '=', campaignId).execute();
  // A contact who leaves untracked stays on the condition node that let them go.
  const left = await db
    .selectFrom('campaign_contacts')
    .select(['node_id', (eb) => eb.fn.countAll<number>().as('n')])
    .where('project_id', '=', projectId)
    .where('campaign_id', '=', campaignId)
    .where('state', '=', 'left_untracked')
    .groupBy('node_id')
    .execute();
  return {
    states: new Map(states.map((s) => [s.state as CampaignContactState, Number(s.n)])),
    nodes: nodes.map((n) => ({ nodeId: n.node_id, reached: Number(n.reached) })),
    leftUntrackedAt: new Map(left.map((l) => [l.node_id, Number(l.n)])),
  };
}

/** Leases up to `limit` due active contacts (oldest due first) until `lease`; returns them with their node. */
export async function claimDueContacts(db: Db, campaign: Campaign, now: number, lease: number, limit: number): Promise<{ contactId: number; nodeId: string }[]> {
  const rows = await db
    .updateTable('campaign_contacts')
    .set({ lease_until: lease })
    .where('project_id', '=', campaign.projectId)
    .where('campaign_id', '=', campaign.id)
    .where('state', '=', 'active')
    .where('next_run_at', '<=', now)
    .where('lease_until', '<', now)
    .where('contact_id', 'in', (eb) =>
      eb
        .selectFrom('campaign_contacts')
        .select('contact_id')
        .where('project_id', '=', campaign.projectId)
        .where('campaign_id', '=', campaign.id)
        .where('state', '=', 'active')
        .where('next_run_at', '<=', now)
        .where('lease_until', '<', now)
        .orderBy('next_run_at')
        .orderBy('contact_id')
        .limit(limit),
    )
    .returning(['contact_id', 'node_id'])
    .execute();
  return rows.map((r) => ({ contactId: Number(r.contact_id), nodeId: r.node_id }));
}

/** When the next active contact is due (a leased one once its lease lapses), or undefined when nobody is active. */
export async function nextDueAt(db: Db, campaign: Campaign, now: number): Promise<number | undefined> {
  const row = await db
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

/** The contacts among `ids` still at `nodeId` under this lease (a lapsed lease means another runner owns them). */
export async function heldContacts(db: Db, campaign: Campaign, nodeId: string, ids: number[], lease: number): Promise<number[]> {
  const rows = await db
    .selectFrom('campaign_contacts')
    .select('contact_id')
    .where('project_id', '=', campaign.projectId)
    .where('campaign_id', '=', campaign.id)
    .where('node_id', '=', nodeId)
    .where('state', '=', 'active')
    .where('lease_until', '=', lease)
    .where('contact_id', 'in', ids)
    .execute();
  return rows.map((r) => Number(r.contact_id));
}

export interface ContactMove {
  node_id?: string;
  state?: CampaignContactState;
  next_run_at?: number;
  lease_until?: number;
}

/** Moves the contacts among `ids` at node `from` under this lease. */
export async function moveContacts(db: Db, campaign: Campaign, from: string, ids: number[], lease: number, change: ContactMove, now: number): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable('campaign_contacts')
    .set({ ...change, updated_at: now })
    .where('project_id', '=', campaign.projectId)
    .where('campaign_id', '=', campaign.id)
    .where('node_id', '=', from)
    .where('lease_until', '=', lease)
    .where('contact_id', 'in', ids)
    .execute();
}

export async function addReached(db: Db, campaign: Campaign, nodeId: string, n: number): Promise<void> {
  if (n === 0) return;
  await db
    .updateTable('campaign_nodes')
    .set((eb) => ({ reached: eb('reached', '+', n) }))
    .where('project_id', '=', campaign.projectId)
    .where('campaign_id', '=', campaign.id)
    .where('node_id', '=', nodeId)
    .execute();
}

/** Records a send batch (its sending is created from this record, once). */
export async function insertCampaignSend(db: Db, campaign: Campaign, nodeId: string, messageId: number, contactIds: number[], now: number): Promise<void> {
  await db
    .insertInto('campaign_sends')
    .values({ project_id: campaign.projectId, campaign_id: campaign.id, node_id: nodeId, message_id: messageId, contact_ids: JSON.stringify(contactIds), sending_id: null, created_at: now })
    .execute();
}

export interface PendingCampaignSend {
  id: number;
  messageId: number;
  contactIds: number[];
  createdAt: number;
}

/** The send batches whose sending is not created yet, oldest first. */
export async function pendingCampaignSends(db: Db, campaign: Campaign): Promise<PendingCampaignSend[]> {
  const rows = await db
    .selectFrom('campaign_sends')
    .selectAll()
    .where('project_id', '=', campaign.projectId)
    .where('campaign_id', '=', campaign.id)
    .where('sending_id', 'is', null)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({ id: r.id, messageId: r.message_id, contactIds: JSON.parse(r.contact_ids) as number[], createdAt: r.created_at }));
}

/**
 * A sending created for this batch but not yet linked to it (a crash between
 * the two): same message and exact target, created after the batch, linked to no other batch.
 */
export async function unlinkedSendingOf(db: Db, campaign: Campaign, batch: PendingCampaignSend, target: string): Promise<number | undefined> {
  const row = await db
    .selectFrom('sendings')
    .select('id')
    .where('project_id', '=', campaign.projectId)
    .where('message_id', '=', batch.messageId)
    .where('target', '=', target)
    .where('created_at', '>=', batch.createdAt)
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
  return row?.id;
}

/** Links a batch to its sending; its list of contacts is not kept (rule 3 keeps no per-recipient trace). */
export async function linkCampaignSend(db: Db, projectId: number, batchId: number, sendingId: number): Promise<void> {
  await db
    .updateTable('campaign_sends')
    .set({ sending_id: sendingId, contact_ids: '[]' })
    .where('project_id', '=', projectId)
    .where('id', '=', batchId)
    .where('sending_id', 'is', null)
    .execute();
}

export interface ContactCampaign {
  campaign_id: number;
  campaign_name: string | null;
  node_id: string;
  state: string;
  entered_at: number;
  updated_at: number;
}

/** A contact's place in every campaign it is in, for the contact's data export. */
export function contactCampaigns(db: Db, projectId: number, contactId: number): Promise<ContactCampaign[]> {
  return db
    .selectFrom('campaign_contacts as cc')
    .leftJoin('campaigns as k', (join) => join.onRef('k.project_id', '=', 'cc.project_id').onRef('k.id', '=', 'cc.campaign_id'))
    .select(['cc.campaign_id', 'k.name as campaign_name', 'cc.node_id', 'cc.state', 'cc.entered_at', 'cc.updated_at'])
    .where('cc.project_id', '=', projectId)
    .where('cc.contact_id', '=', contactId)
    .orderBy('cc.campaign_id')
    .execute();
}
