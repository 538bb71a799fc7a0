import type { BackoffConfig } from '../policy/policy.schema.js';

/**
 * Exponential backoff with equal jitter: the n-th retry waits between half and
 * all of min(maxMs, baseMs * 2^(n-1)). Jitter keeps a fleet of gateways from
 * retrying in lockstep; the lower half keeps the wait from collapsing to zero.
 */
export function backoffDelay(backoff: BackoffConfig, retryNumber: number, random: () => number): number {
  const ceiling = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.max(0, retryNumber - 1));
  if (!backoff.jitter) return ceiling;
  const half = ceiling / 2;
  return Math.round(half + random() * half);
}
