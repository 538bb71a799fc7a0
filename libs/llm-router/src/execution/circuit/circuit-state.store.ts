import type { MaybePromise } from '../../shared/maybe-promise.js';

/** Where a target's circuit stands. */
export type CircuitStatus = 'closed' | 'open' | 'half_open';

export interface CircuitSnapshot {
  readonly target: string;
  readonly status: CircuitStatus;
  readonly consecutiveFailures: number;
  /** When an open circuit lets its next probe through (epoch ms). */
  readonly retryAt?: number;
}

/** The answer to "may I call this target now?". `probe`: yes, as the single half-open trial. */
export type CircuitGate = 'pass' | 'probe' | 'reject';

export interface CircuitFailureOptions {
  readonly now: number;
  readonly failureThreshold: number;
  readonly cooldownMs: number;
  /** Open at once (misconfigured target), whatever the count. */
  readonly openNow: boolean;
}


/**
 * Circuit state per target, shared by every request (and, with a shared store,
 * by every gateway instance). Each method is one atomic step.
 */
export interface CircuitStateStore {
  acquire(target: string, now: number, probeLeaseMs: number): MaybePromise<CircuitGate>;
  /**
   * Optional, for stores that know without a round trip: true when `acquire`
   * would answer `reject` now. Takes no probe lease. The executor asks it
   * first, so a target whose circuit is open is skipped before any budget is
   * reserved for it (a shared ledger would pay two round trips per skip).
   */
  isOpen?(target: string, now: number): boolean;
  recordSuccess(target: string): MaybePromise<void>;
  recordFailure(target: string, options: CircuitFailureOptions): MaybePromise<void>;
  snapshot(now: number): MaybePromise<CircuitSnapshot[]>;
}

export const CIRCUIT_STATE_STORE = Symbol('CIRCUIT_STATE_STORE');
