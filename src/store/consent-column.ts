/**
 * The `has_tracking_consent` column stores the administrative consent as
 * 1 (accepted), 0 (refused) or NULL (unanswered) on both dialects; these two
 * are the only places that translate it.
 */

/** `true`/`false`/`null` → 1/0/NULL. */
export const consentColumn = (value: boolean | null): number | null => (value === null ? null : value ? 1 : 0);

/** 1/0/NULL → `true`/`false`/`null`. */
export const consentValue = (column: number | null): boolean | null => (column === null ? null : column === 1);
