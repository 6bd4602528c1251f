/**
 * Rule 5: an anonymous event keeps its time to the minute only.
 *
 * @example toMinute(Date.UTC(2026, 10, 29, 6, 1, 30)) // Date.UTC(2026, 10, 29, 6, 1, 0)
 */
export const toMinute = (ms: number): number => ms - (ms % 60_000);
