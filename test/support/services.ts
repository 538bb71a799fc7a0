import { Redis } from 'ioredis';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Whether the real Redis answers. Off CI a missing Redis skips its suites with
 * a visible reason; under CI=true it must be there, so the suite fails instead.
 */
export async function redisAvailable(): Promise<true | string> {
  const client = new Redis(REDIS_URL, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, connectTimeout: 1_000, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
    return true;
  } catch (err) {
    const reason = `Redis at ${REDIS_URL} is not reachable (${(err as Error).message})`;
    if (process.env.CI === 'true') throw new Error(`${reason}: required under CI=true`);
    return reason;
  } finally {
    client.disconnect();
  }
}

/** Every key under `prefix` deleted (SCAN, DEL): a test's own keys, or a Redis restarted without its data as far as they go. */
export async function deletePrefix(url: string, prefix: string): Promise<number> {
  const client = new Redis(url);
  try {
    let deleted = 0;
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await client.del(...keys);
    } while (cursor !== '0');
    return deleted;
  } finally {
    client.disconnect();
  }
}
