import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChatCompletionRequest } from '../chat/chat-completion.types.js';
import { LlmRouterError } from '../errors/llm-router.error.js';
import { compilePolicy } from '../policy/compile-policy.js';
import type { PolicyDocument, QualityFloorSpec } from '../policy/policy.schema.js';
import { deriveRequestNeeds } from '../planning/request-needs.js';
import { RoutePlanner } from '../planning/route-planner.js';
import { TokenCounter } from '../planning/token-counter.js';
import { Tiktoken } from 'js-tiktoken/lite';
import cl100k from 'js-tiktoken/ranks/cl100k_base';
import { fixturePolicy } from '../testing/policy.fixture.js';
import type { BudgetLedgerStore, LedgerBalance } from './budget-ledger.store.js';
import { BudgetService, type BudgetAssessment } from './budget.service.js';
import type { AttemptReservation, DoesNotFit } from './call-budget.js';
import { InMemoryBudgetLedgerStore } from './in-memory-budget-ledger.store.js';
import { worstCaseCostMicros } from './worst-case-cost.js';

const NOV_25 = Date.UTC(2026, 10, 25, 12);
/** 5 estimated prompt tokens (7 with the margin); no output limit stated, so the whole default of 4096 is feared. */
const REQUEST: ChatCompletionRequest = { messages: [{ role: 'user', content: 'hi' }] };
/** premium-a ($3 / $15 per MTok): 7 × 3 + 4096 × 15 micro-dollars. */
const PREMIUM_A_WORST = 61_461;
/** standard-1 ($0.5 / $1.5 per MTok): 7 × 0.5 + 4096 × 1.5, rounded up. */
const STANDARD_1_WORST = 6_148;

/** A ledger that counts its settles, so a second booking of one attempt shows. */
function countingLedger(inner = new InMemoryBudgetLedgerStore()) {
  const settles: Array<{ reserved: number; actual: number }> = [];
  const ledger: BudgetLedgerStore = {
    reserve: (t, a, l) => inner.reserve(t, a, l),
    settle: (t, r, a, k) => (settles.push({ reserved: r, actual: a }), inner.settle(t, r, a, k)),
    balance: (t, k) => inner.balance(t, k),
    restore: (t, k, s, d) => inner.restore(t, k, s, d),
    markCrossing: (t, k, tier) => inner.markCrossing(t, k, tier),
  };
  return { ledger, settles };
}

function setup(doc: PolicyDocument = fixturePolicy({ budgets: { tenants: { acme: { budgetUsd: 1 } } } }), ledger: BudgetLedgerStore = new InMemoryBudgetLedgerStore(), tokens?: TokenCounter) {
  const policy = compilePolicy(doc);
  const budgets = new BudgetService(policy, ledger, () => NOV_25);
  const planner = new RoutePlanner(policy, tokens);
  const model = (name: string) => policy.models.get(name)!;
  /** A call's budget as the router builds it: assessed, planned (downgraded when the tier says so), then `forCall`. */
  const callFor = (opts: { request?: ChatCompletionRequest; cls?: string; floor?: QualityFloorSpec } = {}) => {
    const assessment = budgets.assess('acme', policy.classes.get(opts.cls ?? 'general')!) as BudgetAssessment;
    const plan = planner.plan(opts.request ?? REQUEST, opts.cls ?? 'general', opts.floor, assessment.downgrade);
    return { call: budgets.forCall(assessment, plan), assessment };
  };
  const balance = (assessment: BudgetAssessment) => ledger.balance('acme', assessment.limits) as LedgerBalance;
  return { budgets, model, callFor, balance };
}

function granted(outcome: unknown): AttemptReservation {
  const r = outcome as AttemptReservation | DoesNotFit;
  assert.ok(r.fits, `granted, not refused: ${!r.fits ? r.reason : ''}`);
  return r;
}

function refused(outcome: unknown): string {
  const r = outcome as AttemptReservation | DoesNotFit;
  assert.equal(r.fits, false, 'refused');
  return (r as DoesNotFit).reason;
}

