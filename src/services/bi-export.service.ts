import { isTracked, type TrackingSettings, trackingStatus } from '../domain/consent.js';
import { badInput } from '../domain/errors.js';
import type { Db } from '../store/database.js';
import { smallGroupSendingIds, untrackedContactCount } from '../store/small-group.js';
import { csvCell } from '../domain/csv-cell.js';
import { consentValue } from '../store/consent-column.js';
import { projectEventsPage } from '../store/event-exports.js';
import { keysetPages } from '../store/paging.js';

const PAGE = 2000;
// As the per-sending export (ExportService): event name, device and the machine flag, then a web event's posted type; new columns go at the end.
const EVENT_COLUMNS = ['eventId', 'type', 'at', 'sendingId', 'messageId', 'linkUrl', 'channel', 'contactId', 'name', 'device', 'machine', 'webEventType'] as const;
const CONTACT_FIELDS = ['email', 'externalId', 'phone', 'status', 'trackingStatus'] as const;
const CUSTOM_FIELD = /^fields\.[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const MAX_FIELDS = 50;

export type ExportFormat = 'csv' | 'ndjson';

export interface EventExportQuery {
  /** Inclusive lower bound on the event time (epoch ms). */
  from?: number;
  /** Exclusive upper bound on the event time (epoch ms). */
  to?: number;
  format: ExportFormat;
  /** Contact fields added to identified events: `email`, `externalId`, `phone`, `status`, `trackingStatus`, `fields.<name>`. */
  fields: string[];
  /** Small-group protection: the project's tracking settings and `k` (0 = off). */
  smallGroups?: { tracking: TrackingSettings; k: number };
}

/**
 * Parses the `fields` list of an export (`email,fields.firstName`), rejecting
 * unknown names before anything is streamed.
 *
 * @example parseExportFields('email, fields.firstName') // ['email', 'fields.firstName']
 */
export function parseExportFields(list: string | undefined): string[] {
  if (list === undefined || list.trim() === '') return [];
  const fields = [...new Set(list.split(',').map((f) => f.trim()))].filter((f) => f !== '');
  if (fields.length > MAX_FIELDS) throw badInput('fields', `at most ${MAX_FIELDS} fields`);
  for (const field of fields) {
    if (!(CONTACT_FIELDS as readonly string[]).includes(field) && !CUSTOM_FIELD.test(field)) {
      throw badInput('fields', `unknown field ${field} (use ${CONTACT_FIELDS.join(', ')} or fields.<name>)`);
    }
  }
  return fields;
}

/** Parses an export time bound: an ISO 8601 date or date-time. */
export function parseExportTime(value: string | undefined, field: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const ms = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw badInput(field, 'must be an ISO 8601 date or date-time, e.g. 2026-11-01 or 2026-11-01T00:00:00Z');
  return ms;
}

interface ContactRow {
  email: string | null;
  external_id: string | null;
  phone: string | null;
  status: string | null;
  has_tracking_consent: number | null;
  fields: string | null;
}

function contactValue(field: string, row: ContactRow, custom: Record<string, unknown>): unknown {
  switch (field) {
    case 'email':
      return row.email;
    case 'externalId':
      return row.external_id;
    case 'phone':
      return row.phone;
    case 'status':
      return row.status;
    case 'trackingStatus':
      return trackingStatus(consentValue(row.has_tracking_consent));
    default: {
      const value = custom[field.slice('fields.'.length)];
      return value === undefined ? null : value;
    }
  }
}

/**
 * The project-wide event export for BI tools, with the columns of the
 * per-sending export (name, device, machine). Pages through events in id
 * order (never the whole table in memory). Identified events may carry chosen
 * contact fields; anonymous events carry none (CSV cells stay empty, NDJSON
 * records have no such keys).
 */
export class BiExportService {
  constructor(private readonly db: Db) {}

  async *events(projectId: number, query: EventExportQuery): AsyncGenerator<string> {
    const { format, fields } = query;
    const needsContact = fields.length > 0;
    const guard = await this.smallGroupGuard(projectId, query.smallGroups);
    if (format === 'csv') yield `${[...EVENT_COLUMNS, ...fields].map(csvCell).join(',')}\n`;
    const pages = keysetPages((after, size) => projectEventsPage(this.db, projectId, query, after, size), (row) => Number(row.id), PAGE);
    for await (const rows of pages) {
      let chunk = '';
      for (const row of rows) {
        if (guard && !guard(row)) continue;
        const identified = row.contact_id !== null;
        const record: Record<string, unknown> = {
          eventId: String(row.id),
          type: row.type,
          at: new Date(Number(row.at)).toISOString(),
          sendingId: row.sending_id === null ? null : String(row.sending_id),
          messageId: row.message_id === null ? null : String(row.message_id),
          // A click's destination comes from the sending's link table; a web event keeps its own URL.
          linkUrl: row.link_url ?? row.event_url,
          channel: row.channel,
          contactId: identified ? String(row.contact_id) : null,
          // A web event's name (the `type` or `name` it was posted with), a form event's form kind.
          name: row.name,
          device: row.device,
          machine: Number(row.machine) === 1,
          // The type a web or app event was posted with (`type` is `web`); empty for every other event.
          webEventType: row.web_type,
        };
        if (needsContact && identified) {
          const custom = row.fields ? (JSON.parse(row.fields) as Record<string, unknown>) : {};
          for (const field of fields) record[field] = contactValue(field, row, custom);
        }
        if (format === 'csv') {
          const cells = EVENT_COLUMNS.map((c) => csvCell(record[c]));
          for (const field of fields) cells.push(identified ? csvCell(cellText(record[field])) : '');
          chunk += `${cells.join(',')}\n`;
        } else {
          chunk += `${JSON.stringify(record)}\n`;
        }
      }
      if (chunk) yield chunk;
    }
  }

  /**
   * Small-group protection (SPEC §14) in the export: an event of a sending
   * whose anonymous group is smaller than k — or, for events of no sending,
   * of a project with fewer than k untracked contacts — is exported only when
   * it is identified and its contact is tracked now, as the report lists it.
   * `null` when nothing needs guarding.
   */
  private async smallGroupGuard(projectId: number, protection: EventExportQuery['smallGroups']): Promise<((row: GuardedRow) => boolean) | null> {
    if (!protection || protection.k <= 0) return null;
    const { tracking, k } = protection;
    const small = await smallGroupSendingIds(this.db, projectId, tracking, k);
    const projectSmall = (await untrackedContactCount(this.db, projectId, tracking)) < k;
    if (small.size === 0 && !projectSmall) return null;
    return (row) => {
      const guarded = row.sending_id === null ? projectSmall : small.has(Number(row.sending_id));
      if (!guarded) return true;
      // A contact id without a contact row (erased meanwhile) is not listed anywhere either.
      const known = row.contact_id !== null && row.status !== null;
      return known && isTracked({ hasTrackingConsent: consentValue(row.has_tracking_consent) }, tracking);
    };
  }
}

interface GuardedRow {
  sending_id: number | null;
  contact_id: number | null;
  status: string | null;
  has_tracking_consent: number | null;
}

/** Objects and arrays in custom fields go to CSV as JSON text. */
function cellText(value: unknown): unknown {
  return value !== null && typeof value === 'object' ? JSON.stringify(value) : value;
}
