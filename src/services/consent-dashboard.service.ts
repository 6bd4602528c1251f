import { badInput } from '../domain/errors.js';
import {
  consentSources,
  consentTransitions,
  contactsCreatedPerDay,
  DAY_MS,
  latestSendings,
  refusalsBySending,
  type SendingSummaryRow,
  type SourceKind,
  type StatusSplit,
  statusSplit,
  uniqueRecipients,
} from '../store/dashboard-stats.js';
import type { Suppression } from '../domain/small-group.js';
import type { Db } from '../store/database.js';
import { listedRecipientFigures, sendingSuppression } from '../store/small-group.js';
import type { ProjectService } from './projects.service.js';

export interface ConsentPoint {
  /** UTC day, `YYYY-MM-DD`; counts are at the end of that day. */
  date: string;
  accepted: number;
  refused: number;
  unanswered: number;
}

export interface ConsentDashboard {
  tracking: { enabled: boolean; mode: string };
  now: StatusSplit & { contacts: number; untracked: number };
  overTime: ConsentPoint[];
  sources: { source: SourceKind; accepted: number; refused: number; reset: number }[];
  sendings: {
    sendingId: string;
    messageName: string;
    at: string;
    targeted: number;
    tracked: number;
    untracked: number;
    /** tracked / targeted, 0 when nobody was targeted. */
    trackedShare: number;
    refusals: number;
    optOuts: number;
  }[];
}

export interface DashboardHome {
  tracking: { enabled: boolean; mode: string };
  consent: StatusSplit & { contacts: number; untracked: number };
  sendings: {
    sendingId: string;
    messageId: string;
    messageName: string;
    channel: string;
    status: string;
    createdAt: string;
    targeted: number;
    tracked: number;
    untracked: number;
    delivered: number;
    opens: { total: number; unique: number; machine: number };
    clicks: { total: number; unique: number; machine: number };
    /** Small-group protection: the figures count the listed tracked contacts only. */
    suppressed?: Suppression;
  }[];
}

const SOURCES: SourceKind[] = ['import', 'form', 'tracking-optout-form', 'api', 'admin', 'other'];
const dayString = (day: number): string => new Date(day * DAY_MS).toISOString().slice(0, 10);
const sendingTime = (s: SendingSummaryRow): string => new Date(s.startedAt ?? s.createdAt).toISOString();

/**
 * The privacy officer's consent dashboard and the project's home figures.
 * Everything here is a count: no contact appears individually, tracked or not.
 */
export class ConsentDashboardService {
  constructor(
    private readonly db: Db,
    private readonly clock: () => number,
    private readonly projects: ProjectService,
  ) {}

  private async split(projectId: number) {
    const project = await this.projects.get(projectId);
    const split = await statusSplit(this.db, projectId, project.settings.tracking);
    const contacts = split.accepted + split.refused + split.unanswered;
    return { project, split: { ...split, contacts, untracked: contacts - split.tracked } };
  }

  /**
   * Accepted / refused / unanswered at the end of each of the last `days` days,
   * rebuilt from the consent history: each status change moves one contact
   * from its previous status to the new one; a new contact starts unanswered.
   */
  async overTime(projectId: number, days: number): Promise<ConsentPoint[]> {
    const transitions = await consentTransitions(this.db, projectId);
    const created = await contactsCreatedPerDay(this.db, projectId);
    const delta = new Map<number, { accepted: number; refused: number; unanswered: number }>();
    const at = (day: number) => {
      let d = delta.get(day);
      if (!d) {
        d = { accepted: 0, refused: 0, unanswered: 0 };
        delta.set(day, d);
      }
      return d;
    };
    const statusOf = (action: string | null): 'accepted' | 'refused' | 'unanswered' => (action === 'accepted' ? 'accepted' : action === 'refused' ? 'refused' : 'unanswered');
    for (const c of created) at(c.day).unanswered += c.n;
    for (const t of transitions) {
      const d = at(t.day);
      d[statusOf(t.prev)] -= t.n;
      d[statusOf(t.action)] += t.n;
    }
    const today = Math.floor(this.clock() / DAY_MS);
    const first = today - days + 1;
    const running = { accepted: 0, refused: 0, unanswered: 0 };
    for (const [day, d] of delta) {
      if (day >= first) continue;
      running.accepted += d.accepted;
      running.refused += d.refused;
      running.unanswered += d.unanswered;
    }
    const points: ConsentPoint[] = [];
    for (let day = first; day <= today; day++) {
      const d = delta.get(day);
      if (d) {
        running.accepted += d.accepted;
        running.refused += d.refused;
        running.unanswered += d.unanswered;
      }
      points.push({ date: dayString(day), ...running });
    }
    return points;
  }