describe('CallBudget: each attempt reserves, then settles or releases once', () => {
  it('reserve holds the worst case of the planned request on that model', () => {
    const s = setup();
    const { call, assessment } = s.callFor();
    granted(call.reserve(s.model('premium-a')));
    assert.equal(s.balance(assessment).reservedMicros, PREMIUM_A_WORST);
    granted(call.reserve(s.model('standard-1')));
    assert.equal(s.balance(assessment).reservedMicros, PREMIUM_A_WORST + STANDARD_1_WORST);
  });

  it('bound caps the output to what the reservation covers when the request states no limit', () => {
    const doc = fixturePolicy({ budgets: { tenants: { acme: { budgetUsd: 1 } } } });
    doc.models['premium-b']!.maxOutputTokens = 1_000;
    const s = setup(doc);
    const { call, assessment } = s.callFor();
    const onA = granted(call.reserve(s.model('premium-a')));
    const sent = onA.bound(REQUEST);
    assert.equal(sent.max_tokens, 4096);
    assert.equal(REQUEST.max_tokens, undefined, 'the caller’s request is not changed');
    const before = s.balance(assessment).reservedMicros;
    const onB = granted(call.reserve(s.model('premium-b')));
    assert.equal(onB.bound(REQUEST).max_tokens, 1_000, "the model's own limit is what was reserved");
    assert.equal(s.balance(assessment).reservedMicros - before, 7 * 3 + 1_000 * 15);
  });

  it('bound leaves a request with its own output limit as it is', () => {
    const s = setup();
    for (const request of [
      { ...REQUEST, max_tokens: 50 },
      { ...REQUEST, max_completion_tokens: 50 },
    ] as ChatCompletionRequest[]) {
      const r = granted(s.callFor({ request }).call.reserve(s.model('premium-a')));
      assert.equal(r.bound(request), request);
    }
  });

  it('settle books the tokens at the model’s price and releases the rest; a second settle or a release does nothing', () => {
    const { ledger, settles } = countingLedger();
    const s = setup(undefined, ledger);
    const { call, assessment } = s.callFor();
    const r = granted(call.reserve(s.model('premium-a')));
    r.settle({ promptTokens: 1_000, completionTokens: 500 });
    assert.deepEqual([s.balance(assessment).spentMicros, s.balance(assessment).reservedMicros], [1_000 * 3 + 500 * 15, 0]);
    r.settle({ promptTokens: 1_000, completionTokens: 500 });
    r.release();
    assert.deepEqual(settles, [{ reserved: PREMIUM_A_WORST, actual: 10_500 }]);
    assert.equal(s.balance(assessment).spentMicros, 10_500);
  });

  it('release books nothing and frees the whole reservation, once; a settle after it books nothing', () => {
    const { ledger, settles } = countingLedger();
    const s = setup(undefined, ledger);
    const { call, assessment } = s.callFor();
    const first = granted(call.reserve(s.model('premium-a')));
    const second = granted(call.reserve(s.model('premium-b')));
    first.release();
    first.release();
    first.settle({ promptTokens: 1_000, completionTokens: 500 });
    assert.deepEqual(settles, [{ reserved: PREMIUM_A_WORST, actual: 0 }]);
    assert.deepEqual([s.balance(assessment).spentMicros, s.balance(assessment).reservedMicros], [0, PREMIUM_A_WORST], "the other attempt's reservation stays");
    second.release();
    assert.equal(s.balance(assessment).reservedMicros, 0);
  });

  it('an asynchronous ledger answers with a promise of the same reservation', async () => {
    const inner = new InMemoryBudgetLedgerStore();
    const { ledger, settles } = countingLedger(inner);
    const s = setup(undefined, { ...ledger, reserve: (t, a, l) => Promise.resolve(inner.reserve(t, a, l)) } as BudgetLedgerStore);
    const { call } = s.callFor();
    const pending = call.reserve(s.model('premium-a'));
    assert.ok(pending instanceof Promise);
    const r = granted(await pending);
    r.settle({ promptTokens: 10, completionTokens: 5 });
    r.release();
    assert.deepEqual(settles, [{ reserved: PREMIUM_A_WORST, actual: 10 * 3 + 5 * 15 }]);
  });
});

