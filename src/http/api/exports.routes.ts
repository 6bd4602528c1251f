import { Readable } from 'node:stream';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';
import { parseExportFields, parseExportTime } from '../../services/bi-export.service.js';
import { ProjectParams, problemResponses } from '../schemas.js';
import { projectFor } from './project-access.js';

export function exportRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.get(
    '/api/v1/projects/:pid/exports/events',
    {
      schema: {
        tags: ['exports'],
        summary: 'Export events for BI as CSV or NDJSON (streamed, in id order), with the event name, device and machine flag as in the per-sending export, and the type a web event was posted with (webEventType, beside its name); identified events may carry chosen contact fields, anonymous events carry none; with small-group protection, the anonymous part of small groups is left out',
        params: ProjectParams,
        querystring: Type.Object({
          from: Type.Optional(Type.String({ description: 'inclusive ISO 8601 date or date-time' })),
          to: Type.Optional(Type.String({ description: 'exclusive ISO 8601 date or date-time' })),
          format: Type.Optional(Type.Union([Type.Literal('csv'), Type.Literal('ndjson')], { default: 'csv' })),
          fields: Type.Optional(Type.String({ description: 'contact fields to add, e.g. email,fields.firstName' })),
        }),
        response: problemResponses,
      },
    },
    async (request, reply) => {
      const project = await projectFor(ctx, request, request.params.pid);
      // Everything that can be refused is checked before the first byte is streamed.
      const fields = parseExportFields(request.query.fields);
      const from = parseExportTime(request.query.from, 'from');
      const to = parseExportTime(request.query.to, 'to');
      const format = request.query.format ?? 'csv';
      reply.type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson');
      reply.header('content-disposition', `attachment; filename="project-${project.id}-events.${format}"`);
      return reply.send(Readable.from(ctx.biExport.events(project.id, { from, to, format, fields, smallGroups: { tracking: project.settings.tracking, k: project.settings.tracking.minAnonymousGroup } })));
    },
  );

  r.get(
    '/api/v1/projects/:pid/exports/contacts',
    {
      schema: {
        tags: ['exports'],
        summary: 'Export the contacts with their consent status as CSV or NDJSON (streamed, in id order)',
        description:
          'Columns: id, email, externalId, phone, status, trackingStatus (accepted | refused | unanswered), tracked (under the project settings now), hasTrackingConsent, dtTrackingConsent, createdAt, updatedAt, fields (custom fields; one JSON cell in CSV). CSV cells a spreadsheet would run as a formula are neutralised with a leading quote.',
        params: ProjectParams,
        querystring: Type.Object({
          format: Type.Optional(Type.Union([Type.Literal('csv'), Type.Literal('ndjson')], { default: 'csv' })),
        }),
        response: problemResponses,
      },
    },
    async (request, reply) => {
      const project = await projectFor(ctx, request, request.params.pid);
      const format = request.query.format ?? 'csv';
      reply.type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson');
      reply.header('content-disposition', `attachment; filename="project-${project.id}-contacts.${format}"`);
      return reply.send(Readable.from(ctx.exports.contacts(project.id, format, project.settings.tracking)));
    },
  );
}
