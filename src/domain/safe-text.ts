/**
 * Strings and JSON values that every store accepts: PostgreSQL refuses NUL
 * bytes in text and jsonb, and a lone UTF-16 surrogate cannot be encoded as
 * UTF-8 (SQLite stores a replacement, drivers disagree). They are refused as
 * bad input before they reach a query.
 */

/** Bounds of a contact's custom fields (per record). */
export const MAX_FIELDS_DEPTH = 5;
export const MAX_FIELDS_BYTES = 16 * 1024;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Why a string cannot be stored, or null when it can.
 *
 * @example textProblem('a\u0000b') // 'contains a NUL character'
 * @example textProblem('\ud800') // 'is not well-formed Unicode (lone surrogate)'
 */
export function textProblem(value: string): string | null {
  if (value.includes('\u0000')) return 'contains a NUL character';
  if (LONE_SURROGATE.test(value)) return 'is not well-formed Unicode (lone surrogate)';
  return null;
}

/**
 * Checks a custom-fields object without recursion (a 10,000-level object
 * cannot overflow the stack): depth, size, and every key and string value.
 * Returns the problem and the dotted path where it is, or null.
 *
 * @example fieldsProblem({ a: { b: 'x' } }) // null
 * @example fieldsProblem({ a: 'x\u0000' }) // { path: 'fields.a', reason: 'contains a NUL character' }
 */
export function fieldsProblem(fields: object, root = 'fields'): { path: string; reason: string } | null {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value: fields, path: root, depth: 1 }];
  let size = 0;
  while (stack.length > 0) {
    const { value, path, depth } = stack.pop() as { value: unknown; path: string; depth: number };
    if (typeof value === 'string') {
      size += value.length + 2;
      const reason = textProblem(value);
      if (reason) return { path, reason };
    } else if (value !== null && typeof value === 'object') {
      if (depth > MAX_FIELDS_DEPTH) return { path: root, reason: `nested deeper than ${MAX_FIELDS_DEPTH} levels` };
      const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
      for (const [key, child] of entries) {
        size += key.length + 4;
        const reason = textProblem(key);
        if (reason) return { path: `${path}.${key.replace(/[^\x20-\x7e]/g, '?')}`, reason: `key ${reason}` };
        stack.push({ value: child, path: `${path}.${key}`, depth: depth + 1 });
      }
    } else {
      size += 8;
    }
    if (size > MAX_FIELDS_BYTES) return tooLarge(root);
  }
  // The walk counted characters; the bound is in UTF-8 bytes (the depth is bounded, so this is cheap).
  if (new TextEncoder().encode(JSON.stringify(fields)).length > MAX_FIELDS_BYTES) return tooLarge(root);
  return null;
}

const tooLarge = (path: string) => ({ path, reason: `larger than ${MAX_FIELDS_BYTES / 1024} KB` });

/**
 * The first string (or key) anywhere in a parsed JSON value that cannot be stored, walked without
 * recursion; null when there is none.
 *
 * @example unstorableText({ a: ['ok', 'x\u0000'] }) // { path: 'a.1', reason: 'contains a NUL character' }
 */
export function unstorableText(value: unknown, root = ''): { path: string; reason: string } | null {
  const stack: [unknown, string][] = [[value, root]];
  const at = (path: string, key: string) => (path ? `${path}.${key}` : key);
  while (stack.length > 0) {
    const [node, path] = stack.pop() as [unknown, string];
    if (typeof node === 'string') {
      const reason = textProblem(node);
      if (reason) return { path: path || 'body', reason };
    } else if (Array.isArray(node)) {
      for (let i = node.length - 1; i >= 0; i--) stack.push([node[i], at(path, String(i))]);
    } else if (node !== null && typeof node === 'object') {
      for (const [key, child] of Object.entries(node)) {
        const reason = textProblem(key);
        if (reason) return { path: at(path, key.replace(/[^\x20-\x7e]/g, '?')), reason: `key ${reason}` };
        stack.push([child, at(path, key)]);
      }
    }
  }
  return null;
}
