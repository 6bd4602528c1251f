import { sql } from 'kysely';
import { trackedSql } from '../domain/consent.js';
import type { Suppression } from '../domain/small-group.js';
import type { Db } from '../store/database.js';
import { uniqueRecipients } from '../store/dashboard-stats.js';
import { listedRecipientFigures, sendingSuppression } from '../store/small-group.js';
import type { Project, ProjectService } from './projects.service.js';
import type { SendingService } from './sendings.service.js';

const HOUR = 3_600_000;
const REPORT_CONTACTS = 1000;

const hourText = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

export interface SendingReport {
  sendingId: string;
  status: string;
  recipients: { targeted: number; tracked: number; untracked: number; delivered: number; failed: number };
  opens: { total: number; unique: number; machine: number; human: number };
  clicks: { total: number; unique: number; machine: number; human: number };
  links: { url: string; total: number; unique: number; machine: number }[];
  timeline: { at: string; opens: number; clicks: number }[];
  contacts: ReportContact[];
  contactsTruncated: boolean;
  legend: { untrackedContacts: number; text: string };
  /** Events of identified (tracked) recipients vs anonymous ones; they add up to the totals. */
  tracking: { opens: { tracked: number; anonymous: number }; clicks: { tracked: number; anonymous: number } };
  /** Present when small-group protection withholds the anonymous part: every figure then counts the listed contacts only. */
  suppressed?: Suppression;
}

export interface ReportContact {
  contactId: string;
  email: string | null;
  opens: number;
  clicks: number;
}

/**
 * Sending results (SPEC §5, §11). Totals come from the counters kept in the
 * events' own transactions; unique counts and the timeline read this
 * sending's events only (tracked recipients by contact id, untracked by nonce).
 */
export class ReportService {
  constructor(
    private readonly db: Db,
    private readonly projects: ProjectService,
    private readonly sendings: SendingService,
  ) {}

  async sendingReport(projectId: number, sendingId: number): Promise<SendingReport> {
    const project = await this.projects.get(projectId);
    const sending = await this.sendings.get(projectId, sendingId);
    const scope = { project_id: projectId, sending_id: sendingId };
    const stats = await this.db.selectFrom('sending_stats').selectAll().where('project_id', '=', projectId).where('sending_id', '=', sendingId).executeTakeFirst();
    // An identified event has a contact id and no nonce, an anonymous one the reverse: the two distinct counts add up.
    const uniques = await uniqueRecipients(this.db, scope.project_id, [scope.sending_id]);
    const uniqueOf = (type: string) => uniques.find((u) => u.type === type)?.unique ?? 0;
    const splitOf = (type: string) => {
      const u = uniques.find((x) => x.type === type);
      return { tracked: (u?.events ?? 0) - (u?.anonymous ?? 0), anonymous: u?.anonymous ?? 0 };
    };
    const links = await this.db
      .selectFrom('sending_links as l')
      .leftJoin('link_stats as s', (join) => join.onRef('s.project_id', '=', 'l.project_id').onRef('s.sending_id', '=', 'l.sending_id').onRef('s.idx', '=', 'l.idx'))
      .select(['l.idx', 'l.url', 's.clicks', 's.clicks_machine'])
      .where('l.project_id', '=', projectId)
      .where('l.sending_id', '=', sendingId)
      .orderBy('l.idx')
      .execute();
    const linkUniques = await this.db
      .selectFrom('events')
      .select(['link_idx', sql<number>`COUNT(DISTINCT contact_id) + COUNT(DISTINCT nonce)`.as('unique')])
      .where('project_id', '=', projectId)
      .where('sending_id', '=', sendingId)
      .where('type', '=', 'click')
      .groupBy('link_idx')
      .execute();
    const bucket = sql<number>`(at / ${sql.lit(HOUR)})`;
    const timeline = await this.db
      .selectFrom('events')
      .select([
        bucket.as('bucket'),
        sql<number>`SUM(CASE WHEN type = 'open' THEN 1 ELSE 0 END)`.as('opens'),
        sql<number>`SUM(CASE WHEN type = 'click' THEN 1 ELSE 0 END)`.as('clicks'),
      ])
      .where('project_id', '=', projectId)
      .where('sending_id', '=', sendingId)
      .where('type', 'in', ['open', 'click'])
      .groupBy(bucket)
      .orderBy(bucket)
      .execute();
    const contacts = await this.trackedContacts(project, sendingId, { limit: REPORT_CONTACTS });
    const opens = { total: stats?.opens ?? 0, machine: stats?.opens_machine ?? 0 };
    const clicks = { total: stats?.clicks ?? 0, machine: stats?.clicks_machine ?? 0 };
    const report: SendingReport = {
      sendingId: String(sending.id),
      status: sending.status,
      recipients: { targeted: sending.targeted, tracked: sending.tracked, untracked: sending.untracked, delivered: sending.delivered, failed: sending.failed },
      opens: { ...opens, unique: uniqueOf('open'), human: opens.total - opens.machine },
      clicks: { ...clicks, unique: uniqueOf('click'), human: clicks.total - clicks.machine },
      links: links.map((l) => ({
        url: l.url,
        total: Number(l.clicks ?? 0),
        unique: Number(linkUniques.find((u) => u.link_idx === l.idx)?.unique ?? 0),
        machine: Number(l.clicks_machine ?? 0),
      })),
      timeline: timeline.map((t) => ({ at: hourText(Number(t.bucket) * HOUR), opens: Number(t.opens), clicks: Number(t.clicks) })),
      contacts: contacts.items,
      contactsTruncated: contacts.nextCursor !== null,
      tracking: { opens: splitOf('open'), clicks: splitOf('click') },
      legend: { untrackedContacts: sending.untracked, text: `${sending.untracked} untracked contact${sending.untracked === 1 ? '' : 's'}` },
    };
    const suppressed = await this.smallGroup(project, sending);
    return suppressed ? this.withoutAnonymousPart(report, project, sendingId, links, suppressed) : report;
  }

