/**
 * Node keeps one list of timers per duration, created with its first timer
 * (placed in a priority queue, the native timer armed) and dropped with its
 * last. A call arms its timers (deadline, attempt timeout, the upstream's
 * first byte) and nearly always clears them: one call at a time (one
 * connection, a script), every call created and dropped a list per duration
 * (a `setTimeout` that makes its list measured ~3.9k instructions, one that
 * appends to a kept list ~0.8k). An unref'd interval of the same duration
 * keeps the list, so arming one is an append. Only whole seconds (the classes'
 * deadlines and timeouts, not jittered backoffs), at most MAX_KEPT_LISTS of
 * them; the intervals keep no process alive.
 */
const kept = new Set<number>();

const MAX_KEPT_LISTS = 32;
/** Node's longest timer (2^31 - 1 ms): a longer one would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const keepAlive = (): void => undefined;

/** Keeps Node's timer list for `delay` from now on, when it is a whole number of seconds (a few dozen at most). */
export function keepTimerList(delay: number): void {
  if (delay < 1000 || delay % 1000 !== 0 || delay > MAX_TIMER_MS || kept.has(delay) || kept.size >= MAX_KEPT_LISTS) return;
  kept.add(delay);
  setInterval(keepAlive, delay).unref();
}

/** Whether the list for `delay` is kept (for specs). */
export function isTimerListKept(delay: number): boolean {
  return kept.has(delay);
}
