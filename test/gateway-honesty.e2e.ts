/**
 * What the caller is told agrees with what happened (issue 13), over real
 * HTTP with the simulated provider:
 * - a deadline that fires while an attempt is in flight names that attempt,
 *   as the routing record does;
 * - a model named in the request that the class's floor excludes is said to
 *   be replaced (a response header, and the record's exclusions);
 * - a reservation that moves a call off its primary says why (the budget
 *   action header), and a daily cap refuses with one code.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { RoutingRecord } from '@llm-router/nestjs';
import { chat, createKey, FAST, gatewayForFile, simFault, testPolicy, type CreatedKey } from './gateway-support/harness.js';

const t = gatewayForFile((sim) => {
  const policy = testPolicy(sim.url);
  policy.classes = {
    ...policy.classes,
    // Both targets hang: premium-a times out at 300 ms, the deadline passes while premium-b is in flight.
    hurried: { criticality: 'standard', route: ['premium-a', 'premium-b'], retriesPerTarget: 0, ...FAST, attemptTimeoutMs: 300, deadlineMs: 450 },
    // A premium primary and a standard backup: a small budget fits only the backup's worst case.
    mixed: { criticality: 'standard', route: ['premium-a', 'standard-1'], retriesPerTarget: 0, ...FAST },
  };
  return { router: { policy } };
});

function recordOf(requestId: string | null): RoutingRecord {
  const record = t.gw.records.find((r) => r.requestId === requestId);
  assert.ok(record, `a routing record for ${requestId}`);
  return record;
}

describe('item 14: a deadline with an attempt in flight', () => {
  let key: CreatedKey;
  before(async () => {
    key = await createKey(t.gw, { tenant: 'deadline-t' });
  });

  test('the 504 names the aborted attempt, as the routing record lists it', async () => {
    const hang = `${simFault('premium-a', { hang: true })} ${simFault('premium-b', { hang: true })}`;
    const res = await chat(t.gw, key.key, `hello ${hang}`, {}, { 'x-traffic-class': 'hurried' });
    assert.equal(res.status, 504, res.text);
    assert.equal(res.json.error.category, 'deadline_exceeded');
    const message: string = res.json.error.message;
    const record = recordOf(res.headers.get('x-llm-request-id'));
    // Usually premium-a times out and premium-b is cut by the deadline; on a stalled loop both timers may fire together
    // and premium-a is the one cut. Either way an attempt was in flight, and the message lists the record's attempts.
    assert.equal(record.attempts.at(-1)!.outcome, 'aborted');
    const listed = record.attempts.map((a) => (a.outcome === 'aborted' ? `${a.model} aborted in flight` : `${a.model} failed (${a.category})`));
    assert.equal(message, `The "hurried" deadline of 450 ms passed after ${listed.join(', ')}`);
    assert.equal(record.errorMessage, message);
  });
});

describe('item 15: a requested model the floor excludes', () => {
  let key: CreatedKey;
  before(async () => {
    key = await createKey(t.gw, { tenant: 'pin-t' });
  });

  test('served by another model: a header says the requested one was excluded and why; the record flags the exclusion', async () => {
    const res = await chat(t.gw, key.key, 'hi', { model: 'economy-1' }, { 'x-traffic-class': 'support-chat' });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get('x-llm-model'), 'premium-a');
    assert.equal(res.headers.get('x-llm-requested-model-excluded'), 'economy-1: tier "economy" is below the quality floor "premium"');
    const record = recordOf(res.headers.get('x-llm-request-id'));
    assert.equal(record.requestedModel, 'economy-1');
    const pin = record.excluded.find((e) => e.model === 'economy-1');
    assert.deepEqual(pin, { model: 'economy-1', reason: 'tier "economy" is below the quality floor "premium"', requested: true });
  });

  test('a requested model that is served: no such header', async () => {
    const res = await chat(t.gw, key.key, 'hi', { model: 'premium-b' }, { 'x-traffic-class': 'support-chat' });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get('x-llm-model'), 'premium-b');
    assert.equal(res.headers.get('x-llm-requested-model-excluded'), null);
    assert.equal(recordOf(res.headers.get('x-llm-request-id')).requestedModel, 'premium-b');
  });
});

describe('item 16: budget reservations that change the route', () => {
  test('normal tier, the primary\'s worst case does not fit: fallback with the budget action header', async () => {
    const key = await createKey(t.gw, { tenant: 'small-t' });
    // premium-a's worst case (4,096 output tokens at $15/MTok) is about $0.061; standard-1's about $0.006.
    await t.gw.router.budgets.setTenantBudget('small-t', { budgetUsd: 0.02 });
    const res = await chat(t.gw, key.key, 'hi', {}, { 'x-traffic-class': 'mixed' });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get('x-llm-model'), 'standard-1');
    assert.equal(res.headers.get('x-llm-fallback'), 'true');
    assert.equal(res.headers.get('x-llm-budget-tier'), 'normal');
    assert.match(res.headers.get('x-llm-budget-action') ?? '', /^premium-a skipped: its worst case \$0\.06\d+ does not fit the remaining budget/);
    assert.deepEqual(t.sim.stats().byModel, { 'up-standard-1': 1 });
    const record = recordOf(res.headers.get('x-llm-request-id'));
    assert.equal(record.budget?.action, res.headers.get('x-llm-budget-action'));
  });

  test('a daily cap refuses with one code: daily_cap_exhausted, whether no worst case fits or the cap is spent', async () => {
    const key = await createKey(t.gw, { tenant: 'capped-t' });
    // batch-summaries (batch criticality) is under the daily cap; $0.001 fits neither worst case.
    await t.gw.router.budgets.setTenantBudget('capped-t', { budgetUsd: 100, dailyCapUsd: 0.001 });
    const early = await chat(t.gw, key.key, 'hi', {}, { 'x-traffic-class': 'batch-summaries' });
    assert.equal(early.status, 402, early.text);
    assert.equal(early.json.error.code, 'daily_cap_exhausted');
    assert.match(early.json.error.message, /daily cap/);
    await t.gw.router.budgets.restoreSpend('capped-t', { spentUsd: 0.001, dailySpentUsd: 0.001 });
    const spent = await chat(t.gw, key.key, 'hi', {}, { 'x-traffic-class': 'batch-summaries' });
    assert.equal(spent.status, 402, spent.text);
    assert.equal(spent.json.error.code, 'daily_cap_exhausted');
    assert.equal(t.sim.stats().requests, 0, 'the upstream was never called');
  });

  test('the period budget still refuses with insufficient_quota', async () => {
    const key = await createKey(t.gw, { tenant: 'poor-t' });
    await t.gw.router.budgets.setTenantBudget('poor-t', { budgetUsd: 0.001 });
    const res = await chat(t.gw, key.key, 'hi', {}, { 'x-traffic-class': 'mixed' });
    assert.equal(res.status, 402, res.text);
    assert.equal(res.json.error.code, 'insufficient_quota');
  });
});
