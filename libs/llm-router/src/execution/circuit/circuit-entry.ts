import type { CircuitFailureOptions, CircuitGate, CircuitSnapshot } from './circuit-state.store.js';

/** One target's circuit as the stores keep it (the shared store's Lua scripts apply the same rules). */
export interface CircuitEntry {
  failures: number;
  /** Epoch ms after which an open circuit admits a probe; 0 when closed. */
  openUntil: number;
  /** A probe is in flight until this time; a crashed probe's lease expires. */
  probeUntil: number;
}

/** True when the circuit refuses a call now: open and cooling down, or a probe in flight. */
export function rejectsNow(e: CircuitEntry, now: number): boolean {
  return e.openUntil !== 0 && (now < e.openUntil || now < e.probeUntil);
}

/** `acquire` on one entry: a closed circuit passes; an open one past its cool-down lets one probe through. */
export function acquireOn(e: CircuitEntry | undefined, now: number, probeLeaseMs: number): CircuitGate {
  if (!e || e.openUntil === 0) return 'pass';
  if (rejectsNow(e, now)) return 'reject';
  e.probeUntil = now + probeLeaseMs;
  return 'probe';
}

/** Counts a failure; opens (or, for a failed probe, re-opens) the circuit when the rules say so. */
export function failOn(e: CircuitEntry, o: CircuitFailureOptions): void {
  e.failures++;
  if (o.openNow || e.failures >= o.failureThreshold || e.openUntil !== 0) {
    e.openUntil = o.now + o.cooldownMs;
    e.probeUntil = 0;
  }
}

export function snapshotOf(target: string, e: CircuitEntry, now: number): CircuitSnapshot {
  return {
    target,
    status: e.openUntil === 0 ? 'closed' : now < e.openUntil ? 'open' : 'half_open',
    consecutiveFailures: e.failures,
    ...(e.openUntil !== 0 ? { retryAt: e.openUntil } : {}),
  };
}
