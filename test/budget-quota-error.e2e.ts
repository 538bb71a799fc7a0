/**
 * The quota-exhausted error is typed and final: the official OpenAI client, at
 * its default retry setting, reaches the gateway once and the upstream never.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { fastClass } from './support/policy.js';
import { gatewayPolicy, startGateway, type TestGateway } from './support/gateway.js';
import { startSim, type SimulatorHandle } from './support/sim.js';

let sim: SimulatorHandle;
let gw: TestGateway;

before(async () => {
  sim = await startSim();
  const policy = gatewayPolicy(sim.url, { general: fastClass('standard', ['oai-premium', 'ant-premium']) });
  policy.budgets = { tenants: { acme: { budgetUsd: 25 } } };
  gw = await startGateway(policy);
});
after(async () => {
  await gw.close();
  await sim.close();
});

test('an exhausted budget: 402 insufficient_quota naming tenant, budget and period; one gateway hit, no upstream call', async () => {
  await gw.router.budgets.restoreSpend('acme', { spentUsd: 25 });
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', defaultHeaders: { 'x-tenant-id': 'acme' } });
  assert.equal(client.maxRetries, 2, 'the client retries by default');
  const before = gw.records.length;
  const err = await client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'hi' }] }).then(
    () => assert.fail('expected a quota error'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof OpenAI.APIError);
  assert.equal(err.status, 402);
  assert.equal(err.code, 'insufficient_quota');
  assert.match(err.message, /Tenant "acme" has spent \$25\.000000 of its \$25 budget for the month/);
  assert.equal(gw.records.length - before, 1, 'the gateway was reached exactly once');
  assert.equal(gw.records.at(-1)!.errorCategory, 'budget_exhausted');
  assert.equal(sim.stats().requests, 0, 'the upstream was never called');
});

test('below the budget: responses carry the budget state', async () => {
  await gw.router.budgets.setTenantBudget('beta', { budgetUsd: 10 });
  await gw.router.budgets.restoreSpend('beta', { spentUsd: 7.5 });
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', defaultHeaders: { 'x-tenant-id': 'beta' } });
  await client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(gw.records.at(-1)!.budget!.tier, 'notice');
  assert.equal(gw.records.at(-1)!.budget!.shareUsed, 0.75);
  assert.equal(gw.records.at(-1)!.tenant, 'beta');
});
