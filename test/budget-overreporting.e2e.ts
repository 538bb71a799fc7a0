/**
 * A provider that reports more tokens than the router estimated (issue 13,
 * item 4), over real HTTP with the simulator reporting 4x the tokens it
 * counts: the router learns the ratio from the usage reported and reserves
 * for it, so the budget holds, one call after another and with ten at once;
 * a call the estimate fell short for says so in its record (its reservation,
 * overshoot and the budget left); and once spend passes the budget nothing is
 * served.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RoutingRecord } from '@llm-router/nestjs';
import { chat, createKey, FAST, gatewayForFile, testPolicy, type Gw, type Res } from './gateway-support/harness.js';

const t = gatewayForFile((sim) => {
  const policy = testPolicy(sim.url);
  policy.classes = {
    ...policy.classes,
    metered: { criticality: 'standard', route: ['premium-a'], retriesPerTarget: 0, ...FAST },
    fresh: { criticality: 'standard', route: ['premium-b'], retriesPerTarget: 0, ...FAST },
  };
  return { router: { policy } };
});

/** About 1,000 prompt tokens by the router's estimate, 4,000 by the provider's report; 200 tokens of output allowed. */
const PROMPT = `${'The parcel left the depot on Monday and has not been scanned since then. '.repeat(55)} [[sim {"usageScale":4}]]`;
const ASK = { max_tokens: 200 };

function recordOf(gw: Gw, res: Res): RoutingRecord {
  const record = gw.records.find((r) => r.requestId === res.headers.get('x-llm-request-id'));
  assert.ok(record, 'the call has a routing record');
  return record;
}

async function tenantKey(tenant: string, budgetUsd: number): Promise<string> {
  const key = await createKey(t.gw, { tenant, allowedClasses: ['metered', 'fresh'] });
  await t.gw.router.budgets.setTenantBudget(tenant, { budgetUsd });
  return key.key;
}

/** Calls until the budget refuses; every answer is a 200 or the typed 402. */
async function spendUntilRefused(key: string, cls: string): Promise<RoutingRecord[]> {
  const served: RoutingRecord[] = [];
  for (;;) {
    const res = await chat(t.gw, key, PROMPT, ASK, { 'x-traffic-class': cls });
    if (res.status === 402) {
      assert.equal(res.json.error.code, 'insufficient_quota', res.text);
      return served;
    }
    assert.equal(res.status, 200, res.text);
    served.push(recordOf(t.gw, res));
  }
}

const spent = async (tenant: string) => (await t.gw.router.budgets.state(tenant))!;
/** One call's cost at 4x: measured once, on a tenant of its own. */
let callUsd = 0;

/** Ten callers at once, each calling until refused, on a budget of `calls` calls at 4x: what was served and the tenant's state. */
async function tenAtOnce(tenant: string, cls: string, calls: number, report: (line: string) => void) {
  assert.ok(callUsd > 0, 'the cost of one call was measured');
  const budgetUsd = Math.round(calls * callUsd * 1e6) / 1e6;
  const key = await tenantKey(tenant, budgetUsd);
  const served = (await Promise.all(Array.from({ length: 10 }, () => spendUntilRefused(key, cls)))).flat();
  const state = await spent(tenant);
  report(`${tenant}: spent ${((100 * state.spentUsd) / budgetUsd).toFixed(1)} % of the budget in ${served.length} calls`);
  return { key, budgetUsd, served, state };
}

