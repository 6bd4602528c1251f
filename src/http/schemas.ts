import { type TSchema, Type } from '@sinclair/typebox';

/** Shared TypeBox pieces for route schemas (validation and OpenAPI come from the same source). */
export const Id = Type.String({ pattern: '^[0-9]{1,15}$', description: 'numeric id' });
export const ProjectParams = Type.Object({ pid: Id });
export const ContactParams = Type.Object({ pid: Id, cid: Id });
export const Timestamp = Type.String({ format: 'date-time' });
export const Nullable = <T extends TSchema>(schema: T, options: { description?: string } = {}) => Type.Union([schema, Type.Null()], options);

/** A target's contacts a sending leaves out, per reason (docs/reports.md). */
export const ExcludedCounts = Type.Object({
  unsubscribed: Type.Integer({ description: 'inactive contacts (unsubscribed)' }),
  quarantined: Type.Integer({ description: 'quarantined contacts' }),
  noAddress: Type.Integer({ description: "active contacts without an address for the message's channel (email, phone for SMS, external id for push)" }),
});

export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String(),
    errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), reason: Type.String() }))),
  },
  { $id: 'Problem', description: 'RFC 9457 problem details' },
);

/** Error responses every authenticated route may give, for the OpenAPI document. */
export const problemResponses = {
  400: Type.Ref('Problem'),
  401: Type.Ref('Problem'),
  404: Type.Ref('Problem'),
} as const;

export const iso = (ms: number): string => new Date(ms).toISOString();
export const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));
