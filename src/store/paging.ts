/*
 * Keyset paging, the one way the store reads a long list: rows in key order
 * after the last key seen, so a page costs the same wherever it starts and no
 * list is ever held whole in memory.
 */

/**
 * Every page of a keyset-ordered query: `fetch(after, size)` returns at most
 * `size` rows with a key above `after`, in key order. Stops after a short page.
 */
export async function* keysetPages<R>(fetch: (after: number, size: number) => Promise<R[]>, key: (row: R) => number, size: number, start = 0): AsyncGenerator<R[]> {
  let after = start;
  for (;;) {
    const rows = await fetch(after, size);
    if (rows.length > 0) yield rows;
    if (rows.length < size) return;
    after = key(rows[rows.length - 1] as R);
  }
}

/** Every row of a keyset-ordered query, page by page (for reads that need the whole list, such as a person's data export). */
export async function allPages<R>(fetch: (after: number, size: number) => Promise<R[]>, key: (row: R) => number, size: number, start = 0): Promise<R[]> {
  const all: R[] = [];
  for await (const page of keysetPages(fetch, key, size, start)) all.push(...page);
  return all;
}

/** One page for an API list: the query fetched `limit + 1` rows, the extra one says whether a next page exists. */
export function pageOf<R>(rows: R[], limit: number, key: (row: R) => number | string): { items: R[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last !== undefined ? String(key(last)) : null };
}