  /** Small-group protection (SPEC §14): whether this sending's anonymous part must be withheld. */
  smallGroup(project: Project, sending: { id: number; tracked: number; untracked: number }): Promise<Suppression | null> {
    return sendingSuppression(this.db, project.id, sending, project.settings.tracking);
  }

  /** The report's figures recounted over the listed contacts' events alone, saying why. */
  private async withoutAnonymousPart(
    report: SendingReport,
    project: Project,
    sendingId: number,
    links: { idx: number; url: string }[],
    suppressed: Suppression,
  ): Promise<SendingReport> {
    const figures = await listedRecipientFigures(this.db, project.id, sendingId, project.settings.tracking);
    const count = (c: { total: number; machine: number; unique: number }) => ({ ...c, human: c.total - c.machine });
    return {
      ...report,
      opens: count(figures.opens),
      clicks: count(figures.clicks),
      links: links.map((l) => ({ url: l.url, total: 0, unique: 0, machine: 0, ...figures.links.get(l.idx) })),
      timeline: figures.timeline.map((t) => ({ at: hourText(t.at), opens: t.opens, clicks: t.clicks })),
      tracking: { opens: { tracked: figures.opens.total, anonymous: 0 }, clicks: { tracked: figures.clicks.total, anonymous: 0 } },
      suppressed,
    };
  }

  /** One page of a sending's tracked contacts with what each did, in id order. */
  async contactsPage(projectId: number, sendingId: number, page: { cursor?: number | undefined; limit: number }): Promise<{ items: ReportContact[]; nextCursor: string | null }> {
    const project = await this.projects.get(projectId);
    await this.sendings.get(projectId, sendingId);
    return this.trackedContacts(project, sendingId, page);
  }

