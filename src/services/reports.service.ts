import type { Suppression } from '../domain/small-group.js';
import type { Db } from '../store/database.js';
import { uniqueRecipients } from '../store/dashboard-stats.js';
import { contactDeliveries } from '../store/deliveries.js';
import { recentContactEvents } from '../store/events.js';
import { pageOf } from '../store/paging.js';
import { countTrackedRecipientsNow, hourlyTimeline, sendingLinkStats, sendingStats, trackedRecipients, uniqueClickersPerLink } from '../store/sending-report.js';
import type { Excluded } from '../store/sendings.js';
import { listedRecipientFigures, sendingSuppression } from '../store/small-group.js';
import type { Project, ProjectService } from './projects.service.js';
import { type SendingService, type SendingWarning, sendingWarnings } from './sendings.service.js';

const REPORT_CONTACTS = 1000;

const hourText = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

/** @example legendText(3, 2) // '3 untracked contacts (2 at sending time)' */
function legendText(now: number, atSending: number): string {
  const text = `${now} untracked contact${now === 1 ? '' : 's'}`;
  return now === atSending ? text : `${text} (${atSending} at sending time)`;
}

export interface SendingReport {
  sendingId: string;
  status: string;
  /**
   * `tracked` / `untracked` as decided when the sending ran; `trackedNow` / `untrackedNow` among those delivered,
   * as they stand today (a withdrawal after the sending moves a contact from the one to the other).
   * They reconcile: targeted = trackedNow (the listed contacts) + untrackedNow (the legend) + notDelivered.
   */
  recipients: { targeted: number; tracked: number; untracked: number; delivered: number; failed: number; trackedNow: number; untrackedNow: number; notDelivered: number; lost: number };
  /** The target's contacts the sending left out, per reason, counted with `recipients.targeted` (null before they were recorded). */
  excluded: Excluded | null;
  /** A sending that lost messages to a crash ends `sent` all the same (SPEC §10) and says so here. */
  warnings: SendingWarning[];
  opens: { total: number; unique: number; machine: number; human: number };
  clicks: { total: number; unique: number; machine: number; human: number };
  links: { url: string; total: number; unique: number; machine: number }[];
  timeline: { at: string; opens: number; clicks: number }[];
  contacts: ReportContact[];
  contactsTruncated: boolean;
  /** The untracked recipients today (what the contact list leaves out), and at sending time. */
  legend: { untrackedContacts: number; untrackedAtSending: number; text: string };
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
    const stats = await sendingStats(this.db, projectId, sendingId);
    // An identified event has a contact id and no nonce, an anonymous one the reverse: the two distinct counts add up.
    const uniques = await uniqueRecipients(this.db, scope.project_id, [scope.sending_id]);
    const uniqueOf = (type: string) => uniques.find((u) => u.type === type)?.unique ?? 0;
    const splitOf = (type: string) => {
      const u = uniques.find((x) => x.type === type);
      return { tracked: (u?.events ?? 0) - (u?.anonymous ?? 0), anonymous: u?.anonymous ?? 0 };
    };
    const links = await sendingLinkStats(this.db, projectId, sendingId);
    const linkUniques = await uniqueClickersPerLink(this.db, projectId, sendingId);
    const timeline = await hourlyTimeline(this.db, projectId, sendingId);
    const contacts = await this.trackedContacts(project, sendingId, { limit: REPORT_CONTACTS });
    const trackedNow = await countTrackedRecipientsNow(this.db, projectId, sendingId, project.settings.tracking);
    const untrackedNow = Math.max(0, sending.delivered - trackedNow);
    const opens = { total: stats?.opens ?? 0, machine: stats?.opens_machine ?? 0 };
    const clicks = { total: stats?.clicks ?? 0, machine: stats?.clicks_machine ?? 0 };
    const report: SendingReport = {
      sendingId: String(sending.id),
      status: sending.status,
      recipients: {
        targeted: sending.targeted,
        tracked: sending.tracked,
        untracked: sending.untracked,
        delivered: sending.delivered,
        failed: sending.failed,
        trackedNow,
        untrackedNow,
        notDelivered: Math.max(0, sending.targeted - sending.delivered),
        lost: sending.lost,
      },
      excluded: sending.excluded,
      warnings: sendingWarnings(sending),
      opens: { ...opens, unique: uniqueOf('open'), human: opens.total - opens.machine },
      clicks: { ...clicks, unique: uniqueOf('click'), human: clicks.total - clicks.machine },
      links: links.map((l) => ({
        url: l.url,
        total: Number(l.clicks ?? 0),
        unique: linkUniques.get(l.idx) ?? 0,
        machine: Number(l.clicks_machine ?? 0),
      })),
      timeline: timeline.map((t) => ({ at: hourText(t.at), opens: t.opens, clicks: t.clicks })),
      contacts: contacts.items,
      contactsTruncated: contacts.nextCursor !== null,
      tracking: { opens: splitOf('open'), clicks: splitOf('click') },
      legend: { untrackedContacts: untrackedNow, untrackedAtSending: sending.untracked, text: legendText(untrackedNow, sending.untracked) },
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
    const rows = await trackedRecipients(this.db, project.id, sendingId, project.settings.tracking, page);
    const { items, nextCursor } = pageOf(rows, page.limit, (r) => r.id);
    return { items: items.map((c) => ({ contactId: String(c.id), email: c.email, opens: c.opens, clicks: c.clicks })), nextCursor };
  }

  /** The sendings and events linked to a tracked contact, newest first, for the contact card. */
  async contactActivity(projectId: number, contactId: number) {
    const sendings = await contactDeliveries(this.db, projectId, contactId, { newestFirst: true, limit: 200 });
    const events = await recentContactEvents(this.db, projectId, contactId, 200);
    return {
      sendings: sendings.map((s) => ({
        sendingId: String(s.sending_id),
        messageId: String(s.message_id),
        messageName: s.message_name,
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
