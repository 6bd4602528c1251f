import { toMinute } from '../domain/anonymous-event.js';
import type { Db } from './database.js';

/** A `form_submit` or `unsubscribe` event; `contact` is set only for a tracked contact (rule 5). */
export interface FormEvent {
  type: 'form_submit' | 'unsubscribe';
  formId: number | null;
  /** The form kind, so events of built-in default forms stay readable. */
  name: string;
  at: number;
  contact: { id: number; ip: string | null; userAgent: string | null } | null;
}

/**
 * Writes a form event. An anonymous one keeps no contact id, IP address or
 * user agent, and its time is cut to the minute.
 */
export async function insertFormEvent(db: Db, projectId: number, event: FormEvent): Promise<void> {
  const identified = event.contact;
  await db
    .insertInto('events')
    .values({
      project_id: projectId,
      type: event.type,
      contact_id: identified?.id ?? null,
      form_id: event.formId,
      name: event.name,
      at: identified ? event.at : toMinute(event.at),
      machine: 0,
      ip: identified?.ip ?? null,
      user_agent: identified?.userAgent ?? null,
    })
    .execute();
}
