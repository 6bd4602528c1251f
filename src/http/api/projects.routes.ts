import { trackingModuleHint, trackingModuleOf } from '../../domain/tracking-module.js';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../context.js';
import { canReach, type Project } from '../../services/projects.service.js';
import { auditActor } from '../auth.js';
import { Id, iso, Nullable, ProjectParams, problemResponses, Timestamp } from '../schemas.js';

const TrackingSettings = Type.Object({
  enabled: Type.Boolean({ description: 'tracking module on (off: everyone is tracked, consent fields kept)' }),
  mode: Type.Union([Type.Literal('opt-out'), Type.Literal('opt-in')]),
  anonymizePastOnRefusal: Type.Boolean({ description: 'unlink past events when a contact becomes untracked' }),
  optOutFooter: Type.Boolean({ description: 'append the tracking opt-out link to every email while the module is on' }),
  minAnonymousGroup: Type.Integer({
    minimum: 0,
    maximum: 1000,
    description: 'small-group protection k: a sending with fewer untracked recipients shows and exports no anonymous activity (0 = off, 5 recommended)',
  }),
  honorGpc: Type.Boolean({ description: 'Global Privacy Control: a web event or form request with Sec-GPC: 1 is recorded anonymously' }),
});
const Branding = Type.Object({
  name: Nullable(Type.String()),
  logoUrl: Nullable(Type.String()),
  color: Nullable(Type.String()),
  contact: Nullable(Type.String({ description: "the controller's contact details (e.g. a privacy email address), named on consent receipts" })),
});
const Language = Type.Union([Type.Literal('en'), Type.Literal('fr')], { description: "the language of what trackguard adds to the project's emails (the tracking footer)" });
const FooterText = (what: string) => Type.Optional(Type.String({ maxLength: 500, description: what }));
const FooterTexts = Type.Object(
  {
    tracked: FooterText('the sentence a tracked recipient reads before the preferences link (how to refuse)'),
    untracked: FooterText('the sentence an untracked recipient reads before the preferences link (nothing is measured; how to allow it)'),
    link: FooterText('the label of the tracking preferences link'),
  },
  { additionalProperties: false },
);
const EmailFooter = Type.Object(
  { en: Type.Optional(FooterTexts), fr: Type.Optional(FooterTexts) },
  { additionalProperties: false, description: "the project's own footer texts per language; what is left out keeps the built-in wording" },
);
const Settings = Type.Object({ tracking: TrackingSettings, retentionDays: Type.Integer(), branding: Branding, language: Language, emailFooter: EmailFooter });
const SettingsPatch = Type.Object(
  {
    tracking: Type.Optional(Type.Partial(TrackingSettings, { additionalProperties: false })),
    retentionDays: Type.Optional(Type.Integer({ minimum: 0, maximum: 36500 })),
    branding: Type.Optional(
      Type.Partial(
        Type.Object({
          name: Nullable(Type.String({ maxLength: 200 })),
          logoUrl: Nullable(Type.String({ maxLength: 2000, pattern: '^https?://' })),
          color: Nullable(Type.String({ pattern: '^#[0-9a-fA-F]{6}$' })),
          contact: Nullable(Type.String({ maxLength: 500 })),
        }),
        { additionalProperties: false },
      ),
    ),
    language: Type.Optional(Language),
    emailFooter: Type.Optional(EmailFooter),
  },
  { additionalProperties: false },
);

