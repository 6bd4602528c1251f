import { toMinute } from '../domain/anonymous-event.js';
import { isTracked } from '../domain/consent.js';
import { normalizeEmail } from '../domain/contact.js';
import { AppError, notFound } from '../domain/errors.js';
import type { Db } from '../store/database.js';
import type { EventWriter } from './event-writer.js';
import type { ProjectService } from './projects.service.js';

export interface WebEventInput {
  email?: string;
  externalId?: string;
  type: string;
  name?: string;
  url?: string;
  at?: string;
}

/** The page's address without query or fragment: what an anonymous event may keep of a URL. */
function withoutQuery(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return url.split(/[?#]/)[0] ?? '';
  }
}

/** Web and app events: identified when the contact is tracked now, anonymous otherwise. */
export class WebEventService {
  constructor(
    private readonly db: Db,
    private readonly clock: () => number,
    private readonly projects: ProjectService,
    private readonly writer: EventWriter,
  ) {}

  async record(projectId: number, input: WebEventInput): Promise<{ identified: boolean }> {
    const project = await this.projects.getCached(projectId);
    const now = this.clock();
    let at = now;
    if (input.at !== undefined) {
      at = Date.parse(input.at);
      if (Number.isNaN(at)) throw new AppError('InvalidEvent', 'at: not a date', [{ field: 'at', reason: 'not an ISO 8601 date' }]);
      if (at > now + 5 * 60_000) throw new AppError('InvalidEvent', 'at: in the future', [{ field: 'at', reason: 'date is in the future' }]);
    }
    if (!input.email && !input.externalId) {
      throw new AppError('InvalidEvent', 'email or externalId is required', [{ field: 'email', reason: 'email or externalId is required' }]);
    }
    let q = this.db.selectFrom('contacts').select(['id', 'has_tracking_consent']).where('project_id', '=', projectId);
    q = input.externalId ? q.where('external_id', '=', input.externalId) : q.where('email', '=', normalizeEmail(input.email as string));
    const contact = await q.executeTakeFirst();
    if (!contact) throw notFound('Contact');
    const tracked = isTracked({ hasTrackingConsent: contact.has_tracking_consent === null ? null : contact.has_tracking_consent === 1 }, project.settings.tracking);
    const name = input.name ?? (input.type === 'web' || input.type === 'page_view' ? null : input.type);
    await this.writer.write({
      project_id: projectId,
      type: 'web',
      contact_id: tracked ? contact.id : null,
      name: name?.slice(0, 200) ?? null,
      url: input.url ? (tracked ? input.url : withoutQuery(input.url)).slice(0, 2000) : null,
      at: tracked ? at : toMinute(at),
      machine: 0,
      channel: 'web',
    });
    return { identified: tracked };
  }
}
