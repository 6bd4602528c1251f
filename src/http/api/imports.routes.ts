import { Readable } from 'node:stream';
import multipart from '@fastify/multipart';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';
import { badInput } from '../../domain/errors.js';
import type { Import, ImportOptions } from '../../services/imports.service.js';
import { actorOf } from '../auth.js';
import { projectIdFor } from './project-access.js';
import { Id, iso, isoOrNull, Nullable, ProjectParams, problemResponses, Timestamp } from '../schemas.js';

const ImportParams = Type.Object({ pid: Id, iid: Id });

const ImportQuery = Type.Object({
  type: Type.Optional(Type.Union([Type.Literal('upsert'), Type.Literal('add-only'), Type.Literal('update-only')])),
  map: Type.Optional(
    Type.String({
      description: 'Column:target pairs, e.g. `E-mail:email,Consent:hasTrackingConsent,Date:dtTrackingConsent`; targets: email, externalId, phone, status, hasTrackingConsent, dtTrackingConsent, fields.<name>. Without it, columns named like a target map themselves and the others become custom fields.',
    }),
  ),
  delimiter: Type.Optional(Type.String({ description: '`,` or `;` (url-encoded `%3B`); detected from the header line when absent' })),
  fileName: Type.Optional(Type.String({ maxLength: 255 })),
});

const ImportView = Type.Object({
  id: Id,
  status: Type.Union([Type.Literal('running'), Type.Literal('done'), Type.Literal('failed')]),
  fileName: Nullable(Type.String()),
  type: Type.String(),
  mapping: Type.Array(Type.Object({ column: Type.String(), target: Type.String() })),
  delimiter: Type.String(),
  actor: Type.String(),
  counts: Type.Object({
    rows: Type.Integer(),
    created: Type.Integer(),
    updated: Type.Integer(),
    unchanged: Type.Integer(),
    consentApplied: Type.Integer(),
    consentStale: Type.Integer(),
    rejected: Type.Integer(),
  }),
  error: Nullable(Type.String()),
  startedAt: Timestamp,
  finishedAt: Nullable(Timestamp),
});

export function importView(record: Import) {
  return {
    id: String(record.id),
    status: record.status,
    fileName: record.fileName,
    type: record.type,
    mapping: record.mapping,
    delimiter: record.delimiter,
    actor: record.actor,
    counts: record.counts,
    error: record.error,
    startedAt: iso(record.startedAt),
    finishedAt: isoOrNull(record.finishedAt),
  };
}

// CSV bodies reach the handler as the raw request stream: nothing is buffered
// and no body limit applies, the import service reads it with backpressure.
const STREAMED_TYPES = ['text/csv', 'application/csv', 'text/plain', 'application/octet-stream'];

/** CSV imports: `POST …/imports` (text/csv or multipart), the import record and its rejected lines. */
export function importRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.register(async (scope) => {
    await scope.register(multipart, { limits: { fileSize: Number.POSITIVE_INFINITY, files: 1, fields: 20, parts: 25 } });
    scope.removeContentTypeParser('text/plain');
    for (const type of STREAMED_TYPES) scope.addContentTypeParser(type, (_request, payload, done) => done(null, payload));

    const r = scope.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['imports'];

    r.post(
      '/api/v1/projects/:pid/imports',
      {
        schema: {
          tags,
          summary: 'Import contacts from CSV: a text/csv body, or multipart/form-data with a `file` part (type, map, delimiter, fileName as query or form fields)',
          description:
            'UTF-8 with or without BOM, `,` or `;`, a header row. Streams the file and answers once the import has run; each bad row is kept with its line number and reason (`GET …/imports/{iid}/rejected`).',
          params: ProjectParams,
          querystring: ImportQuery,
          response: { 202: ImportView, ...problemResponses },
        },
      },
      async (request, reply) => {
        const pid = projectIdFor(ctx, request, request.params.pid);
        const base: ImportOptions = { ...request.query, actor: actorOf(request.principal) };
        let record: Import | undefined;
        if (request.isMultipart()) {
          const fields: Record<string, string> = {};
          for await (const part of request.parts()) {
            if (part.type === 'field') {
              if (typeof part.value === 'string') fields[part.fieldname] = part.value;
              continue;
            }
            if (part.fieldname !== 'file' || record) {
              part.file.resume();
              continue;
            }
            record = await ctx.imports.run(pid, part.file, {
              ...base,
              ...pick(fields, ['type', 'map', 'delimiter', 'fileName']),
              fileName: fields.fileName ?? request.query.fileName ?? (part.filename || null),
            });
          }
          if (!record) throw badInput('file', 'a multipart upload needs a "file" part');
        } else {
          const body = request.body;
          if (!(body instanceof Readable)) throw badInput('body', 'send the CSV as text/csv or as multipart/form-data with a "file" part');
          record = await ctx.imports.run(pid, body, base);
        }
        reply.code(202);
        return importView(record);
      },
    );

    r.get(
      '/api/v1/projects/:pid/imports/:iid',
      { schema: { tags, summary: 'An import record with its counts', params: ImportParams, response: { 200: ImportView, ...problemResponses } } },
      async (request) => importView(await ctx.imports.get(projectIdFor(ctx, request, request.params.pid), Number(request.params.iid))),
    );

    r.get(
      '/api/v1/projects/:pid/imports/:iid/rejected',
      {
        schema: {
          tags,
          summary: "An import's rejected lines as CSV: line,reason,raw",
          params: ImportParams,
          response: { 200: Type.String({ description: 'text/csv' }), ...problemResponses },
        },
      },
      async (request, reply) => {
        const iid = Number(request.params.iid);
        const rows = await ctx.imports.rejectedCsv(projectIdFor(ctx, request, request.params.pid), iid);
        reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="import-${iid}-rejected.csv"`);
        return reply.send(Readable.from(rows));
      },
    );
  });
}

function pick(fields: Record<string, string>, names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) if (fields[name] !== undefined) out[name] = fields[name];
  return out;
}
