import { Redis } from 'ioredis';

/**
 * A Redis connection as the shared stores want it: a command waits at most
 * `commandTimeoutMs` (queued while the client reconnects), then fails, and the
 * caller's outage rule applies (a class's `onBudgetStoreUnavailable`, a
 * circuit decided from this instance's view). Errors surface per command, not
 * as unhandled 'error' events. Whoever calls this owns the client and closes it.
 */
export function createRedisStoreClient(url: string, commandTimeoutMs = 1_000): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: 1, connectTimeout: 1_000, commandTimeout: commandTimeoutMs });
  client.on('error', () => undefined);
  return client;
}
