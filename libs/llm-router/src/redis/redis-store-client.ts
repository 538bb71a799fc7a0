import { WriteCoalescingRedis } from './write-coalescing-redis.js';

export interface RedisStoreClientOptions {
  /** Fail a command after this long (default 1 s). */
  commandTimeoutMs?: number;
  /**
   * Commands written to the socket at once, not with the rest of the loop's
   * pass (see WriteCoalescingRedis): those a caller must know are on their
   * way to Redis before it goes on.
   */
  writeAtOnce?: readonly string[];
  /**
   * Commands written at the end of a `together` step when issued inside one,
   * else with the rest of the pass (see WriteCoalescingRedis.afterWrite).
   */
  writeAtStepEnd?: readonly string[];
}

/**
 * A Redis connection as the shared stores want it: a command waits at most
 * `commandTimeoutMs` (queued while the client reconnects), then fails, and the
 * caller's outage rule applies (a class's `onBudgetStoreUnavailable`, a
 * circuit decided from this instance's view). Errors surface per command, not
 * as unhandled 'error' events. The commands of one pass of the event loop go
 * out in one write (WriteCoalescingRedis). Whoever calls this owns the client
 * and closes it.
 */
export function createRedisStoreClient(url: string, commandTimeoutOrOptions: number | RedisStoreClientOptions = {}): WriteCoalescingRedis {
  const o = typeof commandTimeoutOrOptions === 'number' ? { commandTimeoutMs: commandTimeoutOrOptions } : commandTimeoutOrOptions;
  const client = new WriteCoalescingRedis(url, { maxRetriesPerRequest: 1, connectTimeout: 1_000, commandTimeout: o.commandTimeoutMs ?? 1_000 }, o.writeAtOnce, o.writeAtStepEnd);
  client.on('error', () => undefined);
  return client;
}
