import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';
import { DEFAULT_KEY_SCOPES, SCOPES } from '../../domain/permissions.js';
import type { ApiKey } from '../../services/projects.service.js';
import { Id, iso, isoOrNull, Nullable, ProjectParams, problemResponses, Timestamp } from '../schemas.js';

const Scope = Type.Union([Type.Literal('read'), Type.Literal('write'), Type.Literal('consent'), Type.Literal('admin')]);
const KeyView = Type.Object({
  id: Id,
  projectId: Id,
  name: Type.String(),
  scopes: Type.Array(Scope),
  createdAt: Timestamp,
  lastUsedAt: Nullable(Timestamp),
});

const keyView = (key: ApiKey) => ({
  id: String(key.id),
  projectId: String(key.projectId),
  name: key.name,
  scopes: key.scopes,
  createdAt: iso(key.createdAt),
  lastUsedAt: isoOrNull(key.lastUsedAt),
});

export function keyRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['keys'];

  r.post(
    '/api/v1/projects/:pid/keys',
    {
      schema: {
        tags,
        summary: `Issue a project key (admin key, owner, or a key with the admin scope); the key is shown once. The body is optional; scopes default to ${DEFAULT_KEY_SCOPES.join(', ')} (admin — the project's tracking settings and keys — only when asked)`,
        params: ProjectParams,
        body: Type.Optional(
          Type.Object(
            {
              name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
              scopes: Type.Optional(Type.Array(Scope, { minItems: 1, maxItems: SCOPES.length, uniqueItems: true })),
            },
            { additionalProperties: false },
          ),
        ),
        response: { 201: Type.Composite([KeyView, Type.Object({ key: Type.String({ description: 'shown once, stored hashed' }) })]), ...problemResponses, 403: Type.Ref('Problem') },
      },
    },
    async (request, reply) => {
      const pid = Number(request.params.pid);
      const issued = await ctx.projects.issueKey(pid, request.body?.name ?? 'default', request.body?.scopes ?? DEFAULT_KEY_SCOPES);
      return reply.code(201).send({ ...keyView(issued), key: issued.key });
    },
  );

  r.get(
    '/api/v1/projects/:pid/keys',
    { schema: { tags, summary: "The project's keys (name, scopes, created, last used; never the secret)", params: ProjectParams, response: { 200: Type.Object({ items: Type.Array(KeyView) }), ...problemResponses, 403: Type.Ref('Problem') } } },
    async (request) => ({ items: (await ctx.projects.listKeys(Number(request.params.pid))).map(keyView) }),
  );

  r.delete(
    '/api/v1/projects/:pid/keys/:kid',
    { schema: { tags, summary: 'Revoke a key: the next request made with it gets 401', params: Type.Object({ pid: Id, kid: Id }), response: { 204: Type.Null(), ...problemResponses, 403: Type.Ref('Problem') } } },
    async (request, reply) => {
      await ctx.projects.revokeKey(Number(request.params.pid), Number(request.params.kid));
      return reply.code(204).send(null);
    },
  );
}
