import { anonymousEvent } from '../domain/anonymous-event.js';
import { FUTURE_SKEW_MS, isTracked } from '../domain/consent.js';
import { normalizeEmail } from '../domain/contact.js';
import { AppError, notFound } from '../domain/errors.js';
import { findContactByKey } from '../store/contacts.js';
import type { Db } from '../store/database.js';
import type { HitWriter } from './event-writer.js';
import type { ProjectService } from './projects.service.js';

export interface WebEventInput {
  email?: string;
  externalId?: string;
  type: string;
  name?: string;
  url?: string;
  at?: string;
}

/** Web and app events: identified when the contact is tracked now, anonymous otherwise. */
export class WebEventService {
  constructor(
    private readonly db: Db,
    private readonly clock: () => number,
    private readonly projects: ProjectService,
    private readonly writer: HitWriter,
  ) {}

  async record(projectId: number, input: WebEventInput): Promise<{ identified: boolean }> {
    const project = await this.projects.getCached(projectId);
    const now = this.clock();
    let at = now;
    if (input.at !== undefined) {
      at = Date.parse(input.at);
      if (Number.isNaN(at)) throw new AppError('InvalidEvent', 'at: not a date', [{ field: 'at', reason: 'not an ISO 8601 date' }]);
      if (at > now + FUTURE_SKEW_MS) throw new AppError('InvalidEvent', 'at: in the future', [{ field: 'at', reason: 'date is in the future' }]);
    }
    if (!input.email && !input.externalId) {
      throw new AppError('InvalidEvent', 'email or externalId is required', [{ field: 'email', reason: 'email or externalId is required' }]);
    }
    const key = input.externalId ? { externalId: input.externalId } : { email: normalizeEmail(input.email as string) };
    const contact = await findContactByKey(this.db, projectId, key);
    if (!contact) throw notFound('Contact');
    const tracked = isTracked(contact, project.settings.tracking);
    const name = input.name ?? (input.type === 'web' || input.type === 'page_view' ? null : input.type);
    // The batch's transaction decides again whether the contact is tracked (rule 4); `tracked` only predicts it.
    const kept = anonymousEvent({ contactId: contact.id, at, url: input.url || null });
    const outcome = await this.writer.write({
      project_id: projectId,
      type: 'web',
      contact_id: kept.contactId,
      name: name?.slice(0, 200) ?? null,
      // The posted type too, so an event posted with both a type and a name keeps both (issue 12 item 15).
      web_type: input.type.slice(0, 100),
      url: kept.url?.slice(0, 2000) ?? null,
      at: kept.at,
      machine: 0,
      channel: 'web',
    });
    return { identified: outcome === 'pending' ? tracked : outcome === 'identified' };
  }
}
