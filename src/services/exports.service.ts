import { isTracked, type TrackingSettings, trackedSql } from '../domain/consent.js';
import type { Db } from '../store/database.js';

const PAGE = 2000;
const COLUMNS = ['eventId', 'type', 'at', 'sendingId', 'messageId', 'linkUrl', 'channel', 'contactId', 'email', 'device', 'machine'] as const;

export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  // Quote what needs it, and neutralise spreadsheet formulas.
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\n\r]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/** Streamed BI exports: pages of events in id order, never the whole table in memory. */
export class ExportService {
  constructor(private readonly db: Db) {}

  /**
   * A sending's events. An event still identified but whose contact is
   * untracked now (withdrawal without anonymising the past) is exported
   * without its contact: the results page never shows an untracked contact.
   * `listedOnly` (small-group protection) keeps only the events of contacts
   * tracked now, the ones the report lists.
   */
  async *sendingEvents(
    projectId: number,
    sendingId: number,
    format: 'csv' | 'ndjson',
    tracking: TrackingSettings,
    options: { listedOnly?: boolean } = {},
  ): AsyncGenerator<string> {
    if (format === 'csv') yield `${COLUMNS.join(',')}\n`;
    let after = 0;
    for (;;) {
      let query = this.db
        .selectFrom('events as e')
        .leftJoin('contacts as c', (join) => join.onRef('c.project_id', '=', 'e.project_id').onRef('c.id', '=', 'e.contact_id'))
        .leftJoin('sending_links as l', (join) =>
          join.onRef('l.project_id', '=', 'e.project_id').onRef('l.sending_id', '=', 'e.sending_id').onRef('l.idx', '=', 'e.link_idx'),
        )
        .select(['e.id', 'e.type', 'e.at', 'e.sending_id', 'e.message_id', 'l.url', 'e.channel', 'e.contact_id', 'c.id as known_contact', 'c.email', 'c.has_tracking_consent', 'e.device', 'e.machine'])
        .where('e.project_id', '=', projectId)
        .where('e.sending_id', '=', sendingId)
        .where('e.id', '>', after);
      if (options.listedOnly) query = query.where('e.contact_id', 'is not', null).where(trackedSql(tracking, 'c.has_tracking_consent'));
      const rows = await query.orderBy('e.id').limit(PAGE).execute();
      let chunk = '';
      for (const row of rows) {
        const identified = row.contact_id !== null && row.known_contact !== null && isTracked({ hasTrackingConsent: row.has_tracking_consent === null ? null : row.has_tracking_consent === 1 }, tracking);
        const record = {
          eventId: String(row.id),
          type: row.type,
          at: new Date(row.at).toISOString(),
          sendingId: String(row.sending_id),
          messageId: row.message_id === null ? null : String(row.message_id),
          linkUrl: row.url,
          channel: row.channel,
          contactId: identified ? String(row.contact_id) : null,
          email: identified ? row.email : null,
          device: row.device,
          machine: row.machine === 1,
        };
        chunk += format === 'csv' ? `${COLUMNS.map((c) => csvCell(record[c])).join(',')}\n` : `${JSON.stringify(record)}\n`;
      }
      if (chunk) yield chunk;
      if (rows.length < PAGE) return;
      after = rows[rows.length - 1]!.id;
    }
  }
}
