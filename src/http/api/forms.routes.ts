import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';
import { type Form, type FormKind, PER_CONTACT_KINDS, TEXT_KEYS } from '../../domain/form.js';
import { projectIdFor } from './project-access.js';
import { Id, iso, Nullable, ProjectParams, problemResponses, Timestamp } from '../schemas.js';

const Kind = Type.Union([Type.Literal('subscription'), Type.Literal('profile'), Type.Literal('tracking-optout'), Type.Literal('unsubscribe')]);
const Name = Type.String({ minLength: 1, maxLength: 200 });
const FieldName = Type.String({ pattern: '^(email|phone|fields\\.[A-Za-z][A-Za-z0-9_]{0,63})$', description: 'email, phone or fields.<name>' });
export const DoubleOptIn = Type.Boolean({
  description: 'subscription: every submission waits for the confirmation link emailed to the address (an address already known always does)',
});
export const ConfirmationHours = Type.Integer({ minimum: 1, maximum: 720, description: 'subscription: hours a confirmation link stays valid (default 48)' });
export const Fields = Type.Array(FieldName, { maxItems: 30, description: 'fields shown on a subscription or profile form; email is always included, first' });

const LangTexts = Type.Object(
  {
    ...Object.fromEntries(TEXT_KEYS.map((key) => [key, Type.Optional(Type.String({ maxLength: 4000 }))])),
    fieldLabels: Type.Optional(Type.Record(Type.String(), Type.String({ maxLength: 200 }), { description: 'labels by field name, e.g. {"fields.firstName": "Prénom"}' })),
  },
  { additionalProperties: false },
);
export const Texts = Type.Object(
  { en: Type.Optional(LangTexts), fr: Type.Optional(LangTexts) },
  { additionalProperties: false, description: `texts overriding the defaults, per language; keys: ${TEXT_KEYS.join(', ')}, fieldLabels` },
);

const FormView = Type.Object({
  id: Id,
  kind: Kind,
  name: Type.String(),
  fields: Type.Optional(Type.Array(Type.String())),
  trackingConsentField: Type.Optional(Type.Boolean()),
  offerTrackingOptOut: Type.Optional(Type.Boolean()),
  doubleOptIn: Type.Optional(Type.Boolean()),
  confirmationHours: Type.Optional(Type.Integer()),
  texts: Type.Optional(Texts),
  url: Type.Optional(Type.String({ description: 'public page of a subscription form' })),
  default: Type.Optional(Type.Boolean({ description: "unsubscribe, tracking-optout and profile forms: whether messages' links open this one" })),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

const FormParams = Type.Object({ pid: Id, fid: Id });
const DefaultFlag = Type.Boolean({
  description: "unsubscribe, tracking-optout and profile forms: true makes this the form messages' links open (the previous default stops being one); the first form of a kind is the default unless false is given",
});
const Defaults = Type.Object(
  { unsubscribe: Nullable(Id), 'tracking-optout': Nullable(Id), profile: Nullable(Id) },
  { description: "the form each per-contact link of a message opens; null = the built-in page" },
);

function view(ctx: AppContext, form: Form) {
  const url = ctx.forms.urlOf(form);
  return {
    id: String(form.id),
    kind: form.kind,
    name: form.name,
    ...form.spec,
    ...(url ? { url } : {}),
    ...(PER_CONTACT_KINDS.includes(form.kind) ? { default: form.isDefault } : {}),
    createdAt: iso(form.createdAt),
    updatedAt: iso(form.updatedAt),
  };
}

/** `… /forms` CRUD: hosted subscription, profile, tracking opt-out and unsubscribe pages. */
export function formRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['forms'];

  r.post(
    '/api/v1/projects/:pid/forms',
    {
      schema: {
        tags,
        summary: 'Create a hosted form; a subscription form answers with its public url',
        params: ProjectParams,
        body: Type.Object(
          {
            kind: Kind,
            name: Name,
            fields: Type.Optional(Fields),
            trackingConsentField: Type.Optional(Type.Boolean({ description: 'subscription/profile: show the tracking-consent checkbox (never pre-ticked)' })),
            offerTrackingOptOut: Type.Optional(Type.Boolean({ description: 'unsubscribe: offer the tracking opt-out page instead' })),
            doubleOptIn: Type.Optional(DoubleOptIn),
            confirmationHours: Type.Optional(ConfirmationHours),
            texts: Type.Optional(Texts),
            default: Type.Optional(DefaultFlag),
          },
          { additionalProperties: false },
        ),
        response: { 201: FormView, ...problemResponses },
      },
    },
    async (request, reply) => {
      const pid = projectIdFor(ctx, request, request.params.pid);
      const form = await ctx.forms.create(pid, request.body);
      return reply.code(201).send(view(ctx, form));
    },
  );

  r.get(
    '/api/v1/projects/:pid/forms',
    { schema: { tags, summary: "The project's forms, and which one each per-contact link of a message opens", params: ProjectParams, response: { 200: Type.Object({ items: Type.Array(FormView), defaults: Defaults }), ...problemResponses } } },
    async (request) => {
      const pid = projectIdFor(ctx, request, request.params.pid);
      await ctx.projects.get(pid);
      const forms = await ctx.forms.list(pid);
      const defaultOf = (kind: FormKind) => {
        const form = forms.find((f) => f.kind === kind && f.isDefault);
        return form ? String(form.id) : null;
      };
      return { items: forms.map((f) => view(ctx, f)), defaults: { unsubscribe: defaultOf('unsubscribe'), 'tracking-optout': defaultOf('tracking-optout'), profile: defaultOf('profile') } };
    },
  );

  r.get(
    '/api/v1/projects/:pid/forms/:fid',
    { schema: { tags, summary: 'One form', params: FormParams, response: { 200: FormView, ...problemResponses } } },
    async (request) => {
      const pid = projectIdFor(ctx, request, request.params.pid);
      return view(ctx, await ctx.forms.get(pid, Number(request.params.fid)));
    },
  );

  r.patch(
    '/api/v1/projects/:pid/forms/:fid',
    {
      schema: {
        tags,
        summary: "Change a form's name, fields, options or texts (its kind is fixed)",
        params: FormParams,
        body: Type.Object(
          {
            name: Type.Optional(Name),
            fields: Type.Optional(Fields),
            trackingConsentField: Type.Optional(Type.Boolean()),
            offerTrackingOptOut: Type.Optional(Type.Boolean()),
            doubleOptIn: Type.Optional(DoubleOptIn),
            confirmationHours: Type.Optional(ConfirmationHours),
            texts: Type.Optional(Texts),
            default: Type.Optional(DefaultFlag),
          },
          { additionalProperties: false },
        ),
        response: { 200: FormView, ...problemResponses },
      },
    },
    async (request) => {
      const pid = projectIdFor(ctx, request, request.params.pid);
      return view(ctx, await ctx.forms.update(pid, Number(request.params.fid), request.body));
    },
  );

  r.delete(
    '/api/v1/projects/:pid/forms/:fid',
    { schema: { tags, summary: 'Delete a form (its pages then fall back to the defaults)', params: FormParams, response: { 204: Type.Null(), ...problemResponses } } },
    async (request, reply) => {
      const pid = projectIdFor(ctx, request, request.params.pid);
      await ctx.forms.remove(pid, Number(request.params.fid));
      return reply.code(204).send(null);
    },
  );
}
