/** Circuits shared through the real Redis: two stores stand for two gateway instances. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { type CircuitFailureOptions } from '@llm-router/nestjs';
import { RedisCircuitStateStore } from '@llm-router/nestjs/redis';
import { REDIS_URL, redisAvailable } from './support/services.js';

const available = await redisAvailable();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll until `cond` holds (a published change reaches the other store within milliseconds). */
async function until(cond: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 3_000;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('RedisCircuitStateStore', { skip: available === true ? false : available }, () => {
  const prefix = `llmr-test:${randomUUID()}:`;
  let client: Redis;
  let a: RedisCircuitStateStore;
  let b: RedisCircuitStateStore;
  const fail = (now: number, extra: Partial<CircuitFailureOptions> = {}): CircuitFailureOptions => ({ now, failureThreshold: 3, cooldownMs: 1_000, openNow: false, ...extra });

  before(async () => {
    client = new Redis(REDIS_URL);
    a = new RedisCircuitStateStore({ client, keyPrefix: prefix });
    b = new RedisCircuitStateStore({ url: REDIS_URL, keyPrefix: prefix });
    await Promise.all([a.ready, b.ready]);
  });
  after(async () => {
    await a.close();
    await b.close();
    const keys = await client.keys(`${prefix}*`);
    if (keys.length > 0) await client.del(...keys);
    client.disconnect();
  });

  test('failures count across instances; the circuit one opens is open on the other, with no round trip per call', async () => {
    const now = Date.now();
    assert.equal(a.acquire('m1', now, 500), 'pass', 'a closed circuit answers synchronously');
    await a.recordFailure('m1', fail(now));
    await b.recordFailure('m1', fail(now));
    assert.equal(b.isOpen('m1', now), false, 'two of three failures');
    await a.recordFailure('m1', fail(now));
    assert.equal(a.isOpen('m1', now), true);
    await until(() => b.isOpen('m1', now), 'the open circuit on b');
    assert.equal(b.acquire('m1', now + 10, 500), 'reject', 'answered from the mirror');
    const snap = (await b.snapshot(now)).find((s) => s.target === 'm1');
    assert.deepEqual([snap?.status, snap?.consecutiveFailures], ['open', 3]);
    // Opened on the server's clock, reported on this instance's: a second's cool-down from about now.
    assert.ok(Math.abs(snap!.retryAt! - (now + 1_000)) < 500, `retryAt ${snap?.retryAt} near ${now + 1_000}`);
  });

  test('after the cool-down exactly one instance sends the probe; its success closes the circuit everywhere', async () => {
    const now = Date.now();
    await a.recordFailure('m2', fail(now, { openNow: true, cooldownMs: 50 }));
    await until(() => b.isOpen('m2', Date.now()), 'the open circuit on b');
    await sleep(80); // the cool-down runs on Redis's clock
    const later = Date.now();
    const gates = await Promise.all([a.acquire('m2', later, 1_000), b.acquire('m2', later, 1_000)]);
    assert.deepEqual([...gates].sort(), ['probe', 'reject']);
    const prober = gates[0] === 'probe' ? a : b;
    const other = prober === a ? b : a;
    assert.equal(await other.acquire('m2', later + 1, 1_000), 'reject', 'the probe is in flight');
    await prober.recordSuccess('m2');
    await until(() => !other.isOpen('m2', later + 2) && other.acquire('m2', later + 2, 1_000) === 'pass', 'the closed circuit on the other');
    assert.deepEqual(await client.hmget(`${prefix}{circuits}:t:m2`, 'failures', 'openUntil'), ['0', '0'], 'closed in Redis');
  });

  test('a failed probe re-opens the circuit for another cool-down', async () => {
    const now = Date.now();
    await b.recordFailure('m3', fail(now, { openNow: true, cooldownMs: 50 }));
    // Asked at the moment of each failure, not at the poll's: on a loaded machine the change can arrive after the 50 ms cool-down.
    await until(() => a.isOpen('m3', now), 'open on a');
    await sleep(80);
    assert.equal(await a.acquire('m3', Date.now(), 1_000), 'probe');
    const reopened = Date.now();
    await a.recordFailure('m3', fail(reopened, { openNow: true, cooldownMs: 50 }));
    await until(() => b.isOpen('m3', reopened), 'open again on b');
  });

  test("cool-downs run on Redis's clock: an instance whose clock is 10 minutes fast cannot stretch everyone's", async () => {
    const fast = () => Date.now() + 600_000;
    await a.recordFailure('m6', fail(fast(), { openNow: true, cooldownMs: 200 }));
    await until(() => b.isOpen('m6', Date.now()), 'open on b');
    assert.equal(await a.acquire('m6', fast(), 1_000), 'reject', 'the fast instance still sees the cool-down');
    await sleep(250);
    assert.equal(await b.acquire('m6', Date.now(), 1_000), 'probe', 'a 200 ms cool-down is over for everyone after 250 ms');
    assert.equal(await a.acquire('m6', fast(), 1_000), 'reject', 'the probe is in flight');
  });

  test('a state older than the one a store holds never replaces it, whichever connection brings it last', async () => {
    const now = Date.now();
    await a.recordFailure('m5', fail(now, { openNow: true, cooldownMs: 60_000 }));
    await until(() => b.isOpen('m5', now), 'open on b');
    const key = `${prefix}{circuits}:t:m5`;
    const v = Number(await client.hget(key, 'v'));
    const channel = `${prefix}{circuits}:changes`;
    // A stale "closed" (an older version), then a marker on another target to know both were delivered.
    await client.publish(channel, `${key} 0 0 0 ${v - 1}`);
    await client.publish(channel, `${prefix}{circuits}:t:marker 1 ${now + 60_000} 0 1`);
    await until(() => b.isOpen('marker', now), 'the marker on b');
    assert.equal(b.isOpen('m5', now), true, 'the stale state was ignored');
    await client.publish(channel, `${key} 0 0 0 ${v + 1}`);
    await until(() => !b.isOpen('m5', now), 'the newer state on b');
  });

  test('a store that starts later learns the open circuits at once', async () => {
    const now = Date.now();
    await a.recordFailure('m4', fail(now, { openNow: true, cooldownMs: 60_000 }));
    const late = new RedisCircuitStateStore({ url: REDIS_URL, keyPrefix: prefix });
    try {
      await late.ready;
      assert.equal(late.isOpen('m4', now + 1), true);
    } finally {
      await late.close();
    }
  });

  test('closing the store never closes a client it did not create', async () => {
    const own = new RedisCircuitStateStore({ client, keyPrefix: prefix });
    await own.ready;
    await own.close();
    assert.equal(await client.ping(), 'PONG');
  });
});

describe('RedisCircuitStateStore without Redis', () => {
  test('decides from what this instance knows, never fails a call', async () => {
    const store = new RedisCircuitStateStore({ url: 'redis://127.0.0.1:1', commandTimeoutMs: 200 });
    try {
      await store.ready;
      const now = Date.now();
      assert.equal(store.acquire('m', now, 100), 'pass');
      await store.recordFailure('m', { now, failureThreshold: 2, cooldownMs: 50, openNow: false });
      await store.recordFailure('m', { now, failureThreshold: 2, cooldownMs: 50, openNow: false });
      assert.equal(store.isOpen('m', now + 1), true, 'opened locally');
      assert.equal(await store.acquire('m', now + 60, 100), 'probe', 'the local probe');
      await store.recordSuccess('m');
      assert.equal(store.acquire('m', now + 70, 100), 'pass');
      assert.deepEqual(await store.snapshot(now), [{ target: 'm', status: 'closed', consecutiveFailures: 0 }]);
    } finally {
      await store.close();
    }
  });
});
