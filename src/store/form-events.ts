import { anonymousEvent } from '../domain/anonymous-event.js';
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

/** Writes a form event, keeping of its origin what rule 5 allows ({@link anonymousEvent}). */
export async function insertFormEvent(db: Db, projectId: number, event: FormEvent): Promise<void> {
  const kept = anonymousEvent({ contactId: event.contact?.id ?? null, at: event.at, ip: event.contact?.ip, userAgent: event.contact?.userAgent });
  await db
    .insertInto('events')
    .values({
      project_id: projectId,
      type: event.type,
      contact_id: kept.contactId,
      form_id: event.formId,
      name: event.name,
      at: kept.at,
      machine: 0,
      ip: kept.ip,
      user_agent: kept.userAgent,
    })
    .execute();
}
