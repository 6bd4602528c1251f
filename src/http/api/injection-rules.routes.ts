import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';
import type { InjectionRule } from '../../domain/injection.js';
import { Id, ProjectParams, problemResponses } from '../schemas.js';
import { projectFor } from './project-access.js';

const Rule = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  domains: Type.Array(Type.String({ minLength: 1, maxLength: 253 }), { minItems: 1, maxItems: 100 }),
  channels: Type.Optional(Type.Array(Type.String({ enum: ['email', 'sms', 'push'] }))),
  communicationTypes: Type.Optional(Type.Array(Type.String({ maxLength: 100 }))),
  params: Type.Array(Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }), value: Type.String({ maxLength: 500 }) }, { additionalProperties: false }), {
    maxItems: 50,
  }),
  autoApply: Type.Optional(Type.Boolean({ default: true })),
  onlyTrackedContacts: Type.Optional(Type.Boolean({ default: true, description: 'apply only to tracked contacts' })),
});
const RuleView = Type.Composite([Type.Object({ id: Id }), Rule]);
const RuleParams = Type.Object({ pid: Id, rid: Id });

const view = (rule: InjectionRule) => ({ ...rule, id: String(rule.id) });

export function injectionRuleRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['injection rules'];
  const base = '/api/v1/projects/:pid/injection-rules';

  r.post(base, { schema: { tags, summary: 'Create an injection rule (parameters appended to clicked URLs)', params: ProjectParams, body: Type.Object(Rule.properties, { additionalProperties: false }), response: { 201: RuleView, ...problemResponses } } }, async (request, reply) => {
    const project = await projectFor(ctx, request, request.params.pid);
    return reply.code(201).send(view(await ctx.injectionRules.create(project.id, request.body)));
  });
  r.get(base, { schema: { tags, summary: 'List injection rules', params: ProjectParams, response: { 200: Type.Object({ items: Type.Array(RuleView) }), ...problemResponses } } }, async (request) => {
    const project = await projectFor(ctx, request, request.params.pid);
    return { items: (await ctx.injectionRules.list(project.id)).map(view) };
  });
  r.get(`${base}/:rid`, { schema: { tags, summary: 'Read an injection rule', params: RuleParams, response: { 200: RuleView, ...problemResponses } } }, async (request) => {
    const project = await projectFor(ctx, request, request.params.pid);
    return view(await ctx.injectionRules.get(project.id, Number(request.params.rid)));
  });
  r.patch(
    `${base}/:rid`,
    { schema: { tags, summary: 'Change an injection rule', params: RuleParams, body: Type.Partial(Type.Object(Rule.properties), { additionalProperties: false }), response: { 200: RuleView, ...problemResponses } } },
    async (request) => {
      const project = await projectFor(ctx, request, request.params.pid);
      return view(await ctx.injectionRules.update(project.id, Number(request.params.rid), request.body));
    },
  );
  r.delete(`${base}/:rid`, { schema: { tags, summary: 'Delete an injection rule', params: RuleParams, response: { 204: Type.Null(), ...problemResponses } } }, async (request, reply) => {
    const project = await projectFor(ctx, request, request.params.pid);
    await ctx.injectionRules.remove(project.id, Number(request.params.rid));
    return reply.code(204).send(null);
  });
}
