import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';
import { badInput } from '../../domain/errors.js';
import { verifyProjectLedger } from '../../services/ledger.service.js';
import { Id, iso, Nullable, ProjectParams, problemResponses, Timestamp } from '../schemas.js';
import { projectIdFor } from './project-access.js';

const AuditEntryView = Type.Object({
  id: Id,
  at: Timestamp,
  actor: Type.String({ description: '`user:<email>`, `key:<keyId>` or `admin`' }),
  action: Type.String({ description: 'e.g. `contacts.tracking-consent`, `projects.update`, `keys.create`' }),
  object: Type.String({ description: 'the path acted on, e.g. `projects/1/contacts/42/tracking-consent`' }),
  outcome: Type.Union([Type.Literal('ok'), Type.Literal('refused'), Type.Literal('failed')]),
  status: Type.Integer({ description: 'HTTP status of the answer' }),
  detail: Type.Optional(Type.String({ description: 'what changed, e.g. `tracking.mode: "opt-out" → "opt-in"`' })),
});

const When = Type.String({ format: 'date-time' });

function instant(field: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw badInput(field, 'must be an ISO 8601 date-time');
  return ms;
}

export function auditRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['privacy'];

  r.get(
    '/api/v1/projects/:pid/audit-log',
    {
      schema: {
        tags,
        summary: "The project's audit log, newest first, cursor-paged (owner and privacy; keys need the admin scope)",
        params: ProjectParams,
        querystring: Type.Object(
          {
            actor: Type.Optional(Type.String({ maxLength: 300 })),
            action: Type.Optional(Type.String({ maxLength: 100 })),
            since: Type.Optional(When),
            until: Type.Optional(When),
            cursor: Type.Optional(Id),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(AuditEntryView), nextCursor: Nullable(Type.String()) }), ...problemResponses, 403: Type.Ref('Problem') },
      },
    },
    async (request) => {
      const pid = projectIdFor(ctx, request, request.params.pid);
      await ctx.projects.get(pid);
      const { actor, action, since, until, cursor, limit } = request.query;
      const filter = {
        ...(actor !== undefined ? { actor } : {}),
        ...(action !== undefined ? { action } : {}),
        ...(since !== undefined ? { since: instant('since', since) } : {}),
        ...(until !== undefined ? { until: instant('until', until) } : {}),
      };
      const page = await ctx.audit.page(pid, filter, cursor, limit ?? 50);
      return {
        items: page.items.map((row) => ({
          id: String(row.id),
          at: iso(row.at),
          actor: row.actor,
          action: row.action,
          object: row.object,
          outcome: row.outcome as 'ok' | 'refused' | 'failed',
          status: row.status,
          ...(row.detail ? { detail: row.detail } : {}),
        })),
        nextCursor: page.nextCursor,
      };
    },
  );

  r.post(
    '/api/v1/projects/:pid/ledger/verify',
    {
      schema: {
        tags,
        summary: "Checks the project's consent-history hash chain (owner and privacy): ok, how many entries, and the first broken one",
        params: ProjectParams,
        response: {
          200: Type.Object({
            ok: Type.Boolean(),
            entries: Type.Integer(),
            firstBroken: Type.Optional(Type.Object({ id: Nullable(Id), seq: Type.Integer(), reason: Type.String() })),
          }),
          ...problemResponses,
          403: Type.Ref('Problem'),
        },
      },
    },
    async (request) => {
      const pid = projectIdFor(ctx, request, request.params.pid);
      await ctx.projects.get(pid);
      const report = await verifyProjectLedger(ctx.store.db, pid);
      return {
        ok: report.broken === null,
        entries: report.entries,
        ...(report.broken ? { firstBroken: { id: report.broken.id === null ? null : String(report.broken.id), seq: report.broken.seq, reason: report.broken.reason } } : {}),
      };
    },
  );
}
