/** Why a report or export leaves the anonymous part of a sending out. */
export interface Suppression {
  reason: string;
  k: number;
}

export const SMALL_GROUP_REASON = 'fewer than k untracked recipients';

/**
 * Small-group protection (SPEC §14). A sending's anonymous group is every
 * recipient whose activity is not listed under their name: those untracked
 * when it was sent, plus tracked recipients who have become untracked (or
 * were erased) since. When that group is smaller than `k`, every figure
 * shown or exported for the sending is computed from the listed tracked
 * contacts alone, so no subtraction can give back what the group did.
 * `k = 0` turns the protection off.
 *
 * @example smallGroupSuppression(3, 5) // { reason: 'fewer than k untracked recipients', k: 5 }
 * @example smallGroupSuppression(3, 0) // null
 */
export function smallGroupSuppression(anonymousGroup: number, k: number): Suppression | null {
  if (k <= 0 || anonymousGroup >= k) return null;
  return { reason: SMALL_GROUP_REASON, k };
}

/**
 * Whether a sending may be suppressed at all, from its counters alone: the
 * anonymous group is never smaller than the recipients untracked at sending
 * time, so a sending with at least `k` of them needs no further look.
 *
 * @example mayBeSmallGroup({ untracked: 7 }, 5) // false
 */
export function mayBeSmallGroup(sending: { untracked: number }, k: number): boolean {
  return k > 0 && sending.untracked < k;
}
