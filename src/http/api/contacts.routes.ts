import { trackingModuleHint, trackingModuleOf } from '../../domain/tracking-module.js';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { parseConsentDate } from '../../domain/consent.js';
import { type Contact, isValidEmail, normalizeEmail } from '../../domain/contact.js';
import { badInput } from '../../domain/errors.js';
import type { AppContext } from '../../context.js';
import { MAX_MERGE_RECORDS } from '../../services/contacts.service.js';
import type { Project } from '../../services/projects.service.js';
import type { ConsentHistoryRow } from '../../store/consent-history.js';
import { actorOf, authorize, consentSource } from '../auth.js';
import { projectFor } from './project-access.js';
import { ContactParams, Id, iso, isoOrNull, Nullable, ProjectParams, problemResponses, Timestamp } from '../schemas.js';

const TrackingStatus = Type.Union([Type.Literal('accepted'), Type.Literal('refused'), Type.Literal('unanswered')]);

export const ContactView = Type.Object({
  id: Id,
  email: Nullable(Type.String()),
  externalId: Nullable(Type.String()),
  phone: Nullable(Type.String()),
  fields: Type.Record(Type.String(), Type.Unknown()),
  status: Type.String(),
  hasTrackingConsent: Nullable(Type.Boolean()),
  dtTrackingConsent: Nullable(Timestamp),
  trackingStatus: TrackingStatus,
  tracked: Type.Boolean(),
  trackingModule: Type.Union([Type.Literal('on'), Type.Literal('off')], { description: "the project's tracking module: while off, consent is recorded but not applied (every contact tracked)" }),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

export const ConsentEntryView = Type.Object({
  id: Id,
  contactId: Nullable(Id),
  action: Type.String(),
  date: Timestamp,
  recordedAt: Timestamp,
  source: Type.String(),
  ip: Type.Optional(Type.String()),
  userAgent: Type.Optional(Type.String()),
  wordingHash: Type.Optional(Type.String()),
  detail: Type.Optional(Type.String()),
  hash: Type.String(),
  prevHash: Type.String(),
});

export function contactView(ctx: AppContext, project: Project, contact: Contact) {
  return {
    id: String(contact.id),
    email: contact.email,
    externalId: contact.externalId,
    phone: contact.phone,
    fields: contact.fields,
    status: contact.status,
    hasTrackingConsent: contact.hasTrackingConsent,
    dtTrackingConsent: isoOrNull(contact.dtTrackingConsent),
    ...ctx.contacts.trackingOf(project, contact),
    trackingModule: trackingModuleOf(project.settings.tracking),
    createdAt: iso(contact.createdAt),
    updatedAt: iso(contact.updatedAt),
  };
}

export function consentEntryView(row: ConsentHistoryRow) {
  return {
    id: String(row.id),
    contactId: row.contact_id === null ? null : String(row.contact_id),
    action: row.action,
    date: iso(row.date),
    recordedAt: iso(row.recorded_at),
    source: row.source,
    ...(row.ip ? { ip: row.ip } : {}),
    ...(row.user_agent ? { userAgent: row.user_agent } : {}),
    ...(row.wording_hash ? { wordingHash: row.wording_hash } : {}),
    ...(row.detail ? { detail: row.detail } : {}),
    hash: row.hash,
    prevHash: row.prev_hash,
  };
}

const MergeRecordSchema = Type.Object(
  {
    email: Type.Optional(Type.Unknown({ description: 'string; unique per project, compared trimmed and lower-cased' })),
    externalId: Type.Optional(Type.Unknown({ description: 'string; unique per project' })),
    phone: Type.Optional(Type.Unknown({ description: 'string' })),
    fields: Type.Optional(Type.Unknown({ description: 'object of custom fields, merged into the existing ones' })),
    status: Type.Optional(Type.Unknown({ description: 'active | inactive | quarantine' })),
    hasTrackingConsent: Type.Optional(Type.Unknown({ description: '1 / 0 / true / false (booleans, numbers or strings); null resets' })),
    dtTrackingConsent: Type.Optional(Type.Unknown({ description: 'ISO 8601, YYYY.MM.DD or YYYY-MM-DD; default now' })),
    returning: Type.Optional(
      Type.Unknown({
        description:
          'true: the person asked to come back after an erasure. Without it, a record whose email was erased from the project is rejected (reason erased); with it, the contact is created and a `returning` entry recorded in the consent history',
      }),
    ),
  },
  { description: 'Each record is validated on its own: a bad record is rejected in its result and never fails the others.' },
);

const MergeResultView = Type.Object({
  index: Type.Integer(),
  contactId: Type.Optional(Id),
  result: Type.Union([Type.Literal('created'), Type.Literal('updated'), Type.Literal('unchanged'), Type.Literal('rejected')]),
  consent: Type.Union([Type.Literal('applied'), Type.Literal('stale'), Type.Literal('none')]),
  error: Type.Optional(Type.String()),
  reason: Type.Optional(Type.Literal('erased', { description: 'rejected because the address was erased (send returning: true if the person asked to come back)' })),
});


export function contactRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['contacts'];

  r.post(
    '/api/v1/projects/:pid/contacts/merge',
    {
      bodyLimit: 16 * 1024 * 1024,
      config: { perRecordText: true },
      schema: {
        tags,
        summary: `Batch upsert of up to ${MAX_MERGE_RECORDS} contacts, keyed by email and/or externalId`,
        params: ProjectParams,
        body: Type.Object(
          {
            records: Type.Array(MergeRecordSchema, { minItems: 1, maxItems: MAX_MERGE_RECORDS }),
            type: Type.Optional(Type.Union([Type.Literal('upsert'), Type.Literal('add-only'), Type.Literal('update-only')])),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            results: Type.Array(MergeResultView),
            counts: Type.Object({ created: Type.Integer(), updated: Type.Integer(), unchanged: Type.Integer(), rejected: Type.Integer(), consentApplied: Type.Integer(), consentStale: Type.Integer() }),
            trackingModule: Type.Union([Type.Literal('on'), Type.Literal('off')]),
            notice: Type.Optional(Type.String({ description: 'present while the tracking module is off: the consent values were recorded but are not applied' })),
          }),
          ...problemResponses,
          413: Type.Ref('Problem'),
        },
      },
    },
    async (request) => {
      const project = await projectFor(ctx, request, request.params.pid);
      // A batch that carries consent values is also a consent change: it needs what PUT …/tracking-consent needs.
      if (request.body.records.some((r) => r.hasTrackingConsent !== undefined || r.dtTrackingConsent !== undefined)) authorize(request, 'contacts.tracking-consent');
      const results = await ctx.contacts.merge(project.id, request.body.records, { type: request.body.type ?? 'upsert', source: actorOf(request.principal) });
      const counts = { created: 0, updated: 0, unchanged: 0, rejected: 0, consentApplied: 0, consentStale: 0 };
      for (const result of results) {
        counts[result.result] += 1;
        if (result.consent === 'applied') counts.consentApplied += 1;
        if (result.consent === 'stale') counts.consentStale += 1;
      }
      const notice = trackingModuleHint(project.settings.tracking, project.id);
      return { results, counts, trackingModule: trackingModuleOf(project.settings.tracking), ...(notice ? { notice } : {}) };
    },
  );

  r.get(
    '/api/v1/projects/:pid/contacts',
    {
      schema: {
        tags,
        summary: 'List contacts, oldest first, with cursor paging',
        params: ProjectParams,
        querystring: Type.Object({
          trackingStatus: Type.Optional(TrackingStatus),
          email: Type.Optional(Type.String({ description: 'exactly this email (normalized)' })),
          search: Type.Optional(Type.String({ maxLength: 200, description: 'part of the email, external id or phone, any case' })),
          cursor: Type.Optional(Id),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
        }),
        response: { 200: Type.Object({ items: Type.Array(ContactView), nextCursor: Nullable(Type.String()) }), ...problemResponses },
      },
    },
    async (request) => {
      const project = await projectFor(ctx, request, request.params.pid);
      const { trackingStatus, email, search, cursor, limit } = request.query;
      if (email !== undefined && !isValidEmail(normalizeEmail(email))) throw badInput('email', `invalid email address ${JSON.stringify(email)}`);
      const page = await ctx.contacts.list(project.id, {
        limit: limit ?? 100,
        ...(trackingStatus ? { trackingStatus } : {}),
        ...(email ? { email } : {}),
        ...(search ? { search } : {}),
        ...(cursor ? { cursor: Number(cursor) } : {}),
      });
      return { items: page.items.map((c) => contactView(ctx, project, c)), nextCursor: page.nextCursor };
    },
  );

  r.get(
    '/api/v1/projects/:pid/contacts/counts',
    {
      schema: {
        tags,
        summary: "How many contacts the project has per tracking status now, and how many are tracked under its settings",
        params: ProjectParams,
        response: {
          200: Type.Object({
            contacts: Type.Integer(),
            accepted: Type.Integer(),
            refused: Type.Integer(),
            unanswered: Type.Integer(),
            tracked: Type.Integer(),
            untracked: Type.Integer(),
          }),
          ...problemResponses,
        },
      },
    },
    async (request) => ctx.contacts.counts(await projectFor(ctx, request, request.params.pid)),
  );

  r.get(
    '/api/v1/projects/:pid/contacts/:cid',
    {
      schema: {
        tags,
        summary: 'The contact card: fields, tracking status, consent history, linked sendings and events',
        params: ContactParams,
        response: {
          200: Type.Composite([
            ContactView,
            Type.Object({
              consentHistory: Type.Array(ConsentEntryView),
              trackingNotice: Nullable(Type.String()),
              sendings: Type.Array(
                Type.Object({ sendingId: Id, messageId: Id, messageName: Type.String(), channel: Type.String(), status: Type.String(), at: Timestamp }),
              ),
              events: Type.Array(Type.Record(Type.String(), Type.Unknown())),
              scores: Type.Record(Type.String(), Type.Number(), { description: 'score per score model id; untracked contacts get no behavioural points' }),
            }),
          ]),
          ...problemResponses,
        },
      },
    },
    async (request) => {
      const project = await projectFor(ctx, request, request.params.pid);
      const contact = await ctx.contacts.get(project.id, Number(request.params.cid));
      const history = await ctx.consent.history(project.id, contact.id);
      const view = contactView(ctx, project, contact);
      // An untracked contact's card shows no sending history and no events (SPEC §5).
      const activity = view.tracked ? await ctx.reports.contactActivity(project.id, contact.id) : { sendings: [], events: [] };
      return {
        ...view,
        consentHistory: history.map(consentEntryView),
        trackingNotice: view.tracked ? trackingModuleHint(project.settings.tracking, project.id) : 'This contact is not targeted by behavioural tracking.',
        ...activity,
        scores: await ctx.scoring.scoresFor(project.id, contact.id),
      };
    },
  );

  r.put(
    '/api/v1/projects/:pid/contacts/:cid/tracking-consent',
    {
      schema: {
        tags,
        summary: "Set one contact's tracking consent (newest date wins; a stale date is reported, not applied)",
        params: ContactParams,
        body: Type.Object(
          {
            consent: Nullable(Type.Boolean({ description: 'true accepts, false refuses, null resets to unanswered' })),
            date: Type.Optional(Type.String({ description: 'ISO 8601, YYYY.MM.DD or YYYY-MM-DD; default now' })),
            source: Type.Optional(Type.String({ pattern: '^(admin:.+|api:.+)$', maxLength: 200, description: 'admin:<user>; default api:<keyId>' })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Composite([ContactView, Type.Object({ consent: Type.Union([Type.Literal('applied'), Type.Literal('stale'), Type.Literal('none')]) })]),
          ...problemResponses,
        },
      },
    },
    async (request) => {
      const project = await projectFor(ctx, request, request.params.pid);
      const now = ctx.clock();
      const date = request.body.date === undefined ? now : parseConsentDate(request.body.date, now, 'date');
      const { decision, contact } = await ctx.consent.setConsent(project.id, Number(request.params.cid), {
        value: request.body.consent,
        date,
        source: consentSource(request.principal, request.body.source),
      });
      return { ...contactView(ctx, project, contact), consent: decision };
    },
  );

  r.get(
    '/api/v1/projects/:pid/contacts/:cid/consent-history',
    {
      schema: { tags, summary: "A contact's consent history, oldest first", params: ContactParams, response: { 200: Type.Array(ConsentEntryView), ...problemResponses } },
    },
    async (request) => {
      const project = await projectFor(ctx, request, request.params.pid);
      const rows = await ctx.consent.history(project.id, Number(request.params.cid));
      return rows.map(consentEntryView);
    },
  );

}
