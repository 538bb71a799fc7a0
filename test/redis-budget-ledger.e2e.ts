/** The Redis ledger against the real Redis: atomic steps, hash-tagged keys, client ownership. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { RedisBudgetLedgerStore, type LedgerLimits } from '#llm-router';
import { REDIS_URL, redisAvailable } from './support/services.js';

const available = await redisAvailable();

describe('RedisBudgetLedgerStore', { skip: available === true ? false : available }, () => {
  const prefix = `llmr-test:${randomUUID()}:`;
  let client: Redis;
  let store: RedisBudgetLedgerStore;
  const limits: LedgerLimits = { periodKey: '2026-11', periodTtlSec: 3600, budgetMicros: 1_000, dayKey: '2026-11-25', dailyCapMicros: 600 };

  before(() => {
    client = new Redis(REDIS_URL);
    store = new RedisBudgetLedgerStore({ client, keyPrefix: prefix });
  });
  after(async () => {
    const keys = await client.keys(`${prefix}*`);
    if (keys.length > 0) await client.del(...keys);
    client.disconnect();
  });

  test('reserve checks the period budget and the daily cap; settle books and releases', async () => {
    assert.equal((await store.reserve('t', 400, limits)).granted, true);
    assert.equal((await store.reserve('t', 400, { ...limits, dailyCapMicros: undefined })).granted, true);
    const day = await store.reserve('t', 100, limits);
    assert.deepEqual([day.granted, day.refusedBy], [false, 'day']);
    const period = await store.reserve('t', 300, { ...limits, dailyCapMicros: 10_000 });
    assert.deepEqual([period.granted, period.refusedBy], [false, 'period']);
    const settled = await store.settle('t', 400, 150, limits);
    assert.deepEqual([settled.spentMicros, settled.reservedMicros], [150, 400]);
    await store.settle('t', 400, 0, limits);
    assert.deepEqual(await store.balance('t', limits), { spentMicros: 150, reservedMicros: 0, daySpentMicros: 150, dayReservedMicros: 0 });
  });

  test('concurrent reservations never exceed the budget', async () => {
    const results = await Promise.all(Array.from({ length: 50 }, () => store.reserve('c', 100, { ...limits, dayKey: undefined, dailyCapMicros: undefined })));
    assert.equal(results.filter((r) => r.granted).length, 10);
  });

  test('keys share the {tenant} hash tag and expire', async () => {
    await store.reserve('{odd}tenant', 1, limits);
    const keys = await client.keys(`${prefix}*odd*`);
    assert.ok(keys.length >= 2);
    const slots = new Set(keys.map((k) => k.slice(k.indexOf('{'), k.indexOf('}') + 1)));
    assert.equal(slots.size, 1, 'one hash tag for all of a tenant\'s keys');
    assert.ok((await client.ttl(keys[0]!)) > 0);
  });

  test('restore only raises spend; a crossing is marked once', async () => {
    await store.restore('r', limits, 500, 0);
    await store.restore('r', limits, 100, 0);
    assert.equal((await store.balance('r', limits)).spentMicros, 500);
    assert.equal(await store.markCrossing('r', limits, 'notice'), true);
    assert.equal(await store.markCrossing('r', limits, 'notice'), false);
  });

  test('closing the store never closes a client it did not create', async () => {
    await store.close();
    assert.equal(await client.ping(), 'PONG');
    const owned = new RedisBudgetLedgerStore({ url: REDIS_URL, keyPrefix: prefix });
    await owned.balance('x', limits);
    await owned.close();
    await assert.rejects(owned.balance('x', limits));
  });
});