describe('CallBudget: an attempt that does not fit', () => {
  it('says so against the remaining period budget, and reserves nothing', () => {
    const s = setup(fixturePolicy({ budgets: { tenants: { acme: { budgetUsd: 0.1 } } } }));
    const { call, assessment } = s.callFor();
    granted(call.reserve(s.model('premium-a')));
    const reason = refused(call.reserve(s.model('premium-b')));
    assert.equal(reason, 'worst case $0.061461 does not fit the remaining budget ($0.061461 of $0.1 committed)');
    assert.equal(s.balance(assessment).reservedMicros, PREMIUM_A_WORST);
    // A cheaper target still fits what is left.
    granted(call.reserve(s.model('standard-1')));
  });

  it('says so against the daily cap of a capped class', () => {
    const s = setup(fixturePolicy({ budgets: { tenants: { acme: { budgetUsd: 100, dailyCapUsd: 0.01 } } } }));
    const { call } = s.callFor({ cls: 'batch' });
    granted(call.reserve(s.model('standard-1')));
    assert.equal(refused(call.reserve(s.model('standard-1'))), 'worst case $0.006148 does not fit the daily cap ($0.006148 of $0.01 committed)');
  });

  it('a store gone away fails a fail-closed class with the typed 503', async () => {
    const inner = new InMemoryBudgetLedgerStore();
    const { ledger } = countingLedger(inner);
    const s = setup(undefined, { ...ledger, reserve: () => Promise.reject(new Error('connect ECONNREFUSED')) } as BudgetLedgerStore);
    await assert.rejects(s.callFor().call.reserve(s.model('premium-a')) as Promise<unknown>, (err: unknown) => {
      assert.ok(err instanceof LlmRouterError);
      assert.equal(err.code, 'budget_store_unavailable');
      assert.equal(err.httpStatus, 503);
      return true;
    });
  });

  it('a fail-open class spends its allowance unmetered; what a settle did not use is given back', async () => {
    const doc = fixturePolicy({ budgets: { tenants: { acme: { budgetUsd: 100 } } } });
    doc.classes['general']!.onBudgetStoreUnavailable = { failOpenUpToUsd: 0.1 };
    const inner = new InMemoryBudgetLedgerStore();
    const s = setup(doc, { ...countingLedger(inner).ledger, reserve: () => Promise.reject(new Error('connect ECONNREFUSED')) } as BudgetLedgerStore);
    const { call } = s.callFor();
    const first = granted(await call.reserve(s.model('premium-a')));
    // Two worst cases do not fit $0.1 ...
    await assert.rejects(call.reserve(s.model('premium-a')) as Promise<unknown>, /allowance is used up/);
    // ... but once the first books only what it used, the second does.
    first.settle({ promptTokens: 10, completionTokens: 5 });
    granted(await call.reserve(s.model('premium-a')));
  });
});

describe('CallBudget: what it reports', () => {
  it('the assessed snapshot, with what the downgrade did to the plan', async () => {
    const s = setup(fixturePolicy({ budgets: { tenants: { acme: { budgetUsd: 100 } } } }));
    const plain = s.callFor({ cls: 'titles' });
    assert.equal(plain.call.snapshot, plain.assessment.snapshot);
    assert.equal(plain.call.snapshot!.action, undefined);
    await s.budgets.restoreSpend('acme', { spentUsd: 81 });
    const taken = s.callFor({ cls: 'titles' }).call.snapshot!;
    assert.deepEqual([taken.tier, taken.action], ['downgrade', 'downgraded to the cheaper route']);
    const blocked = s.callFor({ cls: 'titles', floor: { tier: 'premium' } }).call.snapshot!;
    assert.equal(blocked.action, 'downgrade blocked by the quality floor: route kept');
  });
});

