import { acquireOn, failOn, rejectsNow, snapshotOf, type CircuitEntry } from './circuit-entry.js';
import type { CircuitFailureOptions, CircuitGate, CircuitSnapshot, CircuitStateStore } from './circuit-state.store.js';

/** The single-instance default: plain maps, no allocation on the closed-circuit path. */
export class InMemoryCircuitStateStore implements CircuitStateStore {
  private readonly entries = new Map<string, CircuitEntry>();

  acquire(target: string, now: number, probeLeaseMs: number): CircuitGate {
    return acquireOn(this.entries.get(target), now, probeLeaseMs);
  }

  isOpen(target: string, now: number): boolean {
    const e = this.entries.get(target);
    return e !== undefined && rejectsNow(e, now);
  }

  recordSuccess(target: string): void {
    const e = this.entries.get(target);
    if (e) {
      e.failures = 0;
      e.openUntil = 0;
      e.probeUntil = 0;
    }
  }

  recordFailure(target: string, o: CircuitFailureOptions): void {
    let e = this.entries.get(target);
    if (!e) {
      e = { failures: 0, openUntil: 0, probeUntil: 0 };
      this.entries.set(target, e);
    }
    failOn(e, o);
  }

  snapshot(now: number): CircuitSnapshot[] {
    return [...this.entries].map(([target, e]) => snapshotOf(target, e, now));
  }
}
