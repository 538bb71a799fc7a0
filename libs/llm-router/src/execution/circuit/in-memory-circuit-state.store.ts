import type { CircuitFailureOptions, CircuitGate, CircuitSnapshot, CircuitStateStore } from './circuit-state.store.js';

interface Entry {
  failures: number;
  /** Epoch ms after which an open circuit admits a probe; 0 when closed. */
  openUntil: number;
  /** A probe is in flight until this time; a crashed probe's lease expires. */
  probeUntil: number;
}

/** The single-instance default: plain maps, no allocation on the closed-circuit path. */
export class InMemoryCircuitStateStore implements CircuitStateStore {
  private readonly entries = new Map<string, Entry>();

  acquire(target: string, now: number, probeLeaseMs: number): CircuitGate {
    const e = this.entries.get(target);
    if (!e || e.openUntil === 0) return 'pass';
    if (now < e.openUntil || now < e.probeUntil) return 'reject';
    e.probeUntil = now + probeLeaseMs;
    return 'probe';
  }

  isOpen(target: string, now: number): boolean {
    const e = this.entries.get(target);
    return e !== undefined && e.openUntil !== 0 && (now < e.openUntil || now < e.probeUntil);
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
    e.failures++;
    // A failed probe (circuit already open) re-opens for another cool-down.
    if (o.openNow || e.failures >= o.failureThreshold || e.openUntil !== 0) {
      e.openUntil = o.now + o.cooldownMs;
      e.probeUntil = 0;
    }
  }

  snapshot(now: number): CircuitSnapshot[] {
    return [...this.entries].map(([target, e]) => ({
        target,
        status: e.openUntil === 0 ? 'closed' : now < e.openUntil ? 'open' : 'half_open',
        consecutiveFailures: e.failures,
        ...(e.openUntil !== 0 ? { retryAt: e.openUntil } : {}),
      }));
  }
}