describe('CallBudget: the prompt counted by the model\'s tokenizer, corrected by what the provider reports', () => {
  /** Code counts more tokens than 4 characters each: the estimate by script falls short. */
  const CODE: ChatCompletionRequest = { messages: [{ role: 'user', content: 'const f=(x)=>x.map((y)=>y*2).filter(Boolean);\n'.repeat(40) }], max_tokens: 100 };
  const withTokenizer = () => {
    const doc = fixturePolicy({ budgets: { tenants: { acme: { budgetUsd: 1 } } } });
    doc.models['premium-a'] = { ...doc.models['premium-a']!, tokenizer: 'cl100k_base' };
    return doc;
  };

  it('reserves for the tokenizer count once the prompt has been counted (by script until then)', async () => {
    const tokens = new TokenCounter();
    try {
      const s = setup(withTokenizer(), undefined, tokens);
      const first = s.callFor({ request: CODE });
      granted(first.call.reserve(s.model('premium-a')));
      const byScript = s.balance(first.assessment).reservedMicros;
      assert.equal(byScript, worstCaseCostMicros(s.model('premium-a'), deriveRequestNeeds(CODE)));
      await tokens.settled();
      const second = s.callFor({ request: CODE });
      granted(second.call.reserve(s.model('premium-a')));
      const exact = new Tiktoken(cl100k).encode(CODE.messages[0]!.content as string).length + 4;
      assert.ok(exact > deriveRequestNeeds(CODE).estimatedPromptTokens * 1.25, `the tokenizer counts ${exact}, beyond the estimate's margin`);
      assert.equal(s.balance(second.assessment).reservedMicros - byScript, worstCaseCostMicros(s.model('premium-a'), deriveRequestNeeds(CODE), exact));
    } finally {
      tokens.close();
    }
  });

  it('a provider reporting 4x: the served attempt reports its reservation, overshoot and the budget left; the next reserves 4x', () => {
    const s = setup(fixturePolicy({ budgets: { tenants: { acme: { budgetUsd: 1 } } } }));
    const request: ChatCompletionRequest = { messages: [{ role: 'user', content: 'x'.repeat(4_000) }], max_tokens: 100 };
    const needs = deriveRequestNeeds(request);
    const first = s.callFor({ request });
    const r = granted(first.call.reserve(s.model('premium-a')));
    const reserved = worstCaseCostMicros(s.model('premium-a'), needs);
    r.settle({ promptTokens: 4 * needs.estimatedPromptTokens, completionTokens: 100, estimated: false });
    const cost = 4 * needs.estimatedPromptTokens * 3 + 100 * 15;
    assert.deepEqual(
      [first.call.snapshot!.reservedUsd, first.call.snapshot!.overshootUsd, first.call.snapshot!.remainingUsd],
      [reserved / 1e6, (cost - reserved) / 1e6, (1_000_000 - cost) / 1e6],
    );
    const second = s.callFor({ request });
    granted(second.call.reserve(s.model('premium-a')));
    assert.equal(s.balance(second.assessment).reservedMicros, worstCaseCostMicros(s.model('premium-a'), needs, needs.estimatedPromptTokens, 4));
    assert.ok(s.balance(second.assessment).reservedMicros >= cost, 'the next reservation covers what the provider reports');
  });

  it('usage the router had to count itself teaches nothing', () => {
    const s = setup();
    const r = granted(s.callFor().call.reserve(s.model('premium-a')));
    r.settle({ promptTokens: 500, completionTokens: 10, estimated: true });
    const next = s.callFor();
    granted(next.call.reserve(s.model('premium-a')));
    assert.equal(s.balance(next.assessment).reservedMicros, PREMIUM_A_WORST);
  });

  it('a ledger that answers the settle later: the budget left as of the reservation, with the cost in its place', async () => {
    const inner = new InMemoryBudgetLedgerStore();
    const s = setup(undefined, {
      reserve: (t, a, l) => inner.reserve(t, a, l),
      settle: (t, r, a, k) => Promise.resolve(inner.settle(t, r, a, k)),
      balance: (t, k) => inner.balance(t, k),
      restore: (t, k, sp, d) => inner.restore(t, k, sp, d),
      markCrossing: (t, k, tier) => inner.markCrossing(t, k, tier),
    });
    const other = granted(s.callFor().call.reserve(s.model('standard-1')));
    const { call } = s.callFor();
    granted(call.reserve(s.model('premium-a'))).settle({ promptTokens: 10, completionTokens: 5 });
    const cost = 10 * 3 + 5 * 15;
    assert.equal(call.snapshot!.remainingUsd, (1_000_000 - STANDARD_1_WORST - cost) / 1e6);
    assert.equal(call.snapshot!.overshootUsd, 0);
    other.release();
  });
});