  async consentDashboard(projectId: number, options: { days: number; sendings: number }): Promise<ConsentDashboard> {
    if (!Number.isInteger(options.days) || options.days < 1 || options.days > 3660) throw badInput('days', 'must be a whole number of days from 1 to 3660');
    const { project, split } = await this.split(projectId);
    const since = (Math.floor(this.clock() / DAY_MS) - options.days + 1) * DAY_MS;
    const sourceRows = await consentSources(this.db, projectId, since);
    const sendings = await latestSendings(this.db, projectId, options.sendings);
    const refusals = await refusalsBySending(this.db, projectId, sendings.map((s) => s.id));
    return {
      tracking: { enabled: project.settings.tracking.enabled, mode: project.settings.tracking.mode },
      now: split,
      overTime: await this.overTime(projectId, options.days),
      sources: SOURCES.map((source) => {
        const n = (action: string) => sourceRows.find((r) => r.source === source && r.action === action)?.n ?? 0;
        return { source, accepted: n('accepted'), refused: n('refused'), reset: n('reset') };
      }).filter((s) => s.source !== 'other' || s.accepted + s.refused + s.reset > 0),
      sendings: sendings.map((s) => {
        const r = refusals.find((x) => x.sendingId === s.id);
        return {
          sendingId: String(s.id),
          messageName: s.messageName,
          at: sendingTime(s),
          targeted: s.targeted,
          tracked: s.tracked,
          untracked: s.untracked,
          trackedShare: s.tracked + s.untracked > 0 ? s.tracked / (s.tracked + s.untracked) : 0,
          refusals: r?.refusals ?? 0,
          optOuts: r?.optOuts ?? 0,
        };
      }),
    };
  }

  /** What a user landing on a project sees: the last sendings' key figures and the consent split. */
  async home(projectId: number, limit = 5): Promise<DashboardHome> {
    const { project, split } = await this.split(projectId);
    const sendings = await latestSendings(this.db, projectId, limit);
    const uniques = await uniqueRecipients(this.db, projectId, sendings.map((s) => s.id));
    const unique = (id: number, type: string) => uniques.find((u) => u.sendingId === id && u.type === type)?.unique ?? 0;
    const tracking = project.settings.tracking;
    const rows = await Promise.all(
      sendings.map(async (s) => {
        const row = {
          sendingId: String(s.id),
          messageId: String(s.messageId),
          messageName: s.messageName,
          channel: s.channel,
          status: s.status,
          createdAt: new Date(s.createdAt).toISOString(),
          targeted: s.targeted,
          tracked: s.tracked,
          untracked: s.untracked,
          delivered: s.delivered,
          opens: { total: s.opens, unique: unique(s.id, 'open'), machine: s.opensMachine },
          clicks: { total: s.clicks, unique: unique(s.id, 'click'), machine: s.clicksMachine },
        };
        // Small-group protection (SPEC §14): the same figures as the sending's report.
        const suppressed = await sendingSuppression(this.db, projectId, s, tracking);
        if (!suppressed) return row;
        const listed = await listedRecipientFigures(this.db, projectId, s.id, tracking);
        return { ...row, opens: listed.opens, clicks: listed.clicks, suppressed };
      }),
    );
    return {
      tracking: { enabled: tracking.enabled, mode: tracking.mode },
      consent: split,
      sendings: rows,
    };
  }
}