const ProjectView = Type.Object({
  id: Id,
  name: Type.String(),
  tracking: TrackingSettings,
  retentionDays: Type.Integer(),
  branding: Branding,
  language: Language,
  emailFooter: EmailFooter,
  settings: Settings,
  trackingModule: Type.Union([Type.Literal('on'), Type.Literal('off')], { description: 'tracking.enabled, spelled out: while off, consent is recorded but not applied' }),
  notice: Type.Optional(Type.String({ description: 'present while the tracking module is off: what that means and how to turn it on' })),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

function view(project: Project) {
  return {
    id: String(project.id),
    name: project.name,
    ...project.settings,
    settings: project.settings,
    trackingModule: trackingModuleOf(project.settings.tracking),
    ...(project.settings.tracking.enabled ? {} : { notice: trackingModuleHint(project.settings.tracking, project.id)! }),
    createdAt: iso(project.createdAt),
    updatedAt: iso(project.updatedAt),
  };
}

/** What a settings change changed, for the audit log: `tracking.mode: opt-out → opt-in; …`. */
function settingsChanges(before: Project, after: Project): string {
  const flat = (p: Project): Record<string, unknown> => ({
    name: p.name,
    ...Object.fromEntries(Object.entries(p.settings.tracking).map(([k, v]) => [`tracking.${k}`, v])),
    retentionDays: p.settings.retentionDays,
    ...Object.fromEntries(Object.entries(p.settings.branding).map(([k, v]) => [`branding.${k}`, v])),
    language: p.settings.language,
    emailFooter: p.settings.emailFooter,
  });
  const a = flat(before);
  const b = flat(after);
  return Object.keys(b).filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k])).map((k) => `${k}: ${JSON.stringify(a[k])} → ${JSON.stringify(b[k])}`).join('; ') || 'no change';
}

const Name = Type.String({ minLength: 1, maxLength: 200 });

export function projectRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['projects'];

  r.post(
    '/api/v1/projects',
    {
      schema: {
        tags,
        summary: 'Create a project (admin key)',
        body: Type.Object({ name: Name, settings: Type.Optional(SettingsPatch) }, { additionalProperties: false }),
        response: { 201: ProjectView, ...problemResponses, 403: Type.Ref('Problem') },
      },
    },
    async (request, reply) => {
      let project = await ctx.projects.create(request.body.name);
      if (request.body.settings) project = await ctx.projects.update(project.id, { settings: request.body.settings }, 'admin');
      return reply.code(201).send(view(project));
    },
  );

  r.get(
    '/api/v1/projects',
    { schema: { tags, summary: 'The projects the caller reaches (admin key and owners: all; a project key: its own; other users: the projects they were given)', response: { 200: Type.Object({ items: Type.Array(ProjectView) }), ...problemResponses } } },
    async (request) => {
      const projects = await ctx.projects.list();
      return { items: projects.filter((p) => canReach(request.principal, p.id)).map(view) };
    },
  );

  r.get(
    '/api/v1/projects/:pid',
    { schema: { tags, summary: 'Read a project and its settings', params: ProjectParams, response: { 200: ProjectView, ...problemResponses } } },
    async (request) => {
      const pid = Number(request.params.pid);
      ctx.projects.assertAccess(request.principal, pid);
      return view(await ctx.projects.get(pid));
    },
  );

  r.patch(
    '/api/v1/projects/:pid',
    {
      schema: {
        tags,
        summary: 'Change name and settings (`tracking.enabled`, `tracking.mode`, `tracking.anonymizePastOnRefusal`, `tracking.minAnonymousGroup`, `tracking.honorGpc`, …)',
        params: ProjectParams,
        body: Type.Object(
          {
            name: Type.Optional(Name),
            tracking: Type.Optional(Type.Partial(TrackingSettings, { additionalProperties: false })),
            retentionDays: Type.Optional(Type.Integer({ minimum: 0, maximum: 36500 })),
            branding: Type.Optional(Type.Index(SettingsPatch, ['branding'])),
            language: Type.Optional(Language),
            emailFooter: Type.Optional(EmailFooter),
            settings: Type.Optional(SettingsPatch),
          },
          { additionalProperties: false },
        ),
        response: { 200: ProjectView, ...problemResponses },
      },
    },
    async (request) => {
      const pid = Number(request.params.pid);
      ctx.projects.assertAccess(request.principal, pid);
      const { name, settings, ...topLevel } = request.body;
      const patch = {
        tracking: { ...settings?.tracking, ...topLevel.tracking },
        retentionDays: topLevel.retentionDays ?? settings?.retentionDays,
        branding: { ...settings?.branding, ...topLevel.branding },
        language: topLevel.language ?? settings?.language,
        emailFooter: { ...settings?.emailFooter, ...topLevel.emailFooter },
      };
      const before = await ctx.projects.get(pid);
      const after = await ctx.projects.update(pid, { ...(name ? { name } : {}), settings: patch }, auditActor(request.principal));
      request.auditDetail = settingsChanges(before, after);
      return view(after);
    },
  );
}
