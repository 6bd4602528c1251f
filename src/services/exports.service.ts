import { isTracked, type TrackingSettings, trackingStatus } from '../domain/consent.js';
import { csvCell } from '../domain/csv-cell.js';
import type { Db } from '../store/database.js';
import { consentValue } from '../store/consent-column.js';
import { projectContactsPage, sendingEventsPage } from '../store/event-exports.js';
import { keysetPages } from '../store/paging.js';

const PAGE = 2000;
const COLUMNS = ['eventId', 'type', 'at', 'sendingId', 'messageId', 'linkUrl', 'channel', 'contactId', 'email', 'device', 'machine'] as const;

const CONTACT_COLUMNS = [
  'id',
  'email',
  'externalId',
  'phone',
  'status',
  'trackingStatus',
  'tracked',
  'hasTrackingConsent',
  'dtTrackingConsent',
  'createdAt',
  'updatedAt',
  'fields',
] as const;

const isoOrNull = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** Streamed BI exports: pages of events in id order, never the whole table in memory. */
export class ExportService {
  constructor(private readonly db: Db) {}

  /**
   * The project's contacts with their consent status (`trackingStatus`, and
   * `tracked` from the one `isTracked` rule under the project's settings now),
   * a page at a time by id. In CSV, custom fields are one JSON cell.
   */
  async *contacts(projectId: number, format: 'csv' | 'ndjson', tracking: TrackingSettings): AsyncGenerator<string> {
    if (format === 'csv') yield `${CONTACT_COLUMNS.join(',')}\n`;
    const pages = keysetPages((after, size) => projectContactsPage(this.db, projectId, after, size), (contact) => contact.id, PAGE);
    for await (const contacts of pages) {
      let chunk = '';
      for (const contact of contacts) {
        const record = {
          id: String(contact.id),
          email: contact.email,
          externalId: contact.externalId,
          phone: contact.phone,
          status: contact.status,
          trackingStatus: trackingStatus(contact.hasTrackingConsent),
          tracked: isTracked(contact, tracking),
          hasTrackingConsent: contact.hasTrackingConsent,
          dtTrackingConsent: isoOrNull(contact.dtTrackingConsent),
          createdAt: new Date(contact.createdAt).toISOString(),
          updatedAt: new Date(contact.updatedAt).toISOString(),
          fields: contact.fields,
        };
        chunk +=
          format === 'csv'
            ? `${CONTACT_COLUMNS.map((c) => csvCell(c === 'fields' ? JSON.stringify(record.fields) : record[c])).join(',')}\n`
            : `${JSON.stringify(record)}\n`;
      }
      if (chunk) yield chunk;
    }
  }

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
    const pages = keysetPages(
      (after, size) => sendingEventsPage(this.db, projectId, sendingId, { listedOnly: options.listedOnly === true, tracking }, after, size),
      (row) => row.id,
      PAGE,
    );
    for await (const rows of pages) {
      let chunk = '';
      for (const row of rows) {
        const identified = row.contact_id !== null && row.known_contact !== null && isTracked({ hasTrackingConsent: consentValue(row.has_tracking_consent) }, tracking);
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
    }
  }
}
