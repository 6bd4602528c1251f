import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';
import { Id, Nullable, ProjectParams, problemResponses } from '../schemas.js';
import { projectFor } from './project-access.js';

const Tracking = Type.Object({ enabled: Type.Boolean(), mode: Type.String() });
const Split = Type.Object({
  contacts: Type.Integer(),
  accepted: Type.Integer(),
  refused: Type.Integer(),
  unanswered: Type.Integer(),
  tracked: Type.Integer(),
  untracked: Type.Integer(),
});
const Figures = Type.Object({ total: Type.Integer(), unique: Type.Integer(), machine: Type.Integer() });

const ConsentDashboardView = Type.Object({
  tracking: Tracking,
  now: Split,
  overTime: Type.Array(Type.Object({ date: Type.String(), accepted: Type.Integer(), refused: Type.Integer(), unanswered: Type.Integer() })),
  sources: Type.Array(
    Type.Object({
      source: Type.Union(['import', 'form', 'tracking-optout-form', 'api', 'admin', 'other'].map((s) => Type.Literal(s))),
      accepted: Type.Integer(),
      refused: Type.Integer(),
      reset: Type.Integer(),
    }),
  ),
  sendings: Type.Array(
    Type.Object({
      sendingId: Id,
      messageName: Type.String(),
      at: Type.String(),
      targeted: Type.Integer(),
      tracked: Type.Integer(),
      untracked: Type.Integer(),
      trackedShare: Type.Number(),
      refusals: Type.Integer(),
      optOuts: Type.Integer(),
    }),
  ),
});

const HomeView = Type.Object({
  tracking: Tracking,
  consent: Split,
  sendings: Type.Array(
    Type.Object({
      sendingId: Id,
      messageId: Id,
      messageName: Type.String(),
      channel: Type.String(),
      status: Type.String(),
      createdAt: Type.String(),
      targeted: Type.Integer(),
      tracked: Type.Integer(),
      untracked: Type.Integer(),
      delivered: Type.Integer(),
      opens: Figures,
      clicks: Figures,
      suppressed: Type.Optional(
        Type.Object({ reason: Type.String(), k: Type.Integer() }, { description: 'small-group protection: the figures count the listed tracked contacts only' }),
      ),
    }),
  ),
});

/** Aggregates for the admin app's dashboards and charts: counts only, never an untracked contact. */
export function dashboardRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.get(
    '/api/v1/projects/:pid/dashboard',
    {
      schema: {
        tags: ['dashboards'],
        summary: "The project's home: the last sendings with their key figures, and the consent split now",
        params: ProjectParams,
        querystring: Type.Object({ sendings: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, default: 5 })) }),
        response: { 200: HomeView, ...problemResponses },
      },
    },
    async (request) => {
      const project = await projectFor(ctx, request, request.params.pid);
      return ctx.consentDashboard.home(project.id, request.query.sendings ?? 5);
    },
  );

  r.get(
    '/api/v1/projects/:pid/consent-dashboard',
    {
      schema: {
        tags: ['dashboards'],
        summary:
          'Consent over time (accepted / refused / unanswered at the end of each day, from the history), consent changes by source, and the last sendings with their tracked share and the refusals that followed them',
        params: ProjectParams,
        querystring: Type.Object({
          days: Type.Optional(Type.Integer({ minimum: 1, maximum: 3660, default: 90 })),
          sendings: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 10 })),
        }),
        response: { 200: ConsentDashboardView, ...problemResponses },
      },
    },
    async (request) => {
      const project = await projectFor(ctx, request, request.params.pid);
      return ctx.consentDashboard.consentDashboard(project.id, { days: request.query.days ?? 90, sendings: request.query.sendings ?? 10 });
    },
  );

  r.get(
    '/api/v1/projects/:pid/score-models/:mid/distribution',
    {
      schema: {
        tags: ['score models'],
        summary: "How the project's contacts spread over a model's scores (histogram buckets [from, to))",
        params: Type.Object({ pid: Id, mid: Id }),
        querystring: Type.Object({ buckets: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 10 })) }),
        response: {
          200: Type.Object({
            modelId: Id,
            contacts: Type.Integer(),
            min: Type.Number(),
            max: Type.Number(),
            mean: Type.Number(),
            buckets: Type.Array(Type.Object({ from: Type.Number(), to: Type.Number(), count: Type.Integer() })),
          }),
          ...problemResponses,
        },
      },
    },
    async (request) => {
      const project = await projectFor(ctx, request, request.params.pid);
      return ctx.scoring.distribution(project.id, Number(request.params.mid), request.query.buckets ?? 10);
    },
  );

  r.get(
    '/api/v1/projects/:pid/sendings/:sid/contacts',
    {
      schema: {
        tags: ['sendings'],
        summary: "A sending's tracked contacts with what each did, in id order with cursor paging (untracked contacts are never listed)",
        params: Type.Object({ pid: Id, sid: Id }),
        querystring: Type.Object({ cursor: Type.Optional(Id), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })) }),
        response: {
          200: Type.Object({
            items: Type.Array(Type.Object({ contactId: Id, email: Nullable(Type.String()), opens: Type.Integer(), clicks: Type.Integer() })),
            nextCursor: Nullable(Type.String()),
          }),
          ...problemResponses,
        },
      },
    },
    async (request) => {
      const project = await projectFor(ctx, request, request.params.pid);
      const { cursor, limit } = request.query;
      return ctx.reports.contactsPage(project.id, Number(request.params.sid), { cursor: cursor === undefined ? undefined : Number(cursor), limit: limit ?? 50 });
    },
  );
}