describe('a provider reporting 4x the estimated tokens', () => {
  test('the first call overshoots its reservation and its record says by how much; the next one is reserved for what was reported', async () => {
    const key = await tenantKey('probe-t', 100);
    const first = recordOf(t.gw, await chat(t.gw, key, PROMPT, ASK, { 'x-traffic-class': 'metered' }));
    callUsd = first.costUsd;
    assert.ok(first.promptTokens > 3_900, `the provider reported ${first.promptTokens} prompt tokens`);
    const budget = first.budget!;
    assert.ok(budget.reservedUsd! > 0 && budget.reservedUsd! < callUsd, `reserved ${budget.reservedUsd} for a call that cost ${callUsd}`);
    assert.equal(budget.overshootUsd, Math.round((callUsd - budget.reservedUsd!) * 1e6) / 1e6);
    assert.equal(budget.remainingUsd, Math.round((100 - callUsd) * 1e6) / 1e6);
    const second = recordOf(t.gw, await chat(t.gw, key, PROMPT, ASK, { 'x-traffic-class': 'metered' }));
    assert.equal(second.costUsd, callUsd);
    assert.ok(second.budget!.reservedUsd! >= callUsd, `reserved ${second.budget!.reservedUsd} for a call that costs ${callUsd}`);
    assert.equal(second.budget!.overshootUsd, 0);
  });

  test('one call after another: spend never passes the budget', async (ctx) => {
    assert.ok(callUsd > 0, 'the cost of one call was measured');
    // Eight calls and 60 % of a ninth: a reservation of the estimate alone (half a call) would let the ninth in.
    const budgetUsd = Math.round(8.6 * callUsd * 1e6) / 1e6;
    const key = await tenantKey('serial-t', budgetUsd);
    const served = await spendUntilRefused(key, 'metered');
    const state = await spent('serial-t');
    ctx.diagnostic(`sequential: spent ${((100 * state.spentUsd) / budgetUsd).toFixed(1)} % of the budget in ${served.length} calls`);
    assert.ok(state.spentUsd <= budgetUsd, `spent $${state.spentUsd} of $${budgetUsd} (${((100 * state.spentUsd) / budgetUsd).toFixed(1)} %)`);
    assert.equal(served.length, 8);
    assert.ok(served.every((r) => r.budget!.overshootUsd === 0));
    const last = served.at(-1)!.budget!;
    assert.equal(last.remainingUsd, Math.round((budgetUsd - state.spentUsd) * 1e6) / 1e6);
  });

  test('ten calls at once: spend never passes the budget, and once spent nothing more is served', async (ctx) => {
    const { key, budgetUsd, served, state } = await tenAtOnce('burst-t', 'metered', 30.6, (line) => ctx.diagnostic(line));
    assert.ok(state.spentUsd <= budgetUsd, `spent $${state.spentUsd} of $${budgetUsd} (${((100 * state.spentUsd) / budgetUsd).toFixed(1)} %)`);
    assert.equal(served.length, 30);
    assert.equal(state.reservedUsd, 0);
    // Spend past the budget (a restore from records): nothing more is served.
    await t.gw.router.budgets.restoreSpend('burst-t', { spentUsd: budgetUsd + 0.01 });
    const before = t.sim.stats().requests;
    const res = await chat(t.gw, key, PROMPT, ASK, { 'x-traffic-class': 'metered' });
    assert.equal(res.status, 402);
    assert.equal(t.sim.stats().requests, before, 'no upstream call');
  });

  test('a model not yet learned, ten calls at once: the overspend is at most what the calls in flight before its first report overshot', async (ctx) => {
    // premium-b has the same price and no report yet: the first calls, all in flight at once, are reserved for the estimate alone.
    const { budgetUsd, served, state } = await tenAtOnce('fresh-t', 'fresh', 12.6, (line) => ctx.diagnostic(line));
    const overshooting = served.filter((r) => r.budget!.overshootUsd! > 0);
    assert.ok(overshooting.length <= 10, `${overshooting.length} calls overshot: only those reserved before the first report may`);
    const overshoot = overshooting.reduce((sum, r) => sum + r.budget!.overshootUsd!, 0);
    // Reservations never exceed the budget: all it can be passed by is what those calls cost beyond what they reserved.
    assert.ok(state.spentUsd - budgetUsd <= overshoot + 1e-6, `spent $${state.spentUsd} of $${budgetUsd}, overshoot $${overshoot}`);
    assert.ok(state.spentUsd <= budgetUsd + 10 * callUsd);
  });
});
