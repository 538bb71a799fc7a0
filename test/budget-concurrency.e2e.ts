/**
 * Never overspend: concurrent calls against a budget that fits exactly 50
 * worst-case requests, through the real router and the simulated provider,
 * on the in-process ledger and on Redis shared by two separate processes.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { compilePolicy, requestWorstCaseMicros, type PolicyDocument } from '@llm-router/nestjs';
import { RedisBudgetLedgerStore } from '@llm-router/nestjs/redis';
import { budgetLoad, budgetRequest, type LoadResult } from './support/budget-load.js';
import { buildPolicy, fastClass } from './support/policy.js';
import { REDIS_URL, redisAvailable } from './support/services.js';
import { startSim, type SimulatorHandle } from './support/sim.js';

const run = promisify(execFile);
const WORKER = fileURLToPath(new URL('./support/budget-worker.js', import.meta.url));

let sim: SimulatorHandle;
before(async () => {
  sim = await startSim();
});
after(async () => {
  await sim.close();
});

/** A policy whose tenant budget fits exactly 50 worst-case requests. */
function meteredPolicy(tenant: string): { policy: PolicyDocument; budgetMicros: number } {
  // Generous timeouts: 200 concurrent calls on a loaded 2-core machine must not time out.
  const base = buildPolicy(sim.url, { metered: fastClass('standard', ['oai-premium', 'ant-premium'], { firstByteTimeoutMs: 10_000, attemptTimeoutMs: 20_000, deadlineMs: 30_000 }) });
  const compiled = compilePolicy(base);
  const worst = Math.max(...['oai-premium', 'ant-premium'].map((m) => requestWorstCaseMicros(compiled.models.get(m)!, budgetRequest(199))));
  const budgetMicros = 50 * worst;
  return { policy: { ...base, budgets: { tenants: { [tenant]: { budgetUsd: budgetMicros / 1e6 } } } }, budgetMicros };
}

function assertAccounted(results: LoadResult[], total: number, spentMicros: number, budgetMicros: number) {
  const served = results.reduce((n, r) => n + r.served, 0);
  const refused = results.reduce((n, r) => n + r.refused, 0);
  assert.deepEqual(results.flatMap((r) => r.other), [], 'every request is served or refused with the typed error');
  assert.equal(served + refused, total);
  assert.ok(served >= 50, `at least the 50 worst-case requests fit (served ${served})`);
  assert.ok(refused > 0, 'the budget ran out');
  assert.ok(spentMicros <= budgetMicros, `settled spend ${spentMicros} must not exceed the budget ${budgetMicros}`);
  assert.equal(spentMicros, results.reduce((n, r) => n + r.recordedMicros, 0), 'the ledger agrees with the routing records');
}

describe('never overspend', () => {
  test('200 concurrent requests, in-process ledger', async () => {
    const { policy, budgetMicros } = meteredPolicy('acme');
    const result = await budgetLoad(policy, 'acme', 200);
    assertAccounted([result], 200, result.recordedMicros, budgetMicros);
  });

  test('200 concurrent requests from two processes sharing the real Redis', async (t) => {
    const available = await redisAvailable();
    if (available !== true) return t.skip(available);
    const tenant = `acme-${randomUUID()}`;
    const prefix = `llmr-test:${randomUUID()}:`;
    const { policy, budgetMicros } = meteredPolicy(tenant);
    const env = { ...process.env, BUDGET_POLICY: JSON.stringify(policy), REDIS_URL, KEY_PREFIX: prefix, TENANT: tenant, COUNT: '100' };
    const outputs = await Promise.all([run(process.execPath, [WORKER], { env }), run(process.execPath, [WORKER], { env })]);
    const results = outputs.map((o) => JSON.parse(o.stdout) as LoadResult);
    const redis = new Redis(REDIS_URL);
    try {
      const keys = await redis.keys(`${prefix}*`);
      const periodKey = keys.find((k) => k.includes(':p:'))!;
      assert.ok(periodKey.includes(`{${tenant}}`), 'keys carry the {tenant} hash tag');
      const [spent, reserved] = await redis.hmget(periodKey, 'spent', 'reserved');
      assert.equal(Number(reserved), 0, 'every reservation was settled or released');
      for (const leases of keys.filter((k) => k.includes(':l:'))) assert.equal(await redis.zcard(leases), 0, 'no lease left held');
      assertAccounted(results, 200, Number(spent), budgetMicros);
      await redis.del(...keys);
    } finally {
      redis.disconnect();
    }
  });
});

describe('the budget store cannot be reached', () => {
  const deadRedis = 'redis://127.0.0.1:1';

  test('fail closed (the default): a clear 503 budget_store_unavailable, no upstream call', async () => {
    const { policy } = meteredPolicy('acme');
    const before = sim.stats().requests;
    const ledger = new RedisBudgetLedgerStore({ url: deadRedis });
    try {
      const result = await budgetLoad(policy, 'acme', 4, { budgetLedger: ledger });
      assert.equal(result.served, 0);
      assert.equal(result.other.length, 4);
      assert.ok(result.other.every((e) => e.startsWith('503 budget_store_unavailable')), result.other.join('\n'));
      assert.equal(sim.stats().requests, before);
    } finally {
      await ledger.close();
    }
  });

  test('fail open up to the stated allowance, then closed', async () => {
    const { policy } = meteredPolicy('acme');
    const compiled = compilePolicy(policy);
    const worst = requestWorstCaseMicros(compiled.models.get('oai-premium')!, budgetRequest(199));
    policy.classes['metered']!.onBudgetStoreUnavailable = { failOpenUpToUsd: (3 * worst) / 1e6 };
    const ledger = new RedisBudgetLedgerStore({ url: deadRedis });
    try {
      const result = await budgetLoad(policy, 'acme', 6, { budgetLedger: ledger });
      assert.equal(result.served, 3, 'three worst cases fit the allowance');
      assert.equal(result.other.length, 3);
      assert.ok(result.other.every((e) => /503 budget_store_unavailable.*allowance/.test(e)), result.other.join('\n'));
    } finally {
      await ledger.close();
    }
  });
});
