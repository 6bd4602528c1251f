import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';
import type { Message } from '../../services/messages.service.js';
import { Id, iso, Nullable, ProjectParams, problemResponses, Timestamp } from '../schemas.js';
import { projectFor } from './project-access.js';

const Channel = Type.Union([Type.Literal('email'), Type.Literal('sms'), Type.Literal('push')]);

const MessageView = Type.Object({
  id: Id,
  channel: Channel,
  name: Type.String(),
  communicationType: Type.String(),
  subject: Nullable(Type.String()),
  html: Nullable(Type.String()),
  text: Nullable(Type.String()),
  title: Nullable(Type.String()),
  url: Nullable(Type.String()),
  from: Nullable(Type.String()),
  injectionRuleIds: Type.Array(Id),
  links: Type.Array(Type.String()),
  createdAt: Timestamp,
});

function view(message: Message, links: string[]) {
  return {
    id: String(message.id),
    channel: message.channel,
    name: message.name,
    communicationType: message.communicationType,
    subject: message.subject,
    html: message.html,
    text: message.text,
    title: message.pushTitle,
    url: message.pushUrl,
    from: message.from,
    injectionRuleIds: message.injectionRuleIds.map(String),
    links,
    createdAt: iso(message.createdAt),
  };
}

const MessageParams = Type.Object({ pid: Id, mid: Id });

export function messageRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['messages'];
  const Text = (max: number) => Type.Optional(Nullable(Type.String({ maxLength: max })));

  r.post(
    '/api/v1/projects/:pid/messages',
    {
      bodyLimit: 4 * 1024 * 1024,
      schema: {
        tags,
        summary: 'Create a message; merge tags and links are checked now, not at sending time',
        params: ProjectParams,
        body: Type.Object(
          {
            channel: Channel,
            name: Type.String({ minLength: 1, maxLength: 200 }),
            communicationType: Type.String({ minLength: 1, maxLength: 100, description: 'e.g. newsletter, transactional' }),
            subject: Text(1000),
            html: Text(2_000_000),
            text: Text(1_000_000),
            title: Text(1000),
            body: Text(10_000),
            url: Text(4000),
            from: Text(500),
            injectionRuleIds: Type.Optional(Type.Array(Type.Union([Id, Type.Integer({ minimum: 1 })]), { maxItems: 100 })),
          },
          { additionalProperties: false },
        ),
        response: { 201: MessageView, ...problemResponses },
      },
    },
    async (request, reply) => {
      const project = await projectFor(ctx, request, request.params.pid);
      const b = request.body;
      const { message, prepared } = await ctx.messages.create(project.id, {
        channel: b.channel,
        name: b.name,
        communicationType: b.communicationType,
        subject: b.subject ?? null,
        html: b.html ?? null,
        text: b.text ?? b.body ?? null,
        pushTitle: b.title ?? null,
        pushUrl: b.url ?? null,
        from: b.from ?? null,
        injectionRuleIds: (b.injectionRuleIds ?? []).map(Number),
      });
      return reply.code(201).send(view(message, prepared.links));
    },
  );

  r.get(
    '/api/v1/projects/:pid/messages',
    { schema: { tags, summary: 'List messages, newest first', params: ProjectParams, response: { 200: Type.Object({ items: Type.Array(MessageView) }), ...problemResponses } } },
    async (request) => {
      const project = await projectFor(ctx, request, request.params.pid);
      const messages = await ctx.messages.list(project.id);
      return { items: messages.map((m) => view(m, [])) };
    },
  );

  r.get(
    '/api/v1/projects/:pid/messages/:mid',
    { schema: { tags, summary: 'Read a message', params: MessageParams, response: { 200: MessageView, ...problemResponses } } },
    async (request) => {
      const project = await projectFor(ctx, request, request.params.pid);
      const message = await ctx.messages.get(project.id, Number(request.params.mid));
      return view(message, ctx.messages.links(message));
    },
  );
}
