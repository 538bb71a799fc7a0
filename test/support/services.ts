import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
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

/** A redis-server of a test's own (one it may restart), on a free loopback port, its files in `dir`. */
export interface PrivateRedis {
  readonly url: string;
  /** Start it (again) with the same port, directory and arguments; resolves once it answers PING. */
  start(): Promise<void>;
  /** SHUTDOWN NOSAVE: what it holds since its last snapshot is gone. */
  stop(): Promise<void>;
}

/**
 * `redis-server` must be on the PATH. Off CI a missing binary skips the
 * suite with the reason; under CI=true it must be there.
 */
export async function privateRedisOrSkip(dir: string, args: readonly string[]): Promise<PrivateRedis | { skip: string }> {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
  } catch (err) {
    const reason = `redis-server is not on the PATH (${(err as Error).message})`;
    if (process.env.CI === 'true') throw new Error(`${reason}: required under CI=true`);
    return { skip: reason };
  }
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const ping = async () => {
    const client = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return (await client.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      client.disconnect();
    }
  };
  return {
    url,
    start: async () => {
      child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, ...args], { stdio: 'ignore' });
      for (let i = 0; !(await ping()); i++) {
        if (i > 200) throw new Error(`redis-server on port ${port} did not start`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    stop: async () => {
      const running = child;
      if (running === undefined || running.exitCode !== null) return;
      const exited = new Promise((r) => running.once('exit', r));
      const client = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null });
      client.on('error', () => undefined);
      await client.call('SHUTDOWN', 'NOSAVE').catch(() => undefined);
      client.disconnect();
      await exited;
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
