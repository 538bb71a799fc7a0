import type { DeferredCall } from './deferred-call.js';
import type { DeferredCallStore } from './deferred-call.store.js';

/** Deferred calls in this process's memory: the default, for one process and tests. */
export class InMemoryDeferredCallStore implements DeferredCallStore {
  private readonly calls = new Map<string, DeferredCall>();

  async insert(call: DeferredCall): Promise<void> {
    if (!this.calls.has(call.id)) this.calls.set(call.id, call);
  }

  async get(id: string): Promise<DeferredCall | undefined> {
    return this.calls.get(id);
  }

  async save(call: DeferredCall): Promise<void> {
    this.calls.set(call.id, call);
  }
}
