import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';
import { contactLinkPath, signContactLink } from '../../domain/signed-link.js';
import type { SendingTarget } from '../../services/sendings.service.js';
import { issueCsrfToken } from '../forms/csrf.js';
import { hostedFormPage, NO_CONTACT } from '../forms/hosted-page.js';
import { documented } from '../openapi-docs.js';
import { Id, Nullable, ProjectParams, problemResponses } from '../schemas.js';
import { ConfirmationHours, DoubleOptIn, Fields, Texts } from './forms.routes.js';
import { projectFor } from './project-access.js';

const IdOrNumber = Type.Union([Id, Type.Integer({ minimum: 1 })]);
const Channel = Type.Union([Type.Literal('email'), Type.Literal('sms'), Type.Literal('push')]);
const Text = (max: number) => Type.Optional(Nullable(Type.String({ maxLength: max })));
const Target = Type.Union([
  Type.Object({ all: Type.Literal(true) }, { additionalProperties: false }),
  Type.Object({ groupId: IdOrNumber }, { additionalProperties: false }),
  Type.Object({ contactIds: Type.Array(IdOrNumber, { maxItems: 100_000 }) }, { additionalProperties: false }),
]);
const Criteria = documented('Criteria', 'A criteria tree, as a group takes it. See docs/criteria.md');
const Lang = Type.Union([Type.Literal('en'), Type.Literal('fr')]);
const FormKind = Type.Union([Type.Literal('subscription'), Type.Literal('profile'), Type.Literal('tracking-optout'), Type.Literal('unsubscribe')]);

const PreviewView = Type.Object({
  subject: Nullable(Type.String()),
  html: Nullable(Type.String()),
  text: Nullable(Type.String()),
  title: Nullable(Type.String()),
  url: Nullable(Type.String()),
  links: Type.Array(Type.Object({ url: Type.String(), trackingUrl: Type.String() })),
  openPixelUrl: Nullable(Type.String()),
  contact: Nullable(Type.Object({ id: Id, email: Nullable(Type.String()), tracked: Type.Boolean() })),
});

type Preview = Awaited<ReturnType<AppContext['messagePreview']['ofMessage']>>;
const previewView = (p: Preview) => ({
  subject: p.subject,
  html: p.html,
  text: p.text,
  title: p.pushTitle,
  url: p.pushUrl,
  links: p.links,
  openPixelUrl: p.openPixelUrl,
  contact: p.contact && { ...p.contact, id: String(p.contact.id) },
});

/** The visitor of a previewed per-contact page: nobody real. */
const PREVIEW_CONTACT = { ...NO_CONTACT, email: 'name@example.com' };

const targetOf = (t: { all: true } | { groupId: string | number } | { contactIds: (string | number)[] }): SendingTarget =>
  'all' in t ? { all: true } : 'groupId' in t ? { groupId: Number(t.groupId) } : { contactIds: t.contactIds.map(Number) };

/**
 * What the admin app shows before anything is saved or sent: a message as a
 * recipient gets it, who a sending would reach, a criteria tree's count, an
 * injection rule's effect, a hosted form's page. Nothing here changes data.
 */
