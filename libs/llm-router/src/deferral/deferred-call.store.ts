import type { DeferredCall } from './deferred-call.js';

/**
 * Where deferred calls are kept: every instance that may run one or answer
 * for one reads it here. The in-process default suits one process; the
 * gateway keeps them in its SQL store.
 */
export const DEFERRED_CALL_STORE = Symbol('DEFERRED_CALL_STORE');

export interface DeferredCallStore {
  /** Adds a call; an id already stored is left as it is. */
  insert(call: DeferredCall): Promise<void>;
  get(id: string): Promise<DeferredCall | undefined>;
  /** Replaces the stored call (only the one worker holding its job writes it). */
  save(call: DeferredCall): Promise<void>;
}
