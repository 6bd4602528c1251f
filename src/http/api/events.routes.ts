import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';
import { ProjectParams, problemResponses } from '../schemas.js';
import { projectFor } from './project-access.js';

export function eventRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.post(
    '/api/v1/projects/:pid/events',
    {
      schema: {
        tags: ['events'],
        summary: 'Record a web or app event for a contact: identified if the contact is tracked now, anonymous otherwise (and anonymous with `Sec-GPC: 1` while `tracking.honorGpc` is on)',
        params: ProjectParams,
        body: Type.Object(
          {
            email: Type.Optional(Type.String({ maxLength: 254 })),
            externalId: Type.Optional(Type.String({ maxLength: 255 })),
            type: Type.String({ minLength: 1, maxLength: 100, description: '`web` / `page_view` for a page view, or a custom event type' }),
            name: Type.Optional(Type.String({ maxLength: 200 })),
            url: Type.Optional(Type.String({ maxLength: 2000 })),
            at: Type.Optional(Type.String({ description: 'ISO 8601; default now' })),
          },
          { additionalProperties: false },
        ),
        response: { 202: Type.Object({ recorded: Type.Boolean(), identified: Type.Boolean() }), ...problemResponses },
      },
    },
    async (request, reply) => {
      const project = await projectFor(ctx, request, request.params.pid);
      const { identified } = await ctx.webEvents.record(project.id, request.body, { gpc: request.headers['sec-gpc'] });
      return reply.code(202).send({ recorded: true, identified });
    },
  );
}