export function previewRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.post(
    '/api/v1/projects/:pid/messages/:mid/preview',
    {
      schema: {
        tags: ['messages'],
        summary: 'Render a saved message for a contact (or sample values): merge tags filled, tracking links, open pixel and footer as sent',
        params: Type.Object({ pid: Id, mid: Id }),
        body: Type.Optional(Type.Object({ contactId: Type.Optional(IdOrNumber) }, { additionalProperties: false })),
        response: { 200: PreviewView, ...problemResponses },
      },
    },
    async (request) => {
      const project = await projectFor(ctx, request, request.params.pid);
      const contactId = request.body?.contactId;
      return previewView(await ctx.messagePreview.ofMessage(project.id, Number(request.params.mid), contactId === undefined ? undefined : Number(contactId)));
    },
  );

  r.post(
    '/api/v1/projects/:pid/messages/preview',
    {
      bodyLimit: 4 * 1024 * 1024,
      schema: {
        tags: ['messages'],
        summary: 'Render unsaved message content; bad merge tags answer 400 with their field and line',
        params: ProjectParams,
        body: Type.Object(
          {
            channel: Channel,
            name: Type.Optional(Type.String({ maxLength: 200 })),
            communicationType: Type.Optional(Type.String({ maxLength: 100 })),
            subject: Text(1000),
            html: Text(2_000_000),
            text: Text(1_000_000),
            title: Text(1000),
            body: Text(10_000),
            url: Text(4000),
            contactId: Type.Optional(IdOrNumber),
          },
          { additionalProperties: false },
        ),
        response: { 200: PreviewView, ...problemResponses },
      },
    },
    async (request) => {
      const project = await projectFor(ctx, request, request.params.pid);
      const b = request.body;
      const draft = { channel: b.channel, name: b.name, communicationType: b.communicationType, subject: b.subject, html: b.html, text: b.text ?? b.body, pushTitle: b.title, pushUrl: b.url };
      return previewView(await ctx.messagePreview.ofDraft(project.id, draft, b.contactId === undefined ? undefined : Number(b.contactId)));
    },
  );

  r.post(
    '/api/v1/projects/:pid/messages/:mid/recipients',
    {
      schema: {
        tags: ['messages'],
        summary: 'Who a sending of this message to a target would reach now: targeted, and how many of them are tracked / untracked',
        params: Type.Object({ pid: Id, mid: Id }),
        body: Type.Object({ target: Target }, { additionalProperties: false }),
        response: { 200: Type.Object({ targeted: Type.Integer(), tracked: Type.Integer(), untracked: Type.Integer() }), ...problemResponses },
      },
    },
    async (request) => {
      const project = await projectFor(ctx, request, request.params.pid);
      return ctx.sendings.countRecipients(project.id, Number(request.params.mid), targetOf(request.body.target));
    },
  );

  r.post(
    '/api/v1/projects/:pid/groups/count',
    {
      schema: {
        tags: ['groups'],
        summary: 'How many contacts an unsaved criteria tree matches now (a behavioural clause never matches an untracked contact)',
        params: ProjectParams,
        body: Type.Object({ criteria: Criteria }, { additionalProperties: false }),
        response: { 200: Type.Object({ count: Type.Integer() }), ...problemResponses },
      },
    },
    async (request) => {
      const project = await projectFor(ctx, request, request.params.pid);
      return { count: await ctx.segments.countCriteria(project.id, request.body.criteria) };
    },
  );

  r.post(
    '/api/v1/projects/:pid/injection-rules/example',
    {
      schema: {
        tags: ['injection rules'],
        summary: 'The URL a tracked click and an anonymous click are redirected to under a rule (saved: ruleId; or a draft rule)',
        params: ProjectParams,
        body: Type.Object(
          {
            ruleId: Type.Optional(IdOrNumber),
            rule: Type.Optional(Type.Unknown({ description: 'a draft rule, as POST …/injection-rules takes it' })),
            url: Type.String({ minLength: 1, maxLength: 4000 }),
            channel: Type.Optional(Channel),
            communicationType: Type.Optional(Type.String({ maxLength: 100 })),
            contactId: Type.Optional(IdOrNumber),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            url: Type.String(),
            matches: Type.Boolean(),
            tracked: Type.String(),
            anonymous: Type.String(),
            withheldFromAnonymous: Type.Array(Type.String()),
            contact: Nullable(Type.Object({ id: Id, email: Nullable(Type.String()) })),
          }),
          ...problemResponses,
        },
      },
    },
    async (request) => {
      const project = await projectFor(ctx, request, request.params.pid);
      const b = request.body;
      const example = await ctx.injectionRules.example(project.id, {
        ruleId: b.ruleId === undefined ? undefined : Number(b.ruleId),
        rule: b.rule,
        url: b.url,
        channel: b.channel,
        communicationType: b.communicationType,
        contactId: b.contactId === undefined ? undefined : Number(b.contactId),
      });
      return { ...example, contact: example.contact && { id: String(example.contact.id), email: example.contact.email } };
    },
  );

  r.post(
    '/api/v1/projects/:pid/forms/preview',
    {
      schema: {
        tags: ['forms'],
        summary: 'The HTML page a hosted form serves, for a saved form (formId, with unsaved changes laid over it) or a draft, in one language',
        params: ProjectParams,
        body: Type.Object(
          {
            formId: Type.Optional(IdOrNumber),
            kind: Type.Optional(FormKind),
            lang: Lang,
            fields: Type.Optional(Fields),
            trackingConsentField: Type.Optional(Type.Boolean()),
            offerTrackingOptOut: Type.Optional(Type.Boolean()),
            doubleOptIn: Type.Optional(DoubleOptIn),
            confirmationHours: Type.Optional(ConfirmationHours),
            texts: Type.Optional(Texts),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ lang: Lang, path: Type.String(), html: Type.String() }), ...problemResponses },
      },
    },
    async (request) => {
      const project = await projectFor(ctx, request, request.params.pid);
      const b = request.body;
      const { form } = await ctx.forms.previewForm(project.id, {
        formId: b.formId === undefined ? undefined : Number(b.formId),
        kind: b.kind,
        fields: b.fields,
        trackingConsentField: b.trackingConsentField,
        offerTrackingOptOut: b.offerTrackingOptOut,
        doubleOptIn: b.doubleOptIn,
        confirmationHours: b.confirmationHours,
        texts: b.texts,
      });
      const { secrets } = ctx.config;
      // A per-contact page is shown for a contact that does not exist (id 0): its links lead nowhere.
      const path = form.kind === 'subscription' ? `/f/subscribe/${form.id}` : contactLinkPath(form.kind, signContactLink(secrets, form.kind, project.id, NO_CONTACT.id));
      const optOutPath = contactLinkPath('tracking-optout', signContactLink(secrets, 'tracking-optout', project.id, NO_CONTACT.id));
      const page = hostedFormPage({ frame: { lang: b.lang, project, path }, project, form, contact: PREVIEW_CONTACT, csrf: issueCsrfToken(secrets, path, ctx.clock()), optOutPath });
      return { lang: b.lang, path, html: page.value };
    },
  );
}
