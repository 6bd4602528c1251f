import { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';
import { type Sending, type SendingTarget, sendingWarnings } from '../../services/sendings.service.js';
import { documented } from '../openapi-docs.js';
import { ExcludedCounts, Id, iso, isoOrNull, Nullable, ProjectParams, problemResponses, Timestamp } from '../schemas.js';
import { projectFor } from './project-access.js';

const IdOrNumber = Type.Union([Id, Type.Integer({ minimum: 1 })]);
const Target = Type.Union([
  Type.Object({ all: Type.Literal(true) }, { additionalProperties: false }),
  Type.Object({ groupId: IdOrNumber }, { additionalProperties: false }),
  Type.Object({ contactIds: Type.Array(IdOrNumber, { maxItems: 100_000 }) }, { additionalProperties: false }),
]);

const Warnings = Type.Array(
  Type.Object({ code: Type.Literal('MessagesLost'), count: Type.Integer(), message: Type.String() }),
  { description: 'what the figures warn of; a sending that lost messages to a crash still ends `sent`, with a MessagesLost warning' },
);

const Excluded = Nullable(ExcludedCounts, {
  description:
    "the target's contacts the sending leaves out, counted with `targeted` (so the group's count = targeted + these); each contact once, under its status first, then its missing address; null on sendings counted before they were recorded",
});

const SendingView = Type.Object({
  id: Id,
  messageId: Id,
  target: documented('SendingTarget'),
  status: Type.Union([Type.Literal('queued'), Type.Literal('sending'), Type.Literal('sent'), Type.Literal('failed'), Type.Literal('cancelled')], {
    description: 'queued (a scheduled one until its time) → sending → sent | failed; cancelled: stopped before it started',
  }),
  targeted: Type.Integer(),
  excluded: Excluded,
  tracked: Type.Integer(),
  untracked: Type.Integer(),
  delivered: Type.Integer(),
  failed: Type.Integer(),
  lost: Type.Integer({ description: 'messages a crashed worker had handed to the transport and never recorded: whether they arrived is unknown; never sent again' }),
  warnings: Warnings,
  error: Nullable(Type.String()),
  createdAt: Timestamp,
  scheduledAt: Nullable(Timestamp),
  startedAt: Nullable(Timestamp),
  finishedAt: Nullable(Timestamp),
  cancelledAt: Nullable(Timestamp),
});

function view(s: Sending) {
  return {
    id: String(s.id),
    messageId: String(s.messageId),
    target: s.target,
    status: s.status,
    targeted: s.targeted,
    excluded: s.excluded,
    tracked: s.tracked,
    untracked: s.untracked,
    delivered: s.delivered,
    failed: s.failed,
    lost: s.lost,
    warnings: sendingWarnings(s),
    error: s.error,
    createdAt: iso(s.createdAt),
    scheduledAt: isoOrNull(s.scheduledAt),
    startedAt: isoOrNull(s.startedAt),
    finishedAt: isoOrNull(s.finishedAt),
    cancelledAt: isoOrNull(s.cancelledAt),
  };
}

const Count = Type.Object({ total: Type.Integer(), unique: Type.Integer(), machine: Type.Integer(), human: Type.Integer() });
const ReportView = Type.Object({
  sendingId: Id,
  status: Type.String(),
  recipients: Type.Object(
    {
      targeted: Type.Integer(),
      tracked: Type.Integer({ description: 'tracked when the sending ran' }),
      untracked: Type.Integer({ description: 'untracked when the sending ran' }),
      delivered: Type.Integer(),
      failed: Type.Integer(),
      trackedNow: Type.Integer({ description: 'delivered recipients tracked today: the contacts listed' }),
      untrackedNow: Type.Integer({ description: 'delivered recipients untracked today (withdrawals since the sending included): the legend' }),
      notDelivered: Type.Integer({ description: 'targeted but not delivered (failed, lost, or skipped when their turn came)' }),
      lost: Type.Integer({ description: 'handed to the transport by a worker that crashed before recording them: delivery unknown' }),
    },
    { description: 'targeted = trackedNow + untrackedNow + notDelivered' },
  ),
  excluded: Excluded,
  warnings: Warnings,
  opens: Count,
  clicks: Count,
  links: Type.Array(Type.Object({ url: Type.String(), total: Type.Integer(), unique: Type.Integer(), machine: Type.Integer() })),
  timeline: Type.Array(Type.Object({ at: Type.String(), opens: Type.Integer(), clicks: Type.Integer() })),
  contacts: Type.Array(Type.Object({ contactId: Id, email: Nullable(Type.String()), opens: Type.Integer(), clicks: Type.Integer() })),
  contactsTruncated: Type.Boolean(),
  legend: Type.Object({ untrackedContacts: Type.Integer({ description: 'untracked recipients today' }), untrackedAtSending: Type.Integer(), text: Type.String() }),
  tracking: Type.Object(
    {
      opens: Type.Object({ tracked: Type.Integer(), anonymous: Type.Integer() }),
      clicks: Type.Object({ tracked: Type.Integer(), anonymous: Type.Integer() }),
    },
    { description: 'events of identified (tracked) recipients vs anonymous ones; they add up to the totals' },
  ),
  suppressed: Type.Optional(
    Type.Object(
      { reason: Type.String(), k: Type.Integer() },
      { description: 'small-group protection: fewer than k untracked recipients, so every figure counts the listed tracked contacts only' },
    ),
  ),
});

const SendingParams = Type.Object({ pid: Id, sid: Id });

export function sendingRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['sendings'];

  r.post(
    '/api/v1/projects/:pid/sendings',
    {
      schema: {
        tags,
        summary:
          'Send a message to all active contacts, a group or a list of contact ids (a background job; poll until status is sent), now or at scheduledAt (it then reaches the contacts that exist at that time)',
        params: ProjectParams,
        body: Type.Object(
          {
            messageId: IdOrNumber,
            target: Target,
            scheduledAt: Type.Optional(Type.String({ format: 'date-time', description: 'ISO 8601 date-time, up to a year ahead; the sending stays queued (and can be cancelled) until then' })),
          },
          { additionalProperties: false },
        ),
        response: { 201: SendingView, ...problemResponses },
      },
    },
    async (request, reply) => {
      const project = await projectFor(ctx, request, request.params.pid);
      const t = request.body.target;
      const target: SendingTarget = 'all' in t ? { all: true } : 'groupId' in t ? { groupId: Number(t.groupId) } : { contactIds: t.contactIds.map(Number) };
      const scheduledAt = request.body.scheduledAt === undefined ? undefined : Date.parse(request.body.scheduledAt);
      const sending = await ctx.sendings.create(project.id, { messageId: Number(request.body.messageId), target, ...(scheduledAt === undefined ? {} : { scheduledAt }) });
      return reply.code(201).send(view(sending));
    },
  );

  r.post(
    '/api/v1/projects/:pid/sendings/:sid/cancel',
    {
      schema: {
        tags,
        summary: 'Cancel a sending that has not started (queued, or scheduled for later): it ends cancelled and sends nothing; 409 SendingStarted once it has started',
        params: SendingParams,
        response: { 200: SendingView, ...problemResponses, 409: Type.Ref('Problem') },
      },
    },
    async (request) => {
      const project = await projectFor(ctx, request, request.params.pid);
      return view(await ctx.sendings.cancel(project.id, Number(request.params.sid)));
    },
  );

  r.get(
    '/api/v1/projects/:pid/sendings',
    { schema: { tags, summary: 'List sendings, newest first', params: ProjectParams, response: { 200: Type.Object({ items: Type.Array(SendingView) }), ...problemResponses } } },
    async (request) => {
      const project = await projectFor(ctx, request, request.params.pid);
      return { items: (await ctx.sendings.list(project.id)).map(view) };
    },
  );

  r.get(
    '/api/v1/projects/:pid/sendings/:sid',
    { schema: { tags, summary: 'Read a sending and its progress', params: SendingParams, response: { 200: SendingView, ...problemResponses } } },
    async (request) => {
      const project = await projectFor(ctx, request, request.params.pid);
      return view(await ctx.sendings.get(project.id, Number(request.params.sid)));
    },
  );

  r.get(
    '/api/v1/projects/:pid/sendings/:sid/report',
    {
      schema: {
        tags,
        summary: 'Sending results: every event counts; only tracked contacts are listed, untracked ones are counted in the legend',
        params: SendingParams,
        response: { 200: ReportView, ...problemResponses },
      },
    },
    async (request) => {
      const project = await projectFor(ctx, request, request.params.pid);
      return ctx.reports.sendingReport(project.id, Number(request.params.sid));
    },
  );

  r.get(
    '/api/v1/projects/:pid/sendings/:sid/events',
    {
      schema: {
        tags,
        summary:
          "Export a sending's events as CSV or NDJSON (streamed; anonymous events have no contact; with small-group protection in force, only the listed contacts' events and an X-Trackguard-Suppressed header)",
        params: SendingParams,
        querystring: Type.Object({ format: Type.Optional(Type.Union([Type.Literal('csv'), Type.Literal('ndjson')], { default: 'csv' })) }),
      },
    },
    async (request, reply) => {
      const project = await projectFor(ctx, request, request.params.pid);
      const sending = await ctx.sendings.get(project.id, Number(request.params.sid));
      const format = request.query.format ?? 'csv';
      reply.type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson');
      reply.header('content-disposition', `attachment; filename="sending-${sending.id}-events.${format}"`);
      const suppressed = await ctx.reports.smallGroup(project, sending);
      if (suppressed) reply.header('x-trackguard-suppressed', `${suppressed.reason}; k=${suppressed.k}`);
      return reply.send(Readable.from(ctx.exports.sendingEvents(project.id, sending.id, format, project.settings.tracking, { listedOnly: suppressed !== null })));
    },
  );
}
