import { anonymousEvent } from '../domain/anonymous-event.js';
import { FUTURE_SKEW_MS, isTracked } from '../domain/consent.js';
import { gpcAnonymises } from '../domain/gpc.js';
import { verifyToken } from '../domain/token.js';
import { normalizeEmail } from '../domain/contact.js';
import { AppError, notFound } from '../domain/errors.js';
import { findContactByKey } from '../store/contacts.js';
import { sendingForTracking } from '../store/sendings.js';
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

/** What the web snippet (`/t/w.js`) posts for a page view. */
export interface PageViewInput {
  projectId: number;
  url?: string;
  /** The `{{trackingToken}}` of the link the visitor arrived by, when there was one. */
  token?: string;
}

/** The request's side of a web event: its `Sec-GPC` header. */
export interface WebEventSignals {
  gpc?: string | string[] | undefined;
}

/** Web and app events: identified when the contact is tracked now, anonymous otherwise. */
export class WebEventService {
  constructor(
    private readonly db: Db,
    private readonly clock: () => number,
    private readonly projects: ProjectService,
    private readonly writer: HitWriter,
    private readonly secrets: readonly string[],
  ) {}

  async record(projectId: number, input: WebEventInput, signals: WebEventSignals = {}): Promise<{ identified: boolean }> {
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
    // GPC (SPEC §14): recorded, but as an anonymous event whatever the contact's consent.
    const gpc = gpcAnonymises(signals.gpc, project.settings.tracking);
    const tracked = !gpc && isTracked(contact, project.settings.tracking);
    const name = input.name ?? (input.type === 'web' || input.type === 'page_view' ? null : input.type);
    // The batch's transaction decides again whether the contact is tracked (rule 4); `tracked` only predicts it.
    const kept = anonymousEvent({ contactId: gpc ? null : contact.id, at, url: input.url || null });
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

  /**
   * A page view from the web snippet: public, so it trusts nothing but a
   * signed token. A click token of this project's sending that names a
   * contact is a candidate for an identified view (the batch's transaction
   * decides on the consent of that moment, rule 4); no token, a forged one,
   * another project's, an anonymously issued one, or GPC → anonymous.
   */
  async recordPageView(input: PageViewInput, signals: WebEventSignals = {}): Promise<void> {
    const project = await this.projects.getCached(input.projectId);
    const gpc = gpcAnonymises(signals.gpc, project.settings.tracking);
    let candidate: number | null = null;
    const token = !gpc && input.token ? verifyToken(this.secrets, input.token) : null;
    if (token && token.kind === 'click' && 'contactId' in token.recipient) {
      const sending = await sendingForTracking(this.db, token.sendingId);
      if (sending?.projectId === project.id) candidate = token.recipient.contactId;
    }
    const kept = anonymousEvent({ contactId: candidate, at: this.clock(), url: input.url || null });
    await this.writer.write({
      project_id: project.id,
      type: 'web',
      contact_id: kept.contactId,
      name: null,
      web_type: 'page_view',
      url: kept.url?.slice(0, 2000) ?? null,
      at: kept.at,
      machine: 0,
      channel: 'web',
    });
  }
}
