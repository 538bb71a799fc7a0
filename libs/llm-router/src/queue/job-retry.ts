import type { JobOutcome } from './job-queue.js';

/**
 * What a handler that threw (a bug, not an outcome) gets: the job runs again
 * after a backoff that doubles per attempt, up to a minute, so a failing
 * handler neither loses its job nor spins on it. Every implementation uses it.
 */
export function outcomeOfThrow(error: unknown, attempt: number, now: number): JobOutcome {
  const delayMs = Math.min(60_000, 1_000 * 2 ** Math.max(0, attempt - 1));
  const reason = `handler threw: ${error instanceof Error ? error.message : String(error)}`;
  return { kind: 'later', runAt: now + delayMs, reason };
}
