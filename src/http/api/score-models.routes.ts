import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';
import type { ScoreModel } from '../../services/scoring.service.js';
import { documented } from '../openapi-docs.js';
import { Id, iso, ProjectParams, problemResponses, Timestamp } from '../schemas.js';
import { projectFor } from './project-access.js';

const ModelParams = Type.Object({ pid: Id, mid: Id });
const Name = Type.String({ minLength: 1, maxLength: 200 });
const Rules = documented(
  'ScoreRules',
  'Rules {criteria, points, perOccurrence?, max?, withinDays?}: perOccurrence gives points per matching event (criteria: one behavioural clause), max caps a rule, ' +
    'withinDays is the default window of its behavioural clauses. Untracked contacts get no behavioural points. See docs/criteria.md#score-rules',
);

const ScoreModelView = Type.Object({ id: Id, name: Type.String(), rules: documented('ScoreRules'), createdAt: Timestamp, updatedAt: Timestamp });

function view(model: ScoreModel) {
  return { id: String(model.id), name: model.name, rules: model.rules, createdAt: iso(model.createdAt), updatedAt: iso(model.updatedAt) };
}

export function scoreModelRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['score-models'];

  r.post(
    '/api/v1/projects/:pid/score-models',
    {
      schema: {
        tags,
        summary: 'Create a score model',
        params: ProjectParams,
        body: Type.Object({ name: Name, rules: Rules }, { additionalProperties: false }),
        response: { 201: ScoreModelView, ...problemResponses },
      },
    },
    async (request, reply) => {
      const project = await projectFor(ctx, request, request.params.pid);
      return reply.code(201).send(view(await ctx.scoring.create(project.id, request.body)));
    },
  );

  r.get(
    '/api/v1/projects/:pid/score-models',
    { schema: { tags, summary: "The project's score models", params: ProjectParams, response: { 200: Type.Object({ items: Type.Array(ScoreModelView) }), ...problemResponses } } },
    async (request) => {
      const project = await projectFor(ctx, request, request.params.pid);
      return { items: (await ctx.scoring.list(project.id)).map(view) };
    },
  );

  r.get(
    '/api/v1/projects/:pid/score-models/:mid',
    { schema: { tags, summary: 'One score model', params: ModelParams, response: { 200: ScoreModelView, ...problemResponses } } },
    async (request) => {
      const project = await projectFor(ctx, request, request.params.pid);
      return view(await ctx.scoring.get(project.id, Number(request.params.mid)));
    },
  );

  r.patch(
    '/api/v1/projects/:pid/score-models/:mid',
    {
      schema: {
        tags,
        summary: 'Change a score model (scores follow at once: they are computed when read)',
        params: ModelParams,
        body: Type.Object({ name: Type.Optional(Name), rules: Type.Optional(Rules) }, { additionalProperties: false }),
        response: { 200: ScoreModelView, ...problemResponses },
      },
    },
    async (request) => {
      const project = await projectFor(ctx, request, request.params.pid);
      return view(await ctx.scoring.update(project.id, Number(request.params.mid), request.body));
    },
  );

  r.delete(
    '/api/v1/projects/:pid/score-models/:mid',
    {
      schema: { tags, summary: 'Delete a score model (409 while a group uses it)', params: ModelParams, response: { 204: Type.Null(), ...problemResponses, 409: Type.Ref('Problem') } },
    },
    async (request, reply) => {
      const project = await projectFor(ctx, request, request.params.pid);
      await ctx.scoring.delete(project.id, Number(request.params.mid));
      return reply.code(204).send(null);
    },
  );
}
