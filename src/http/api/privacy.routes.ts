import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';
import type { ContactExport } from '../../services/privacy.service.js';
import type { Project } from '../../services/projects.service.js';
import { ContactParams, Id, iso, Nullable, problemResponses, Timestamp } from '../schemas.js';
import { ConsentEntryView, ContactView, consentEntryView, contactView } from './contacts.routes.js';
import { actorOf } from '../auth.js';
import { projectFor } from './project-access.js';

const EventExportView = Type.Object({
  id: Id,
  type: Type.String(),
  at: Timestamp,
  machine: Type.Boolean(),
  sendingId: Nullable(Id),
  messageId: Nullable(Id),
  linkUrl: Nullable(Type.String()),
  channel: Nullable(Type.String()),
  name: Nullable(Type.String()),
  webEventType: Nullable(Type.String({ description: 'a web or app event: the type it was posted with' })),
  url: Nullable(Type.String()),
  formId: Nullable(Id),
  device: Nullable(Type.String()),
  ip: Nullable(Type.String()),
  userAgent: Nullable(Type.String()),
});

const ContactExportView = Type.Object({
  exportedAt: Timestamp,
  projectId: Id,
  contact: ContactView,
  consentHistory: Type.Array(ConsentEntryView),
  deliveries: Type.Array(
    Type.Object({ sendingId: Id, messageId: Nullable(Id), messageName: Nullable(Type.String()), channel: Nullable(Type.String()), status: Type.String(), at: Timestamp }),
  ),
  events: Type.Array(EventExportView),
  campaigns: Type.Array(
    Type.Object({ campaignId: Id, name: Nullable(Type.String()), nodeId: Type.String(), state: Type.String(), enteredAt: Timestamp, updatedAt: Timestamp }),
  ),
  groups: Type.Array(Type.Object({ groupId: Id, name: Nullable(Type.String()) })),
  scores: Type.Record(Type.String(), Type.Number()),
});

const ErasureReceiptView = Type.Object(
  {
    contactId: Id,
    erasedAt: Timestamp,
    removed: Type.Object({
      events: Type.Integer({ description: 'identified events deleted (and taken out of the report counters)' }),
      deliveries: Type.Integer(),
      campaignMemberships: Type.Integer(),
      groupMemberships: Type.Integer(),
      pendingRequests: Type.Integer({ description: 'unconfirmed double opt-in requests of the address' }),
    }),
    anonymised: Type.Object({
      consentEntries: Type.Integer({ description: 'consent-history entries kept with their hash and salted email hash, without contact id, IP or user agent' }),
    }),
    suppressed: Type.Boolean({
      description: 'the salted email hash is on the suppression list: an import or merge of the address is rejected (reason erased) unless it says the person came back (returning)',
    }),
    ledger: Type.Object(
      { seq: Type.Integer(), hash: Type.String() },
      { description: "the erasure's own entry in the project's consent history (action erased): its position and hash in the chain" },
    ),
  },
  { description: 'What the erasure removed, when, and the ledger position that keeps its proof' },
);

const idOrNull = (id: number | null) => (id === null ? null : String(id));

function exportView(ctx: AppContext, project: Project, data: ContactExport) {
  return {
    exportedAt: iso(ctx.clock()),
    projectId: String(project.id),
    contact: contactView(ctx, project, data.contact),
    consentHistory: data.consentHistory.map(consentEntryView),
    deliveries: data.deliveries.map((d) => ({
      sendingId: String(d.sending_id),
      messageId: idOrNull(d.message_id),
      messageName: d.message_name,
      channel: d.channel,
      status: d.status,
      at: iso(d.at),
    })),
    events: data.events.map((e) => ({
      id: String(e.id),
      type: e.type,
      at: iso(e.at),
      machine: e.machine === 1,
      sendingId: idOrNull(e.sending_id),
      messageId: idOrNull(e.message_id),
      linkUrl: e.link_url,
      channel: e.channel,
      name: e.name,
      webEventType: e.web_type,
      url: e.url,
      formId: idOrNull(e.form_id),
      device: e.device,
      ip: e.ip,
      userAgent: e.user_agent,
    })),
    campaigns: data.campaigns.map((c) => ({
      campaignId: String(c.campaign_id),
      name: c.campaign_name,
      nodeId: c.node_id,
      state: c.state,
      enteredAt: iso(c.entered_at),
      updatedAt: iso(c.updated_at),
    })),
    groups: data.groups.map((g) => ({ groupId: String(g.group_id), name: g.group_name })),
    scores: data.scores,
  };
}

/** SPEC §7: access request export and erasure of one contact. */
export function privacyRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['privacy'];

  r.get(
    '/api/v1/projects/:pid/contacts/:cid/export',
    {
      schema: {
        tags,
        summary: 'Access request: everything held about the contact, as one JSON document (every identified event included)',
        params: ContactParams,
        response: { 200: ContactExportView, ...problemResponses },
      },
    },
    async (request, reply) => {
      const project = await projectFor(ctx, request, request.params.pid);
      const data = await ctx.privacy.exportContact(project.id, Number(request.params.cid));
      reply.header('content-disposition', `attachment; filename="contact-${data.contact.id}.json"`);
      return exportView(ctx, project, data);
    },
  );

  r.delete(
    '/api/v1/projects/:pid/contacts/:cid',
    {
      schema: {
        tags,
        summary:
          'Erasure: deletes the contact, their identified events (taken out of the report counters too), deliveries and memberships; consent history keeps only the salted email hash, and the address goes on the suppression list; answers a receipt',
        params: ContactParams,
        response: { 200: ErasureReceiptView, ...problemResponses },
      },
    },
    async (request) => {
      const project = await projectFor(ctx, request, request.params.pid);
      const receipt = await ctx.privacy.eraseContact(project.id, Number(request.params.cid), actorOf(request.principal));
      const { formRequests, consentEntries, ...removed } = receipt.removed;
      return {
        contactId: String(receipt.contactId),
        erasedAt: iso(receipt.erasedAt),
        removed: { ...removed, pendingRequests: formRequests },
        anonymised: { consentEntries },
        suppressed: receipt.suppressed,
        ledger: receipt.ledger,
      };
    },
  );
}
