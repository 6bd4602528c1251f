import { useEffect, useRef, useState } from 'react';

/**
 * The value once it has stopped changing for `ms` (live previews and counts ask once per pause in typing).
 * "Changing" is by content: a re-render that builds an equal object does not restart the wait, so a page
 * that re-renders often (queries settling, other timers) still gets its value.
 */
export function useDebounced<T>(value: T, ms = 350): T {
  const key = JSON.stringify(value);
  const latest = useRef(value);
  latest.current = value;
  const [settled, setSettled] = useState(value);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` stands for `value`'s content; the latest value is read from the ref.
  useEffect(() => {
    const timer = setTimeout(() => setSettled(latest.current), ms);
    return () => clearTimeout(timer);
  }, [key, ms]);
  return settled;
}