  /** Tracked recipients only, and only while they are still tracked (rule 6): an untracked contact is never listed. */
  private async trackedContacts(project: Project, sendingId: number, page: { cursor?: number | undefined; limit: number }): Promise<{ items: ReportContact[]; nextCursor: string | null }> {
    const projectId = project.id;
    let query = this.db
      .selectFrom('deliveries as d')
      .innerJoin('contacts as c', (join) => join.onRef('c.project_id', '=', 'd.project_id').onRef('c.id', '=', 'd.contact_id'))
      .leftJoin(
        (eb) =>
          eb
            .selectFrom('events')
            .select([
              'contact_id',
              sql<number>`SUM(CASE WHEN type = 'open' THEN 1 ELSE 0 END)`.as('opens'),
              sql<number>`SUM(CASE WHEN type = 'click' THEN 1 ELSE 0 END)`.as('clicks'),
            ])
            .where('project_id', '=', projectId)
            .where('sending_id', '=', sendingId)
            .where('contact_id', 'is not', null)
            .groupBy('contact_id')
            .as('e'),
        (join) => join.onRef('e.contact_id', '=', 'd.contact_id'),
      )
      .select(['c.id', 'c.email', 'e.opens', 'e.clicks'])
      .where('d.project_id', '=', projectId)
      .where('d.sending_id', '=', sendingId)
      .where(trackedSql(project.settings.tracking, 'c.has_tracking_consent'));
    if (page.cursor !== undefined) query = query.where('c.id', '>', page.cursor);
    const rows = await query.orderBy('c.id').limit(page.limit + 1).execute();
    const items = rows.slice(0, page.limit).map((c) => ({ contactId: String(c.id), email: c.email, opens: Number(c.opens ?? 0), clicks: Number(c.clicks ?? 0) }));
    return { items, nextCursor: rows.length > page.limit ? (items.at(-1)?.contactId ?? null) : null };
  }

  /** The sendings and events linked to a tracked contact, newest first, for the contact card. */
  async contactActivity(projectId: number, contactId: number) {
    const sendings = await this.db
      .selectFrom('deliveries as d')
      .innerJoin('sendings as s', (join) => join.onRef('s.project_id', '=', 'd.project_id').onRef('s.id', '=', 'd.sending_id'))
      .innerJoin('messages as m', (join) => join.onRef('m.project_id', '=', 's.project_id').onRef('m.id', '=', 's.message_id'))
      .select(['d.sending_id', 'd.status', 'd.at', 'm.id as message_id', 'm.name', 'm.channel'])
      .where('d.project_id', '=', projectId)
      .where('d.contact_id', '=', contactId)
      .orderBy('d.at', 'desc')
      .limit(200)
      .execute();
    const events = await this.db
      .selectFrom('events as e')
      .leftJoin('sending_links as l', (join) =>
        join.onRef('l.project_id', '=', 'e.project_id').onRef('l.sending_id', '=', 'e.sending_id').onRef('l.idx', '=', 'e.link_idx'),
      )
      .select(['e.id', 'e.type', 'e.sending_id', 'e.message_id', 'e.name', 'e.url', 'e.form_id', 'e.at', 'e.machine', 'e.device', 'l.url as link_url'])
      .where('e.project_id', '=', projectId)
      .where('e.contact_id', '=', contactId)
      .orderBy('e.at', 'desc')
      .limit(200)
      .execute();
    return {
      sendings: sendings.map((s) => ({
        sendingId: String(s.sending_id),
        messageId: String(s.message_id),
        messageName: s.name,
        channel: s.channel,
        status: s.status,
        at: new Date(s.at).toISOString(),
      })),
      events: events.map((e) => ({
        id: String(e.id),
        type: e.type,
        at: new Date(e.at).toISOString(),
        machine: e.machine === 1,
        ...(e.sending_id !== null ? { sendingId: String(e.sending_id) } : {}),
        ...(e.message_id !== null ? { messageId: String(e.message_id) } : {}),
        ...(e.link_url ? { linkUrl: e.link_url } : {}),
        ...(e.name ? { name: e.name } : {}),
        ...(e.url ? { url: e.url } : {}),
        ...(e.form_id !== null ? { formId: String(e.form_id) } : {}),
        ...(e.device ? { device: e.device } : {}),
      })),
    };
  }
}
