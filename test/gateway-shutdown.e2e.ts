/**
 * Shutdown with calls in flight (what SIGTERM does through Nest's shutdown
 * hooks): a gateway on a SQLite file and a shared Redis is closed while a JSON
 * call and a stream wait on the provider. Both are answered; their routing
 * records, still waiting in the batch, are written to the store; their spend is
 * settled in the Redis ledger (booked, nothing left reserved). Nest shuts the
 * modules down in order: the records' final flush ends before the Redis
 * connection starts closing.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { RecordsService } from '../apps/gateway/src/persistence/records.service.js';
import { GatewayRedis } from '../apps/gateway/src/redis/gateway-redis.js';
import { ADMIN_KEY, call, chat, createKey, setBudget, simFault, sqliteStore, startGw, startSim, tempDir, until, type SimulatorHandle } from './gateway-support/harness.js';
import { REDIS_URL, redisAvailable } from './support/services.js';

const redis = await redisAvailable();

describe('gateway shutdown with calls in flight', { skip: redis !== true ? redis : false }, () => {
  const prefix = `llmr-test-${randomUUID()}:`;
  const tenant = `closing-${randomUUID()}`;
  let sim: SimulatorHandle;
  const dir = tempDir();

  before(async () => {
    sim = await startSim();
  });
  after(async () => {
    await sim?.close();
    dir.remove();
    const client = new Redis(REDIS_URL);
    const keys = await client.keys(`${prefix}*`);
    if (keys.length > 0) await client.del(...keys);
    client.disconnect();
  });

  test('calls in flight are answered, recorded in the store and settled in the Redis ledger', async () => {
    const store = sqliteStore(dir.path);
    // A long flush interval: the records are written by the shutdown alone.
    const gw = await startGw(sim, { store, redisUrl: REDIS_URL, redisKeyPrefix: prefix, recordFlushMs: 60_000 });
    let closed: Promise<void> | undefined;
    const order: string[] = [];
    const watch = (instance: { onApplicationShutdown(): Promise<void> }, name: string) => {
      const hook = instance.onApplicationShutdown.bind(instance);
      instance.onApplicationShutdown = async () => {
        order.push(`${name} starts`);
        await hook();
        order.push(`${name} done`);
      };
    };
    watch(gw.app.get(RecordsService), 'records flush');
    watch(gw.app.get(GatewayRedis), 'redis close');
    try {
      const { key } = await createKey(gw, { tenant });
      await setBudget(gw, tenant, { budgetUsd: 100 });
      assert.equal((await chat(gw, key, 'before')).status, 200);

      const slow = simFault('premium-a', { latencyMs: 400 });
      const json = chat(gw, key, `json ${slow}`);
      const stream = chat(gw, key, `stream ${slow}`, { stream: true });
      await until(() => sim.stats().inFlight === 2, 'both calls at the provider');
      closed = gw.close();

      const [j, s] = await Promise.all([json, stream]);
      assert.equal(j.status, 200, j.text);
      assert.equal(s.status, 200, s.text);
      assert.match(s.text, /data: \[DONE\]/);
      await closed;
    } finally {
      await (closed ?? gw.close());
    }
    assert.deepEqual(order, ['records flush starts', 'records flush done', 'redis close starts', 'redis close done']);
    const spent = gw.records.filter((r) => r.tenant === tenant).reduce((sum, r) => sum + Math.round(r.costUsd * 1e6), 0);
    assert.equal(gw.records.length, 3);
    assert.ok(spent > 0);

    // The ledger in Redis: every call's cost booked, no reservation left behind.
    const client = new Redis(REDIS_URL);
    try {
      const periods = await client.keys(`${prefix}budget:*:p:*`);
      assert.equal(periods.length, 1, periods.join(', '));
      const counters = await client.hgetall(periods[0]!);
      assert.equal(Number(counters.spent), spent, JSON.stringify(counters));
      assert.equal(Number(counters.reserved ?? 0), 0, JSON.stringify(counters));
    } finally {
      client.disconnect();
    }

    // The store: a gateway on the same file (without Redis) reports all three calls.
    const next = await startGw(sim, { store });
    try {
      const report = await call(next.url, '/admin/report', { key: ADMIN_KEY });
      assert.equal(report.json.totals.requests, 3, report.text);
    } finally {
      await next.close();
    }
  });
});
