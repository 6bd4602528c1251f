import type { Config } from '../config.js';
import { toMinute } from '../domain/anonymous-event.js';
import { isTracked } from '../domain/consent.js';
import { type InjectionRule, applyInjection } from '../domain/injection.js';
import { classifyHit } from '../domain/machine.js';
import { type TokenKind, verifyToken } from '../domain/token.js';
import type { Db } from '../store/database.js';
import type { ConsentService } from './consent.service.js';
import type { EventWriter, NewEvent } from './event-writer.js';
import type { InjectionRuleService } from './injection-rules.service.js';
import type { ProjectService } from './projects.service.js';

/** What the tracking routes need of a sending, cached: the hot path reads no sending row per hit. */
interface SendingInfo {
  projectId: number;
  messageId: number;
  messageName: string;
  channel: string;
  communicationType: string;
  injectionRuleIds: number[];
  links: string[];
  startedAt: number | null;
}

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
    private readonly writer: EventWriter,
  ) {}

  private async sendingInfo(sendingId: number): Promise<SendingInfo | undefined> {
    const cached = this.sendings.get(sendingId);
    if (cached && cached.startedAt !== null) return cached;
    const row = await this.db
      .selectFrom('sendings as s')
      .innerJoin('messages as m', (join) => join.onRef('m.project_id', '=', 's.project_id').onRef('m.id', '=', 's.message_id'))
      .select(['s.project_id', 's.message_id', 's.started_at', 'm.name', 'm.channel', 'm.communication_type', 'm.injection_rule_ids'])
      .where('s.id', '=', sendingId)
      .executeTakeFirst();
    if (!row) return undefined;
    const links = await this.db
      .selectFrom('sending_links')
      .select(['idx', 'url'])
      .where('project_id', '=', row.project_id)
      .where('sending_id', '=', sendingId)
      .orderBy('idx')
      .execute();
    const info: SendingInfo = {
      projectId: row.project_id,
      messageId: row.message_id,
      messageName: row.name,
      channel: row.channel,
      communicationType: row.communication_type,
      injectionRuleIds: JSON.parse(row.injection_rule_ids) as number[],
      links: links.map((l) => l.url),
      startedAt: row.started_at,
    };
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
    const project = await this.projects.getCached(info.projectId);
    let contactId: number | null = null;
    if ('contactId' in token.recipient) {
      const consent = await this.consent.consentOf(info.projectId, token.recipient.contactId);
      // Rule 4: consent is checked again now; a withdrawn contact's hit is anonymous.
      if (consent.exists && isTracked({ hasTrackingConsent: consent.value }, project.settings.tracking)) contactId = token.recipient.contactId;
    }
    const deliveredAt = info.startedAt === null ? null : info.startedAt + (token.sentAfterMs ?? 0);
    const classified = classifyHit({ kind, userAgent: request.userAgent, headers: request.headers, deliveredAt, now });
    const counted = request.method !== 'HEAD' && classified.count;
    if (counted) {
      const identified = contactId !== null;
      const event: NewEvent = {
        project_id: info.projectId,
        type: kind,
        contact_id: contactId,
        nonce: identified || !('nonce' in token.recipient) ? null : token.recipient.nonce,
        sending_id: token.sendingId,
        message_id: info.messageId,
        link_idx: kind === 'click' ? token.linkIdx : null,
        channel: info.channel,
        at: identified ? now : toMinute(now),
        device: classified.device,
        machine: classified.machine ? 1 : 0,
        ip: identified ? (request.ip ?? null) : null,
        user_agent: identified ? (request.userAgent?.slice(0, 512) ?? null) : null,
      };
      await this.writer.write(event);
    }
    if (kind === 'open') return { found: true, recorded: counted };
    const location = await this.inject(destination as string, info, token.sendingId, contactId);
    return { found: true, recorded: counted, location };
  }

  /** Injection parameters for the redirect; contact values only for an identified (so tracked) click. */
  private async inject(destination: string, info: SendingInfo, sendingId: number, contactId: number | null): Promise<string> {
    const projectId = info.projectId;
    const rules: InjectionRule[] = (await this.injectionRules.cachedRules(projectId)).filter((r) => r.autoApply || info.injectionRuleIds.includes(r.id));
    if (rules.length === 0) return destination;
    const contact = contactId === null ? null : await this.injectionRules.contactValues(projectId, contactId);
    return applyInjection(destination, rules.map((r) => ({ ...r, autoApply: true })), {
      channel: info.channel,
      communicationType: info.communicationType,
      message: { id: info.messageId, name: info.messageName },
      sending: { id: sendingId },
      contact,
      tracked: contact !== null,
    });
  }
}
