import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lastValueFrom } from 'rxjs';
import type { ChatCompletionRequest } from '../chat/chat-completion.types.js';
import { InMemoryBudgetLedgerStore } from '../budget/in-memory-budget-ledger.store.js';
import { InMemoryCircuitStateStore } from '../execution/circuit/in-memory-circuit-state.store.js';
import { compilePolicy } from '../policy/compile-policy.js';
import { anthropicMessageBody, fixturePolicy, openAiCompletionBody } from '../testing/policy.fixture.js';
import { ScriptedTransport } from '../testing/scripted-transport.js';
import { createLlmRouter } from './create-llm-router.js';

const REQUEST: ChatCompletionRequest = { messages: [{ role: 'user', content: 'hi' }], max_tokens: 100 };

function routerWith(doc = fixturePolicy()) {
  const transport = new ScriptedTransport();
  for (const m of ['frontier-1', 'premium-a', 'standard-1']) transport.script(m, { status: 200, body: openAiCompletionBody(m) });
  for (const m of ['premium-b', 'economy-1']) transport.script(m, { status: 200, body: anthropicMessageBody(m) });
  const circuits = new InMemoryCircuitStateStore();
  const ledger = new InMemoryBudgetLedgerStore();
  return { router: createLlmRouter({ policy: compilePolicy(doc), transport, circuits, budgetLedger: ledger }), transport, circuits, ledger };
}

describe('LlmRouter.explain', () => {
  it('the first target is the one a real call takes; nothing is called, reserved or recorded', async () => {
    const { router, transport } = routerWith(fixturePolicy({ budgets: { tenants: { acme: { budgetUsd: 10 } } } }));
    let records = 0;
    router.records$.subscribe(() => records++);
    const explained = await router.explain(REQUEST, { trafficClass: 'general', tenant: 'acme' });
    assert.equal(transport.calls.length, 0);
    assert.equal(records, 0);
    assert.equal((await router.budgets.state('acme'))!.reservedUsd, 0);
    assert.equal(explained.trafficClass.source, 'the call options');
    assert.equal(explained.budget!.tier, 'normal');
    assert.deepEqual(explained.targets.map((t) => [t.model, t.kept]), [['premium-a', true], ['premium-b', true], ['standard-1', true]]);
    const real = await lastValueFrom(router.completion$(REQUEST, { trafficClass: 'general', tenant: 'acme' }));
    assert.equal(real.outcome.model, explained.firstTarget);
    assert.equal(real.outcome.policyVersion, explained.policyVersion);
    router.close();
  });

  it('an open circuit, a cost ceiling and a budget that cannot take a worst case: each target says why it is skipped', async () => {
    const doc = fixturePolicy({ budgets: { tenants: { acme: { budgetUsd: 0.001 } } } });
    doc.classes['general']!.maxCostPerRequestUsd = 0.002;
    doc.classes['general']!.route = ['premium-a', 'frontier-1', 'premium-b', 'standard-1'];
    const { router, circuits } = routerWith(doc);
    await circuits.recordFailure('premium-a', { now: Date.now(), failureThreshold: 1, cooldownMs: 600_000, openNow: true });
    const explained = await router.explain({ ...REQUEST, max_tokens: 100 }, { trafficClass: 'general', tenant: 'acme' });
    const why = Object.fromEntries(explained.targets.map((t) => [t.model, t.excludedBy ?? 'kept']));
    assert.equal(why['premium-a'], 'circuit_open');
    assert.equal(why['frontier-1'], 'cost_ceiling');
    assert.equal(why['premium-b'], 'budget_reservation');
    assert.equal(why['standard-1'], 'kept');
    assert.equal(explained.firstTarget, 'standard-1');
    const real = await lastValueFrom(router.completion$({ ...REQUEST, max_tokens: 100 }, { trafficClass: 'general', tenant: 'acme' }));
    assert.equal(real.outcome.model, 'standard-1');
    assert.match(explained.onFailure['transient']!, /retry the same target up to 1 time/);
    router.close();
  });

  it('an unknown class: the planner\'s refusal', async () => {
    const { router } = routerWith();
    const explained = await router.explain(REQUEST, { trafficClass: 'nope' });
    assert.deepEqual([explained.refusal?.status, explained.firstTarget], [400, null]);
    router.close();
  });
});
