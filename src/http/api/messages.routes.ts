import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';
import { TEST_SEND_MAX } from '../../services/message-test.service.js';
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

  r.patch(
    '/api/v1/projects/:pid/messages/:mid',
    {
      bodyLimit: 4 * 1024 * 1024,
      schema: {
        tags,
        summary: 'Change a message that has not been sent yet (409 MessageAlreadySent once a sending refers to it); its channel is fixed',
        params: MessageParams,
        body: Type.Object(
          {
            name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            communicationType: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
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
        response: { 200: MessageView, ...problemResponses, 409: Type.Ref('Problem') },
      },
    },
    async (request) => {
      const project = await projectFor(ctx, request, request.params.pid);
      const b = request.body;
      const text = b.text !== undefined ? b.text : b.body;
      const { message, prepared } = await ctx.messages.update(project.id, Number(request.params.mid), {
        ...(b.name !== undefined ? { name: b.name } : {}),
        ...(b.communicationType !== undefined ? { communicationType: b.communicationType } : {}),
        ...(b.subject !== undefined ? { subject: b.subject } : {}),
        ...(b.html !== undefined ? { html: b.html } : {}),
        ...(text !== undefined ? { text } : {}),
        ...(b.title !== undefined ? { pushTitle: b.title } : {}),
        ...(b.url !== undefined ? { pushUrl: b.url } : {}),
        ...(b.from !== undefined ? { from: b.from } : {}),
        ...(b.injectionRuleIds !== undefined ? { injectionRuleIds: b.injectionRuleIds.map(Number) } : {}),
      });
      return view(message, prepared.links);
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

  r.delete(
    '/api/v1/projects/:pid/messages/:mid',
    {
      schema: {
        tags,
        summary:
          'Remove a message: it leaves the lists and the API; a sent message stays unchanged for its sendings and reports. 409 MessageInUse while a sending of it has not ended or a campaign not finished sends it',
        params: MessageParams,
        response: { 204: Type.Null(), ...problemResponses, 409: Type.Ref('Problem') },
      },
    },
    async (request, reply) => {
      const project = await projectFor(ctx, request, request.params.pid);
      await ctx.messages.remove(project.id, Number(request.params.mid));
      return reply.code(204).send(null);
    },
  );

  r.post(
    '/api/v1/projects/:pid/messages/:mid/test',
    {
      schema: {
        tags,
        summary: `Test-send a message to up to ${TEST_SEND_MAX} addresses: rendered as a recipient gets it (merge tags from the contact with that address, if any) but not tracked (links go straight to their destination, no pixel, no event), subject prefixed [Test], header X-Trackguard-Test`,
        params: MessageParams,
        body: Type.Object(
          { to: Type.Array(Type.String({ minLength: 1, maxLength: 254 }), { minItems: 1, maxItems: TEST_SEND_MAX, description: 'email addresses (email), phone numbers (SMS) or device ids (push)' }) },
          { additionalProperties: false },
        ),
        response: { 202: Type.Object({ sent: Type.Array(Type.String()) }), ...problemResponses },
      },
    },
    async (request, reply) => {
      const project = await projectFor(ctx, request, request.params.pid);
      const result = await ctx.messageTests.send(project.id, Number(request.params.mid), request.body.to);
      return reply.code(202).send(result);
    },
  );
}
