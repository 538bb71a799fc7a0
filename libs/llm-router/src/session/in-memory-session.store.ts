import { sessionStoreKey, type SessionKey, type SessionState, type SessionStore } from './session-store.js';

export interface InMemorySessionStoreOptions {
  /** Sessions held at most; the least recently written is dropped first. */
  readonly maxSessions?: number;
  /** Wall clock (epoch ms); `Date.now` by default. */
  readonly clock?: () => number;
}

/**
 * The in-process default: one instance only (a fleet shares `RedisSessionStore`).
 * Bounded in time (each entry expires `ttlMs` after its last write, checked on
 * read and on write) and in size (the least recently written goes first).
 */
export class InMemorySessionStore implements SessionStore {
  private readonly entries = new Map<string, { state: SessionState; expiresAt: number }>();
  private readonly maxSessions: number;
  private readonly clock: () => number;

  constructor(options: InMemorySessionStoreOptions = {}) {
    this.maxSessions = options.maxSessions ?? 100_000;
    this.clock = options.clock ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: SessionKey): SessionState | undefined {
    const k = sessionStoreKey(key);
    const entry = this.entries.get(k);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.clock()) {
      this.entries.delete(k);
      return undefined;
    }
    return entry.state;
  }

  set(key: SessionKey, state: SessionState, ttlMs: number): void {
    const k = sessionStoreKey(key);
    // Re-inserted at the end: the Map's order is the order of last writes.
    this.entries.delete(k);
    this.entries.set(k, { state, expiresAt: this.clock() + ttlMs });
    if (this.entries.size > this.maxSessions) this.evict();
  }

  delete(key: SessionKey): void {
    this.entries.delete(sessionStoreKey(key));
  }

  /** Expired entries first, then the oldest writes, down to the bound. */
  private evict(): void {
    const now = this.clock();
    for (const [k, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(k);
    for (const k of this.entries.keys()) {
      if (this.entries.size <= this.maxSessions) break;
      this.entries.delete(k);
    }
  }
}
