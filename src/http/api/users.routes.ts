import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';
import { AppError, badInput } from '../../domain/errors.js';
import type { User } from '../../services/users.service.js';
import { Id, iso, Nullable, problemResponses, Timestamp } from '../schemas.js';

const Role = Type.Union([Type.Literal('owner'), Type.Literal('marketer'), Type.Literal('privacy'), Type.Literal('viewer')], { description: 'owner: everything; marketer; privacy; viewer: read only' });
const Language = Nullable(Type.Union([Type.Literal('en'), Type.Literal('fr')], { description: 'null until the user chooses' }));
const Email = Type.String({ minLength: 3, maxLength: 254 });
const Password = Type.String({ minLength: 8, maxLength: 1024 });
const UserName = Nullable(Type.String({ maxLength: 200 }));
const ProjectRef = Type.Union([Id, Type.Integer({ minimum: 1 })]);
const ProjectList = Type.Array(ProjectRef, { maxItems: 10_000, description: 'project ids the user reaches (owners reach every project)' });

export const UserView = Type.Object({
  id: Id,
  email: Type.String(),
  name: Nullable(Type.String()),
  role: Role,
  projects: Type.Array(Id, { description: "the projects the user reaches (an owner's: every project)" }),
  language: Language,
  hasPassword: Type.Boolean(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

/** The user as the API shows it; an owner's `projects` are every project. */
export async function userView(ctx: AppContext, user: User) {
  const projects = user.role === 'owner' ? (await ctx.projects.list()).map((p) => p.id) : user.projectIds;
  return {
    id: String(user.id),
    email: user.email,
    name: user.name,
    role: user.role,
    projects: projects.map(String),
    language: user.language,
    hasPassword: user.hasPassword,
    createdAt: iso(user.createdAt),
    updatedAt: iso(user.updatedAt),
  };
}

const UserParams = Type.Object({ uid: Id });

export function userRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['users'];

  r.post(
    '/api/v1/users',
    {
      schema: {
        tags,
        summary: 'Create a user (owner or admin key); without a password the user cannot sign in until one is set',
        body: Type.Object(
          { email: Email, name: Type.Optional(UserName), password: Type.Optional(Password), role: Role, projects: Type.Optional(ProjectList), language: Type.Optional(Language) },
          { additionalProperties: false },
        ),
        response: { 201: UserView, ...problemResponses, 403: Type.Ref('Problem'), 409: Type.Ref('Problem') },
      },
    },
    async (request, reply) => {
      const { projects, ...rest } = request.body;
      const user = await ctx.users.create({ ...rest, projectIds: (projects ?? []).map(Number) });
      return reply.code(201).send(await userView(ctx, user));
    },
  );

  r.get('/api/v1/users', { schema: { tags, summary: 'List users (owner or admin key)', response: { 200: Type.Object({ items: Type.Array(UserView) }), ...problemResponses, 403: Type.Ref('Problem') } } }, async () => {
    const users = await ctx.users.list();
    return { items: await Promise.all(users.map((u) => userView(ctx, u))) };
  });

  r.get('/api/v1/users/:uid', { schema: { tags, summary: 'Read a user (owner or admin key)', params: UserParams, response: { 200: UserView, ...problemResponses, 403: Type.Ref('Problem') } } }, async (request) =>
    userView(ctx, await ctx.users.get(Number(request.params.uid))),
  );

  r.patch(
    '/api/v1/users/:uid',
    {
      schema: {
        tags,
        summary: "Change a user's email, name, password, role, projects or language (owner or admin key); a role or project change applies to their next request",
        params: UserParams,
        body: Type.Object(
          { email: Type.Optional(Email), name: Type.Optional(UserName), password: Type.Optional(Password), role: Type.Optional(Role), projects: Type.Optional(ProjectList), language: Type.Optional(Language) },
          { additionalProperties: false },
        ),
        response: { 200: UserView, ...problemResponses, 403: Type.Ref('Problem'), 409: Type.Ref('Problem') },
      },
    },
    async (request) => {
      const uid = Number(request.params.uid);
      const { projects, ...rest } = request.body;
      const user = await ctx.users.update(uid, { ...rest, ...(projects ? { projectIds: projects.map(Number) } : {}) });
      if (rest.password !== undefined) await ctx.sessions.endOtherSessions(uid, request.principal.kind === 'user' && request.principal.userId === uid ? request.sessionId : undefined);
      return userView(ctx, user);
    },
  );

  r.delete(
    '/api/v1/users/:uid',
    { schema: { tags, summary: 'Remove a user and end their sessions (owner or admin key); the last owner stays', params: UserParams, response: { 204: Type.Null(), ...problemResponses, 403: Type.Ref('Problem'), 409: Type.Ref('Problem') } } },
    async (request, reply) => {
      await ctx.users.remove(Number(request.params.uid));
      return reply.code(204).send(null);
    },
  );

  r.patch(
    '/api/v1/users/me',
    {
      schema: {
        tags,
        summary: 'A signed-in user changes their own language, name or password (a new password needs currentPassword and ends their other sessions)',
        body: Type.Object(
          { language: Type.Optional(Language), name: Type.Optional(UserName), password: Type.Optional(Password), currentPassword: Type.Optional(Type.String({ maxLength: 1024 })) },
          { additionalProperties: false },
        ),
        response: { 200: UserView, ...problemResponses, 403: Type.Ref('Problem') },
      },
    },
    async (request) => {
      const principal = request.principal;
      if (principal.kind !== 'user') throw new AppError('Forbidden', 'Only a signed-in user has an own account: keys manage users through /api/v1/users/{uid}');
      const { currentPassword, ...patch } = request.body;
      if (patch.password !== undefined) {
        if (currentPassword === undefined) throw badInput('currentPassword', 'is required to change the password');
        if (!(await ctx.users.checkPassword(principal.userId, currentPassword))) throw badInput('currentPassword', 'does not match the current password');
      }
      const user = await ctx.users.update(principal.userId, patch);
      if (patch.password !== undefined) await ctx.sessions.endOtherSessions(principal.userId, request.sessionId);
      return userView(ctx, user);
    },
  );
}
