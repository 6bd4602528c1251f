import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';
import type { Group } from '../../services/segments.service.js';
import { Id, iso, Nullable, ProjectParams, problemResponses, Timestamp } from '../schemas.js';
import { documented } from '../openapi-docs.js';
import { ContactView, contactView } from './contacts.routes.js';
import { projectFor } from './project-access.js';

const GroupParams = Type.Object({ pid: Id, gid: Id });
const GroupType = Type.Union([Type.Literal('dynamic'), Type.Literal('static')], { description: 'dynamic: evaluated when used; static: a snapshot of the members' });
const Criteria = documented('Criteria', 'Who the group holds: a criteria tree. A behavioural clause, positive or negated, never matches an untracked contact. See docs/criteria.md');
const Name = Type.String({ minLength: 1, maxLength: 200 });

const GroupView = Type.Object({
  id: Id,
  name: Type.String(),
  type: GroupType,
  criteria: documented('Criteria'),
  refreshedAt: Nullable(Timestamp),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

function view(group: Group) {
  return {
    id: String(group.id),
    name: group.name,
    type: group.type,
    criteria: group.criteria,
    refreshedAt: group.refreshedAt === null ? null : iso(group.refreshedAt),
    createdAt: iso(group.createdAt),
    updatedAt: iso(group.updatedAt),
  };
}

export function groupRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['groups'];

  r.post(
    '/api/v1/projects/:pid/groups',
    {
      schema: {
        tags,
        summary: 'Create a group (a static group snapshots its members now)',
        params: ProjectParams,
        body: Type.Object({ name: Name, type: Type.Optional(GroupType), criteria: Criteria }, { additionalProperties: false }),
        response: { 201: GroupView, ...problemResponses },
      },
    },
    async (request, reply) => {
      const project = await projectFor(ctx, request, request.params.pid);
      const group = await ctx.segments.create(project.id, request.body);
      return reply.code(201).send(view(group));
    },
  );

  r.get(
    '/api/v1/projects/:pid/groups',
    { schema: { tags, summary: "The project's groups", params: ProjectParams, response: { 200: Type.Object({ items: Type.Array(GroupView) }), ...problemResponses } } },
    async (request) => {
      const project = await projectFor(ctx, request, request.params.pid);
      return { items: (await ctx.segments.list(project.id)).map(view) };
    },
  );

  r.get(
    '/api/v1/projects/:pid/groups/:gid',
    { schema: { tags, summary: 'One group', params: GroupParams, response: { 200: GroupView, ...problemResponses } } },
    async (request) => {
      const project = await projectFor(ctx, request, request.params.pid);
      return view(await ctx.segments.get(project.id, Number(request.params.gid)));
    },
  );

  r.patch(
    '/api/v1/projects/:pid/groups/:gid',
    {
      schema: {
        tags,
        summary: 'Change a group (new criteria on a static group take a new snapshot)',
        params: GroupParams,
        body: Type.Object({ name: Type.Optional(Name), type: Type.Optional(GroupType), criteria: Type.Optional(Criteria) }, { additionalProperties: false }),
        response: { 200: GroupView, ...problemResponses },
      },
    },
    async (request) => {
      const project = await projectFor(ctx, request, request.params.pid);
      return view(await ctx.segments.update(project.id, Number(request.params.gid), request.body));
    },
  );

  r.delete(
    '/api/v1/projects/:pid/groups/:gid',
    { schema: { tags, summary: 'Delete a group', params: GroupParams, response: { 204: Type.Null(), ...problemResponses } } },
    async (request, reply) => {
      const project = await projectFor(ctx, request, request.params.pid);
      await ctx.segments.delete(project.id, Number(request.params.gid));
      return reply.code(204).send(null);
    },
  );

  r.post(
    '/api/v1/projects/:pid/groups/:gid/refresh',
    { schema: { tags, summary: "Take a new snapshot of a static group's members", params: GroupParams, response: { 200: GroupView, ...problemResponses } } },
    async (request) => {
      const project = await projectFor(ctx, request, request.params.pid);
      return view(await ctx.segments.refresh(project.id, Number(request.params.gid)));
    },
  );

  r.get(
    '/api/v1/projects/:pid/groups/:gid/count',
    {
      schema: { tags, summary: 'How many contacts the group holds now (one SQL count)', params: GroupParams, response: { 200: Type.Object({ count: Type.Integer() }), ...problemResponses } },
    },
    async (request) => {
      const project = await projectFor(ctx, request, request.params.pid);
      return { count: await ctx.segments.count(project.id, Number(request.params.gid)) };
    },
  );

  r.get(
    '/api/v1/projects/:pid/groups/:gid/contacts',
    {
      schema: {
        tags,
        summary: "The group's contacts in id order, with cursor paging",
        params: GroupParams,
        querystring: Type.Object({ cursor: Type.Optional(Id), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })) }),
        response: { 200: Type.Object({ items: Type.Array(ContactView), nextCursor: Nullable(Type.String()) }), ...problemResponses },
      },
    },
    async (request) => {
      const project = await projectFor(ctx, request, request.params.pid);
      const { cursor, limit } = request.query;
      const page = await ctx.segments.contacts(project.id, Number(request.params.gid), { limit: limit ?? 100, ...(cursor ? { cursor: Number(cursor) } : {}) });
      return { items: page.items.map((c) => contactView(ctx, project, c)), nextCursor: page.nextCursor };
    },
  );
}
