/**
 * Global Privacy Control (SPEC §14): whether a request's `Sec-GPC` signal
 * makes its web event or form event anonymous. Only the exact value `1`
 * is the signal; the project setting `tracking.honorGpc` turns it off.
 * The signal never blocks anything: the event is still recorded, a redirect
 * still happens, a form's consent choice is still applied.
 *
 * @example gpcAnonymises('1', { honorGpc: true }) // true
 * @example gpcAnonymises(undefined, { honorGpc: true }) // false
 */
export function gpcAnonymises(signal: string | string[] | undefined, tracking: { honorGpc: boolean }): boolean {
  const value = Array.isArray(signal) ? signal[0] : signal;
  return tracking.honorGpc && value?.trim() === '1';
}
