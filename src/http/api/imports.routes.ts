import { trackingModuleHint, trackingModuleOf } from '../../domain/tracking-module.js';
import type { Project } from '../../services/projects.service.js';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import multipart from '@fastify/multipart';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';
import { AppError, badInput } from '../../domain/errors.js';
import { IMPORT_ENCODINGS } from '../../domain/import-mapping.js';
import type { Import, ImportOptions } from '../../services/imports.service.js';
import { actorOf } from '../auth.js';
import { isMalformedMultipart } from '../multipart-error.js';
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
  encoding: Type.Optional(
    Type.Union(
      IMPORT_ENCODINGS.map((e) => Type.Literal(e)),
      {
        description:
          'The text encoding of the file: `utf-8` (default), `windows-1252` or `latin1` (read as windows-1252), `utf-16` (byte order from its byte-order mark), `utf-16le`, `utf-16be`. A byte-order mark at the start of the file overrides it. A line that does not decode is rejected with its number.',
      },
    ),
  ),
  fileName: Type.Optional(Type.String({ maxLength: 255 })),
  returning: Type.Optional(
    Type.Boolean({
      description:
        'true: the file lists people who asked to come back after an erasure. Without it, a row whose email was erased from the project is rejected with the reason erased',
    }),
  ),
  async: Type.Optional(
    Type.Boolean({
      description:
        'true (or the header `Prefer: respond-async`): answer 202 as soon as the import is running, then poll `GET …/imports/{iid}`; otherwise answer once it has run',
    }),
  ),
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
  rowsPerSecond: Type.Number({ description: 'rows read per second since the start (until the end once finished)' }),
  error: Nullable(Type.String()),
  trackingModule: Type.Union([Type.Literal('on'), Type.Literal('off')], { description: "the project's tracking module now: while off, the imported consent values are recorded but not applied" }),
  notice: Type.Optional(Type.String({ description: 'present while the tracking module is off' })),
  startedAt: Timestamp,
  finishedAt: Nullable(Timestamp),
});

export function importView(record: Import, now: number, project: Pick<Project, 'id' | 'settings'>) {
  const notice = trackingModuleHint(project.settings.tracking, project.id);
  const seconds = Math.max((record.finishedAt ?? now) - record.startedAt, 1) / 1000;
  return {
    id: String(record.id),
    status: record.status,
    fileName: record.fileName,
    type: record.type,
    mapping: record.mapping,
    delimiter: record.delimiter,
    actor: record.actor,
    counts: record.counts,
    rowsPerSecond: Math.round((record.counts.rows / seconds) * 10) / 10,
    error: record.error,
    trackingModule: trackingModuleOf(project.settings.tracking),
    ...(notice ? { notice } : {}),
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
            'UTF-8 (with or without BOM), windows-1252/latin1 or UTF-16 (`encoding`), `,` or `;`, a header row. Streams the file and answers once the import has run; each bad row is kept with its line number and reason (`GET …/imports/{iid}/rejected`), a record longer than 1 MiB among them, and a line that does not decode in the encoding.',
          params: ProjectParams,
          querystring: ImportQuery,
          response: { 202: ImportView, ...problemResponses },
        },
      },
      async (request, reply) => {
        const pid = projectIdFor(ctx, request, request.params.pid);
        const { async: asyncQuery, ...query } = request.query;
        const respondAsync = asyncQuery === true || /\brespond-async\b/i.test(String(request.headers.prefer ?? ''));
        const importWith = async (upload: Readable, options: ImportOptions) => {
          const input = drainedOnStop(upload);
          try {
            return await (respondAsync ? ctx.imports.start(pid, input, options) : ctx.imports.run(pid, input, options));
          } catch (error) {
            // Refused before reading (a bad parameter): the upload is still read to its end, for the same reason.
            if (!upload.readableEnded && !upload.destroyed) {
              upload.resume();
              await finished(upload).catch(() => undefined);
            }
            throw error;
          }
        };
        const base: ImportOptions = { ...query, actor: actorOf(request.principal) };
        let record: Import | undefined;
        if (request.isMultipart()) {
          const fields: Record<string, string> = {};
          try {
          for await (const part of request.parts()) {
            if (part.type === 'field') {
              if (typeof part.value === 'string') fields[part.fieldname] = part.value;
              continue;
            }
            if (part.fieldname !== 'file' || record) {
              part.file.resume();
              continue;
            }
            record = await importWith(part.file, {
              ...base,
              ...pick(fields, ['type', 'map', 'delimiter', 'encoding', 'fileName']),
              ...(fields.returning !== undefined ? { returning: fields.returning === 'true' } : {}),
              fileName: fields.fileName ?? request.query.fileName ?? (part.filename || null),
            });
          }
          } catch (error) {
            throw malformedMultipart(error);
          }
          if (!record) throw badInput('file', 'a multipart upload needs a "file" part');
        } else {
          const body = request.body;
          if (!(body instanceof Readable)) throw badInput('body', 'send the CSV as text/csv or as multipart/form-data with a "file" part');
          record = await importWith(body, base);
        }
        reply.code(202);
        if (respondAsync) reply.header('preference-applied', 'respond-async');
        return importView(record, ctx.clock(), await ctx.projects.getCached(record.projectId));
      },
    );

    r.get(
      '/api/v1/projects/:pid/imports',
      {
        schema: {
          tags,
          summary: "The project's imports, newest first, cursor-paged",
          params: ProjectParams,
          querystring: Type.Object(
            { cursor: Type.Optional(Id), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })) },
            { additionalProperties: false },
          ),
          response: { 200: Type.Object({ items: Type.Array(ImportView), nextCursor: Nullable(Type.String()) }), ...problemResponses },
        },
      },
      async (request) => {
        const pid = projectIdFor(ctx, request, request.params.pid);
        const { cursor, limit } = request.query;
        const page = await ctx.imports.list(pid, { cursor: cursor === undefined ? undefined : Number(cursor), limit: limit ?? 50 });
        const now = ctx.clock();
        const project = await ctx.projects.get(pid);
        return { items: page.items.map((record) => importView(record, now, project)), nextCursor: page.nextCursor };
      },
    );

    r.get(
      '/api/v1/projects/:pid/imports/:iid',
      { schema: { tags, summary: 'An import record with its counts and its pace', params: ImportParams, response: { 200: ImportView, ...problemResponses } } },
      async (request) => {
        const pid = projectIdFor(ctx, request, request.params.pid);
        return importView(await ctx.imports.get(pid, Number(request.params.iid)), ctx.clock(), await ctx.projects.get(pid));
      },
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

function malformedMultipart(error: unknown): unknown {
  if (error instanceof AppError || !isMalformedMultipart(error)) return error;
  return badInput('body', `malformed multipart/form-data: ${error.message}`);
}

/**
 * The upload as the import reads it; when the import stops early (a bad
 * header, a failure) the rest of the upload is read and thrown away instead of
 * destroying the stream, so the client still gets the answer (a 400) rather
 * than a reset connection while it sends.
 */
async function* drainedOnStop(stream: AsyncIterable<Buffer | string>): AsyncGenerator<Buffer | string> {
  const source = stream[Symbol.asyncIterator]();
  let done = false;
  try {
    for (;;) {
      const next = await source.next();
      if (next.done) {
        done = true;
        return;
      }
      yield next.value;
    }
  } finally {
    while (!done) done = (await source.next()).done === true;
  }
}

function pick(fields: Record<string, string>, names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) if (fields[name] !== undefined) out[name] = fields[name];
  return out;
}
