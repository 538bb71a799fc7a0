/**
 * Several gateway instances behind one load balancer: one PostgreSQL store
 * and one Redis (`LLM_REDIS_URL`). A tenant budget set through one instance
 * applies on the other; spend through either counts against the same budget,
 * and neither lets the pair overspend; a circuit one instance opens is open on
 * the other. Real PostgreSQL, real Redis, real HTTP.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { call, chat, createKey, oneWorstCaseUsd, postgresOrSkip, simFault, sqliteStore, startGw, startSim, tempDir, testPolicy, until, ADMIN_KEY, type Gw, type SimulatorHandle } from './gateway-support/harness.js';
import { REDIS_URL, redisAvailable } from './support/services.js';

const redis = await redisAvailable();
const pgStore = await postgresOrSkip();
const skip = redis !== true ? redis : 'skip' in pgStore ? pgStore.skip : false;

describe('two gateway instances sharing PostgreSQL and Redis', { skip }, () => {
  const tenant = `shared-${randomUUID()}`;
  const prefix = `llmr-test-${randomUUID()}:`;
  let sim: SimulatorHandle;
  let a: Gw;
  let b: Gw;

  before(async () => {
    if ('skip' in pgStore) return;
    sim = await startSim();
    // Circuits open after two failures here.
    const policy = { ...testPolicy(sim.url), circuit: { failureThreshold: 2, cooldownMs: 60_000 } };
    const options = { store: pgStore.store, redisUrl: REDIS_URL, redisKeyPrefix: prefix, keysRefreshMs: 50, router: { policy } };
    a = await startGw(sim, options);
    b = await startGw(sim, options);
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await sim?.close();
    if (!('skip' in pgStore)) await pgStore.drop();
    const client = new Redis(REDIS_URL);
    const keys = await client.keys(`${prefix}*`);
    if (keys.length > 0) await client.del(...keys);
    client.disconnect();
  });

  test('a budget set on one instance applies on the other; both spend from it and neither overspends', async () => {
    const { key } = await createKey(a, { tenant });
    const budgetUsd = 0.002;
    const set = await call(a.url, `/admin/tenants/${tenant}/budget`, { method: 'PUT', key: ADMIN_KEY, body: { budgetUsd } });
    assert.equal(set.status, 200, set.text);
    // Instance b learns of the key and the budget from the shared store at its next refresh.
    await until(async () => (await call(b.url, `/admin/tenants/${tenant}/budget`, { key: ADMIN_KEY })).status === 200, 'the budget on b');
    let last = '';
    await until(async () => {
      const res = await chat(b, key, 'hello', { max_tokens: 20 });
      last = `${res.status} ${res.text}`;
      return res.status === 200;
    }, 'the key on b').catch((err: Error) => assert.fail(`${err.message}: last answer ${last}`));

    const onA = (await call(a.url, `/admin/tenants/${tenant}/budget`, { key: ADMIN_KEY })).json;
    const onB = (await call(b.url, `/admin/tenants/${tenant}/budget`, { key: ADMIN_KEY })).json;
    assert.ok(onA.spentUsd > 0, 'the call through b is booked');
    assert.equal(onB.spentUsd, onA.spentUsd, 'one ledger: both instances see the same spend');

    // Spend through both at once, six calls at a time, until the budget refuses.
    const statuses: number[] = [];
    for (let round = 0; round < 10 && !statuses.includes(402); round++) {
      const batch = await Promise.all([a, b, a, b, a, b].map((gw, i) => chat(gw, key, `call ${round}.${i} ${'words '.repeat(20)}`, { max_tokens: 20 })));
      statuses.push(...batch.map((r) => r.status));
    }
    assert.ok(statuses.includes(402), `the shared budget ran out (${statuses.join(',')})`);
    assert.deepEqual([...new Set(statuses)].sort(), [200, 402]);
    for (const gw of [a, b]) {
      const refused = await chat(gw, key, 'one more', { max_tokens: 20 });
      assert.equal(refused.status, 402);
      assert.equal(refused.json.error.code, 'insufficient_quota');
    }
    const final = (await call(b.url, `/admin/tenants/${tenant}/budget`, { key: ADMIN_KEY })).json;
    assert.ok(final.spentUsd <= budgetUsd, `spent ${final.spentUsd} of ${budgetUsd}`);
    assert.equal(final.reservedUsd ?? 0, 0, 'every reservation settled');
  });

  test('a circuit opened by failures seen on one instance is open on the other: it goes straight to the fallback', async () => {
    const { key } = await createKey(a, { tenant: `circuits-${randomUUID()}` });
    await until(async () => (await chat(b, key, 'hello', { max_tokens: 5 })).status === 200, 'the key on b');
    for (let i = 0; i < 2; i++) {
      const res = await chat(a, key, `down ${i} ${simFault('premium-a', { status: 503 })}`, { max_tokens: 5 });
      assert.equal(res.headers.get('x-llm-model'), 'premium-b', 'served by the fallback');
    }
    // No call through b until b knows: a success there in between would rightly reset the count (consecutive
    // failures, fleet-wide). /health reads the shared state; that changes reach a store by publication, without
    // any read, is shown in redis-circuit-state.e2e.ts.
    await until(async () => (await call(b.url, '/health')).json?.details?.['llm-router']?.openCircuits?.includes('premium-a') === true, 'the open circuit on b');
    const viaB = await chat(b, key, 'fine now', { max_tokens: 5 });
    assert.equal(viaB.status, 200);
    assert.equal(viaB.headers.get('x-llm-model'), 'premium-b');
    assert.equal(viaB.headers.get('x-llm-attempts'), '1', 'the open circuit was skipped: no call to premium-a');
  });

  test("a key's own budget spent through one instance is refused by the other at once (one ledger, in Redis)", async () => {
    const capped = await createKey(a, { tenant: `keyed-${randomUUID()}`, budget: { budgetUsd: oneWorstCaseUsd(a, 'premium-a', 'spend it', { max_tokens: 5 }), period: 'day' } });
    await until(async () => (await call(b.url, '/v1/usage', { key: capped.key })).status === 200, 'the key on b');
    assert.equal((await chat(a, capped.key, 'spend it', { max_tokens: 5 })).status, 200);
    const refused = await chat(b, capped.key, 'spend it', { max_tokens: 5 });
    assert.equal(refused.status, 402, refused.text);
    assert.equal(refused.json.error.code, 'insufficient_quota');
    assert.match(refused.json.error.message, new RegExp(capped.id));
  });

  test('a ledger Redis lost (a restart without persistence, a failover) is rebuilt from the records', async () => {
    const t = `rebuilt-${randomUUID()}`;
    const { key } = await createKey(a, { tenant: t });
    assert.equal((await call(a.url, `/admin/tenants/${t}/budget`, { method: 'PUT', key: ADMIN_KEY, body: { budgetUsd: 5 } })).status, 200);
    for (let i = 0; i < 3; i++) assert.equal((await chat(a, key, `spend ${i}`, { max_tokens: 20 })).status, 200);
    const spent = (await call(a.url, `/admin/tenants/${t}/budget`, { key: ADMIN_KEY })).json.spentUsd;
    assert.ok(spent > 0);
    await until(async () => (await call(b.url, `/admin/tenants/${t}/budget`, { key: ADMIN_KEY })).status === 200, 'the budget on b');
    const client = new Redis(REDIS_URL);
    try {
      await client.del(...(await client.keys(`${prefix}budget:{${t}}*`)));
    } finally {
      client.disconnect();
    }
    await until(async () => (await call(b.url, `/admin/tenants/${t}/budget`, { key: ADMIN_KEY })).json.spentUsd >= spent - 1e-9, 'the spend back from the records');
  });

  test('/health reports the shared Redis', async () => {
    const health = await call(a.url, '/health');
    assert.equal(health.json.details.redis.status, 'up', health.text);
    assert.equal(health.json.details.store.status, 'up');
    assert.equal((await call(a.url, '/health/ready')).status, 200);
  });

  test('every key the gateways wrote is under their LLM_REDIS_PREFIX', async () => {
    const client = new Redis(REDIS_URL);
    try {
      const keys = await client.keys(`${prefix}*`);
      assert.ok(keys.some((k) => k.startsWith(`${prefix}budget:{${tenant}}`)), 'the ledger');
      assert.ok(keys.some((k) => k.startsWith(`${prefix}{circuits}:`)), 'the circuits');
    } finally {
      client.disconnect();
    }
  });
});

describe('a gateway whose Redis cannot be reached', { skip: redis !== true ? redis : false }, () => {
  let sim: SimulatorHandle;
  let gw: Gw;
  const dir = tempDir();

  before(async () => {
    sim = await startSim();
    // Nothing listens on port 1: every command fails within the client's timeouts.
    gw = await startGw(sim, { store: sqliteStore(dir.path), redisUrl: 'redis://127.0.0.1:1' });
  });
  after(async () => {
    await gw?.close();
    await sim?.close();
    dir.remove();
  });

  test('reports Redis down, stays ready, and refuses a budgeted tenant by its class rule (fail closed: 503), not served unmetered', async () => {
    const health = await call(gw.url, '/health');
    assert.equal(health.status, 503);
    assert.equal(health.json.error.redis.status, 'down');
    assert.equal((await call(gw.url, '/health/ready')).status, 200, 'the store answers: this instance can serve');
    const { key: open } = await createKey(gw, { tenant: 'no-budget' });
    assert.equal((await chat(gw, open, 'hello', { max_tokens: 5 })).status, 200, 'a tenant without a budget is served');
    const { key } = await createKey(gw, { tenant: 'acme' });
    const set = await call(gw.url, '/admin/tenants/acme/budget', { method: 'PUT', key: ADMIN_KEY, body: { budgetUsd: 5 } });
    assert.equal(set.status, 503, set.text);
    const res = await chat(gw, key, 'hello');
    assert.equal(res.status, 503, res.text);
    assert.equal(res.json.error.code, 'budget_store_unavailable');
  });
});
