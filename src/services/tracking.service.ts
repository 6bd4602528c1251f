import type { Config } from '../config.js';
import { anonymousEvent } from '../domain/anonymous-event.js';
import { isTracked } from '../domain/consent.js';
import { type InjectionRule, applyInjection } from '../domain/injection.js';
import { classifyHit } from '../domain/machine.js';
import { type TokenKind, verifyToken } from '../domain/token.js';
import type { Db } from '../store/database.js';
import { type SendingForTracking, sendingForTracking } from '../store/sendings.js';
import type { ConsentService } from './consent.service.js';
import type { HitWriter, NewEvent } from './event-writer.js';
import type { InjectionRuleService } from './injection-rules.service.js';
import type { ProjectService } from './projects.service.js';

/** What the tracking routes need of a sending, cached: the hot path reads no sending row per hit. */
type SendingInfo = SendingForTracking;

export interface HitRequest {
  method: string;
  userAgent: string | undefined;
  ip: string | undefined;
  headers: Record<string, string | string[] | undefined>;
}

export type HitOutcome = { found: false } | { found: true; recorded: boolean; location?: string };


/**
 * The tracking hot path: verify the token (HMAC, no database), look up the
 * contact's consent now (cache; rule 4), record identified or anonymous
 * (rule 5) through the group-commit writer, and for clicks redirect to the
 * stored destination plus injection parameters.
 */
export class TrackingService {
  private readonly sendings = new Map<number, SendingInfo>();

  constructor(
    private readonly db: Db,
    private readonly clock: () => number,
    private readonly config: Config,
    private readonly projects: ProjectService,
    private readonly consent: ConsentService,
    private readonly injectionRules: InjectionRuleService,
    private readonly writer: HitWriter,
  ) {}

  private async sendingInfo(sendingId: number): Promise<SendingInfo | undefined> {
    const cached = this.sendings.get(sendingId);
    if (cached && cached.startedAt !== null) return cached;
    const info = await sendingForTracking(this.db, sendingId);
    if (!info) return undefined;
    if (this.sendings.size > 10_000) this.sendings.clear();
    this.sendings.set(sendingId, info);
    return info;
  }

  async hit(kind: TokenKind, text: string, request: HitRequest): Promise<HitOutcome> {
    const token = verifyToken(this.config.secrets, text);
    if (!token || token.kind !== kind) return { found: false };
    const info = await this.sendingInfo(token.sendingId);
    if (!info) return { found: false };
    const destination = kind === 'click' ? info.links[token.linkIdx - 1] : undefined;
    if (kind === 'click' ? destination === undefined : token.linkIdx !== 0) return { found: false };

    const now = this.clock();
    const candidate = 'contactId' in token.recipient ? token.recipient.contactId : null;
    const deliveredAt = info.startedAt === null ? null : info.startedAt + (token.sentAfterMs ?? 0);
    const classified = classifyHit({ kind, userAgent: request.userAgent, headers: request.headers, deliveredAt, now });
    const counted = request.method !== 'HEAD' && classified.count;
    /** Whom the redirect's injection may name; asked only when an injection rule applies (it may read the database). */
    let contactId: () => Promise<number | null> = async () => null;
    if (counted) {
      // Rule 4: the batch's transaction decides whether the contact is tracked now; the event is written
      // identified only then, else in its anonymous form.
      const kept = anonymousEvent({
        contactId: candidate,
        at: now,
        ip: request.ip,
        userAgent: request.userAgent,
        nonce: 'nonce' in token.recipient ? token.recipient.nonce : null,
      });
      const event: NewEvent = {
        project_id: info.projectId,
        type: kind,
        contact_id: kept.contactId,
        nonce: kept.nonce,
        sending_id: token.sendingId,
        message_id: info.messageId,
        link_idx: kind === 'click' ? token.linkIdx : null,
        channel: info.channel,
        at: kept.at,
        device: classified.device,
        machine: classified.machine ? 1 : 0,
        ip: kept.ip,
        user_agent: kept.userAgent,
      };
      const outcome = await this.writer.write(event);
      if (outcome === 'identified') contactId = async () => candidate;
      // Acknowledged from the journal or the hit queue, decided at its later commit: the redirect goes by the contact's consent read now.
      else if (outcome === 'pending' && candidate !== null && kind === 'click') {
        contactId = async () => ((await this.trackedNow(info.projectId, candidate, true)) ? candidate : null);
      }
    } else if (candidate !== null && kind === 'click') {
      contactId = async () => ((await this.trackedNow(info.projectId, candidate, false)) ? candidate : null);
    }
    if (kind === 'open') return { found: true, recorded: counted };
    const location = await this.inject(destination as string, info, token.sendingId, contactId, text);
    return { found: true, recorded: counted, location };
  }

  /** Whether the contact is tracked now, for a redirect whose event is not (yet) decided: cache, or with `fresh` the row. */
  private async trackedNow(projectId: number, contactId: number, fresh: boolean): Promise<boolean> {
    const project = await this.projects.getCached(projectId);
    const consent = await this.consent.consentOf(projectId, contactId, fresh);
    return consent.exists && isTracked({ hasTrackingConsent: consent.value }, project.settings.tracking);
  }

  /** Injection parameters for the redirect; contact values only for an identified (so tracked) click. */
  private async inject(destination: string, info: SendingInfo, sendingId: number, contactOf: () => Promise<number | null>, trackingToken: string): Promise<string> {
    const projectId = info.projectId;
    const rules: InjectionRule[] = (await this.injectionRules.cachedRules(projectId)).filter((r) => r.autoApply || info.injectionRuleIds.includes(r.id));
    if (rules.length === 0) return destination;
    const contactId = await contactOf();
    const contact = contactId === null ? null : await this.injectionRules.contactValues(projectId, contactId);
    return applyInjection(destination, rules.map((r) => ({ ...r, autoApply: true })), {
      channel: info.channel,
      communicationType: info.communicationType,
      message: { id: info.messageId, name: info.messageName },
      sending: { id: sendingId },
      contact,
      tracked: contact !== null,
      trackingToken,
    });
  }
}
