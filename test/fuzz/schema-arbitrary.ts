import fc from 'fast-check';

/** A JSON Schema node as the OpenAPI document of the app gives it (TypeBox output). */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  format?: string;
  $ref?: string;
  additionalProperties?: boolean | JsonSchema;
}

/** Strings that broke parsers and stores before: NUL, lone surrogates, controls, RTL override, CRLF, long runs. */
export const EDGE_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udc00x',
  '\ud83d\ude00',
  '\u202e\u0301',
  '\r\n',
  'x\r\nSet-Cookie: a=1',
  '\t',
  '%00',
  '%',
  '../../etc/passwd',
  "'; DROP TABLE contacts; --",
  '<script>alert(1)</script>',
  '{{contact.email}}',
  '=HYPERLINK("http://x")',
  'é'.repeat(300),
  'a'.repeat(10_000),
  '1e309',
  '-0',
  'NaN',
  '9'.repeat(40),
  '2026-13-45',
  '0000-01-01',
  'null',
  '[]',
  '{}',
];

const edgeString = fc.constantFrom(...EDGE_STRINGS);
const edgeNumber = fc.constantFrom(0, -1, 1, 2 ** 31, 2 ** 53, -(2 ** 53), Number.MAX_SAFE_INTEGER + 2, 1e308, -1e308, 0.5, 1e-300);

/** Nested `levels` deep, built without recursion. */
export function deepValue(levels: number, asArray: boolean): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = asArray ? [value] : { n: value };
  return value;
}

/** Any JSON value, including the hostile ones: edge strings, deep nesting, huge arrays. */
export const hostileJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 2, arbitrary: edgeString },
  { weight: 2, arbitrary: edgeNumber },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, [], {}) },
  { weight: 1, arbitrary: fc.integer({ min: 20, max: 3000 }).chain((n) => fc.boolean().map((asArray) => deepValue(n, asArray))) },
  { weight: 1, arbitrary: fc.integer({ min: 1000, max: 20_000 }).map((n) => Array.from({ length: n }, (_, i) => i)) },
  { weight: 1, arbitrary: fc.dictionary(edgeString, fc.jsonValue({ maxDepth: 1 }), { maxKeys: 4 }) },
);

type Resolve = (ref: string) => JsonSchema | undefined;

/** Values that follow the schema (mostly valid), with edge strings and boundary sizes in the mix. */
export function validArbitrary(schema: JsonSchema, resolve: Resolve, depth = 0): fc.Arbitrary<unknown> {
  if (schema.$ref) {
    const target = resolve(schema.$ref);
    return target && depth < 8 ? validArbitrary(target, resolve, depth + 1) : hostileJson;
  }
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const union = schema.anyOf ?? schema.oneOf;
  if (union && union.length > 0) return fc.oneof(...union.map((s) => validArbitrary(s, resolve, depth + 1)));
  if (schema.allOf && schema.allOf.length > 0) return validArbitrary(schema.allOf[0] as JsonSchema, resolve, depth + 1);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'string': {
      const min = schema.minLength ?? 0;
      const max = Math.min(schema.maxLength ?? 64, 2000);
      const sized = fc.string({ minLength: min, maxLength: Math.max(min, Math.min(max, 40)), unit: 'binary' });
      const boundary = fc.constantFrom('x'.repeat(min), 'x'.repeat(max), 'é'.repeat(max));
      const formatted = schema.format === 'date-time' ? fc.date({ noInvalidDate: true }).map((d) => d.toISOString()) : schema.format === 'email' ? fc.emailAddress() : sized;
      return fc.oneof({ weight: 4, arbitrary: formatted }, { weight: 1, arbitrary: boundary }, { weight: 1, arbitrary: edgeString });
    }
    case 'integer':
      return fc.oneof(fc.integer({ min: schema.minimum ?? -10, max: Math.min(schema.maximum ?? 1000, 2 ** 31) }), fc.constantFrom(schema.minimum ?? 0, schema.maximum ?? 2 ** 53));
    case 'number':
      return fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), edgeNumber);
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const item = schema.items ? validArbitrary(schema.items, resolve, depth + 1) : hostileJson;
      const min = schema.minItems ?? 0;
      return fc.array(item, { minLength: min, maxLength: Math.max(min, Math.min(schema.maxItems ?? 4, 4)) });
    }
    case 'object': {
      if (!schema.properties) return fc.dictionary(fc.string({ maxLength: 8 }), hostileJson, { maxKeys: 3 });
      const required = new Set(schema.required ?? []);
      const shape: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [key, child] of Object.entries(schema.properties)) shape[key] = validArbitrary(child, resolve, depth + 1);
      return fc.record(shape, { requiredKeys: [...required].filter((k) => k in shape) });
    }
    default:
      return hostileJson;
  }
}

/** Schema-shaped values with one part broken: a wrong type, a boundary overrun, an unknown key, or anything at all. */
export function invalidArbitrary(schema: JsonSchema, resolve: Resolve): fc.Arbitrary<unknown> {
  const valid = validArbitrary(schema, resolve);
  const overrun =
    schema.type === 'string' ? fc.constant('y'.repeat((schema.maxLength ?? 100_000) + 1)) : schema.type === 'array' ? fc.constant(Array.from({ length: (schema.maxItems ?? 20_000) + 1 }, () => 1)) : hostileJson;
  const brokenField =
    schema.properties && Object.keys(schema.properties).length > 0
      ? fc.tuple(valid, fc.constantFrom(...Object.keys(schema.properties)), hostileJson).map(([value, key, junk]) => ({ ...(value as object), [key]: junk }))
      : hostileJson;
  return fc.oneof(hostileJson, overrun, brokenField, valid.map((v) => (v && typeof v === 'object' && !Array.isArray(v) ? { ...v, unknownKey: 1 } : [v])));
}
