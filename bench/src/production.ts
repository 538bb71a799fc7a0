/**
 * The production configuration's shared services for one benchmark run: the
 * local Redis (a key prefix of its own) and the local PostgreSQL (a schema of
 * its own), as the test suite uses them; both removed again at the end.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';

/** The same defaults as the test suite (test/gateway-support/harness.ts). */
export const BENCH_REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const BENCH_DATABASE_URL = process.env.BENCH_DATABASE_URL ?? process.env.LLM_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface ProductionServices {
  /** A fresh key prefix and schema for one gateway process (each process its own: no shared state between targets). */
  env(name: string): Record<string, string>;
  /** Drops every schema and deletes every Redis key this run made. */
  cleanup(): Promise<void>;
}

/** Checks that Redis and PostgreSQL answer; throws, naming what is missing and how to go without. */
export async function productionServices(log: (s: string) => void): Promise<ProductionServices> {
  const run = `${process.pid}_${randomBytes(3).toString('hex')}`;
  const redis = new Redis(BENCH_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2000 });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    redis.disconnect();
    throw new Error(`the production configuration needs Redis at ${BENCH_REDIS_URL} (BENCH_REDIS_URL): ${(err as Error).message}; BENCH_PRODUCTION=0 leaves it out`);
  }
  const client = new pg.Client({ connectionString: BENCH_DATABASE_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (err) {
    redis.disconnect();
    await client.end().catch(() => undefined);
    throw new Error(`the production configuration needs PostgreSQL at ${BENCH_DATABASE_URL} (BENCH_DATABASE_URL): ${(err as Error).message}; BENCH_PRODUCTION=0 leaves it out`);
  }
  const made: { schema: string; prefix: string }[] = [];
  let cleaning: Promise<void> | undefined;
  log(`production configuration: Redis ${BENCH_REDIS_URL}, PostgreSQL ${BENCH_DATABASE_URL} (schemas bench_${run}_*, key prefixes bench:${run}:*)`);
  return {
    env(name: string) {
      const tag = name.toLowerCase().replace(/[^a-z0-9_]/g, '_');
      const schema = `bench_${run}_${tag}`.slice(0, 63);
      const prefix = `bench:${run}:${tag}:`;
      made.push({ schema, prefix });
      return { LLM_REDIS_URL: BENCH_REDIS_URL, LLM_REDIS_PREFIX: prefix, DATABASE_URL: BENCH_DATABASE_URL, LLM_PG_SCHEMA: schema };
    },
    // Once, however many ask (a signal and a failing run can both): a second call would find `made` empty and end the
    // connections under the first one's drops. Each schema and prefix is removed on its own, so one failure loses no other.
    cleanup() {
      return (cleaning ??= (async () => {
        try {
          for (const { schema, prefix } of made.splice(0)) {
            try {
              await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
              let cursor = '0';
              do {
                const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
                cursor = next;
                if (keys.length > 0) await redis.unlink(...keys);
              } while (cursor !== '0');
            } catch (err) {
              log(`cleanup: ${schema} / ${prefix}*: ${(err as Error).message}`);
            }
          }
        } finally {
          redis.disconnect();
          await client.end().catch(() => undefined);
        }
      })());
    },
  };
}
