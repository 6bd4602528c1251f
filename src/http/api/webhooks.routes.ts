import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';
import { WEBHOOK_EVENTS } from '../../domain/webhook.js';
import type { Webhook, WebhookDelivery } from '../../services/webhooks.service.js';
import { Id, iso, isoOrNull, Nullable, ProjectParams, problemResponses, Timestamp } from '../schemas.js';
import { projectIdFor } from './project-access.js';

const Event = Type.Union([Type.Literal('consent.changed'), Type.Literal('contact.erased'), Type.Literal('contact.unsubscribed')]);
const Events = Type.Array(Event, { minItems: 1, maxItems: WEBHOOK_EVENTS.length, uniqueItems: true });
const Url = Type.String({ minLength: 1, maxLength: 2000, description: 'http(s); loopback and private receivers are refused unless TRACKGUARD_WEBHOOK_ALLOW_PRIVATE=true' });
const Secret = Type.String({ minLength: 1, maxLength: 500, description: 'signs each delivery (X-Trackguard-Signature); never returned' });

const WebhookView = Type.Object({
  id: Id,
  projectId: Id,
  url: Type.String(),
  events: Type.Array(Event),
  active: Type.Boolean(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
const Attempt = Type.Object({ at: Timestamp, statusCode: Nullable(Type.Integer()), error: Nullable(Type.String()) });
const DeliveryView = Type.Object({
  id: Id,
  eventId: Type.String({ description: 'the payload id, also sent as X-Trackguard-Delivery: the idempotency key' }),
  type: Event,
  status: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')]),
  attempts: Type.Integer(),
  lastError: Nullable(Type.String()),
  lastStatusCode: Nullable(Type.Integer()),
  nextAttemptAt: Nullable(Timestamp),
  deliveredAt: Nullable(Timestamp),
  createdAt: Timestamp,
  attemptLog: Type.Array(Attempt),
  payload: Type.Unknown({ description: 'the JSON body delivered' }),
});
const WebhookParams = Type.Object({ pid: Id, wid: Id });
const forbidden = { 403: Type.Ref('Problem') } as const;

// The secret is left out of every view: shown to nobody after creation.
const view = (hook: Webhook) => ({
  id: String(hook.id),
  projectId: String(hook.projectId),
  url: hook.url,
  events: hook.events,
  active: hook.active,
  createdAt: iso(hook.createdAt),
  updatedAt: iso(hook.updatedAt),
});

const deliveryView = (d: WebhookDelivery) => ({
  id: String(d.id),
  eventId: d.eventId,
  type: d.type as (typeof WEBHOOK_EVENTS)[number],
  status: d.status,
  attempts: d.attempts,
  lastError: d.lastError,
  lastStatusCode: d.lastStatusCode,
  nextAttemptAt: d.status === 'pending' ? isoOrNull(d.nextAttemptAt) : null,
  deliveredAt: isoOrNull(d.deliveredAt),
  createdAt: iso(d.createdAt),
  attemptLog: d.attemptLog.map((a) => ({ at: iso(a.at), statusCode: a.statusCode, error: a.error })),
  payload: JSON.parse(d.payload) as unknown,
});

/** Consent webhooks (SPEC §14, issue 15 item 5): CRUD and each webhook's delivery log. */
export function webhookRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['webhooks'];
  const base = '/api/v1/projects/:pid/webhooks';

  r.post(
    base,
    {
      schema: {
        tags,
        summary: 'Create a consent webhook: each event is POSTed as signed JSON, retried with back-off for 24 h',
        params: ProjectParams,
        body: Type.Object({ url: Url, secret: Secret, events: Events, active: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
        response: { 201: WebhookView, ...problemResponses, ...forbidden },
      },
    },
    async (request, reply) => {
      const pid = projectIdFor(ctx, request, request.params.pid);
      return reply.code(201).send(view(await ctx.webhooks.create(pid, request.body)));
    },
  );

  r.get(base, { schema: { tags, summary: "The project's webhooks (never their secret)", params: ProjectParams, response: { 200: Type.Object({ items: Type.Array(WebhookView) }), ...problemResponses, ...forbidden } } }, async (request) => {
    const pid = projectIdFor(ctx, request, request.params.pid);
    return { items: (await ctx.webhooks.list(pid)).map(view) };
  });

  r.get(`${base}/:wid`, { schema: { tags, summary: 'Read a webhook (never its secret)', params: WebhookParams, response: { 200: WebhookView, ...problemResponses, ...forbidden } } }, async (request) => {
    const pid = projectIdFor(ctx, request, request.params.pid);
    return view(await ctx.webhooks.get(pid, Number(request.params.wid)));
  });

  r.patch(
    `${base}/:wid`,
    {
      schema: {
        tags,
        summary: 'Change a webhook: URL (checked again), secret, events, active',
        params: WebhookParams,
        body: Type.Object({ url: Type.Optional(Url), secret: Type.Optional(Secret), events: Type.Optional(Events), active: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
        response: { 200: WebhookView, ...problemResponses, ...forbidden },
      },
    },
    async (request) => {
      const pid = projectIdFor(ctx, request, request.params.pid);
      return view(await ctx.webhooks.update(pid, Number(request.params.wid), request.body));
    },
  );

  r.delete(`${base}/:wid`, { schema: { tags, summary: 'Delete a webhook and its log: queued deliveries are not sent', params: WebhookParams, response: { 204: Type.Null(), ...problemResponses, ...forbidden } } }, async (request, reply) => {
    const pid = projectIdFor(ctx, request, request.params.pid);
    await ctx.webhooks.remove(pid, Number(request.params.wid));
    return reply.code(204).send(null);
  });

  r.get(
    `${base}/:wid/deliveries`,
    {
      schema: {
        tags,
        summary: "A webhook's delivery log, newest first: status, attempts (each with its answer), last error, next attempt",
        params: WebhookParams,
        querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })) }, { additionalProperties: false }),
        response: { 200: Type.Object({ items: Type.Array(DeliveryView) }), ...problemResponses, ...forbidden },
      },
    },
    async (request) => {
      const pid = projectIdFor(ctx, request, request.params.pid);
      return { items: (await ctx.webhooks.deliveries(pid, Number(request.params.wid), request.query.limit ?? 100)).map(deliveryView) };
    },
  );
}
