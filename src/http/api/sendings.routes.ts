import { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';
import type { Sending, SendingTarget } from '../../services/sendings.service.js';
import { Id, iso, isoOrNull, Nullable, ProjectParams, problemResponses, Timestamp } from '../schemas.js';
import { projectFor } from './project-access.js';

const IdOrNumber = Type.Union([Id, Type.Integer({ minimum: 1 })]);
const Target = Type.Union([
  Type.Object({ all: Type.Literal(true) }, { additionalProperties: false }),
  Type.Object({ groupId: IdOrNumber }, { additionalProperties: false }),
  Type.Object({ contactIds: Type.Array(IdOrNumber, { maxItems: 100_000 }) }, { additionalProperties: false }),
]);

const SendingView = Type.Object({
  id: Id,
  messageId: Id,
  target: Type.Unknown(),
  status: Type.Union([Type.Literal('queued'), Type.Literal('sending'), Type.Literal('sent'), Type.Literal('failed')]),
  targeted: Type.Integer(),
  tracked: Type.Integer(),
  untracked: Type.Integer(),
  delivered: Type.Integer(),
  failed: Type.Integer(),
  error: Nullable(Type.String()),
  createdAt: Timestamp,
  startedAt: Nullable(Timestamp),
  finishedAt: Nullable(Timestamp),
});

function view(s: Sending) {
  return {
    id: String(s.id),
    messageId: String(s.messageId),
    target: s.target,
    status: s.status,
    targeted: s.targeted,
    tracked: s.tracked,
    untracked: s.untracked,
    delivered: s.delivered,
    failed: s.failed,
    error: s.error,
    createdAt: iso(s.createdAt),
    startedAt: isoOrNull(s.startedAt),
    finishedAt: isoOrNull(s.finishedAt),
  };
}

const Count = Type.Object({ total: Type.Integer(), unique: Type.Integer(), machine: Type.Integer(), human: Type.Integer() });
const ReportView = Type.Object({
  sendingId: Id,
  status: Type.String(),
  recipients: Type.Object({ targeted: Type.Integer(), tracked: Type.Integer(), untracked: Type.Integer(), delivered: Type.Integer(), failed: Type.Integer() }),
  opens: Count,
  clicks: Count,
  links: Type.Array(Type.Object({ url: Type.String(), total: Type.Integer(), unique: Type.Integer(), machine: Type.Integer() })),
  timeline: Type.Array(Type.Object({ at: Type.String(), opens: Type.Integer(), clicks: Type.Integer() })),
  contacts: Type.Array(Type.Object({ contactId: Id, email: Nullable(Type.String()), opens: Type.Integer(), clicks: Type.Integer() })),
  contactsTruncated: Type.Boolean(),
  legend: Type.Object({ untrackedContacts: Type.Integer(), text: Type.String() }),
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
        summary: 'Send a message to all active contacts, a group or a list of contact ids (a background job; poll until status is sent)',
        params: ProjectParams,
        body: Type.Object({ messageId: IdOrNumber, target: Target }, { additionalProperties: false }),
        response: { 201: SendingView, ...problemResponses },
      },
    },
    async (request, reply) => {
      const project = await projectFor(ctx, request, request.params.pid);
      const t = request.body.target;
      const target: SendingTarget = 'all' in t ? { all: true } : 'groupId' in t ? { groupId: Number(t.groupId) } : { contactIds: t.contactIds.map(Number) };
      const sending = await ctx.sendings.create(project.id, { messageId: Number(request.body.messageId), target });
      return reply.code(201).send(view(sending));
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
