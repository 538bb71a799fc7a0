import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VirtualAction, VirtualTimeScheduler, type Observable } from 'rxjs';
import type { ChatCompletionRequest } from '../chat/chat-completion.types.js';
import { LlmRouterError } from '../errors/llm-router.error.js';
import { InMemoryCircuitStateStore } from '../execution/circuit/in-memory-circuit-state.store.js';
import type { CircuitStateStore } from '../execution/circuit/circuit-state.store.js';
import { createLlmRouter } from './create-llm-router.js';
import type { LlmRouter } from './llm-router.service.js';
import { compilePolicy } from '../policy/compile-policy.js';
import type { PolicyDocument } from '../policy/policy.schema.js';
import type { RoutingRecord } from '../telemetry/routing-record.js';
import { anthropicMessageBody, fixturePolicy, openAiCompletionBody, openAiStreamPieces } from '../testing/policy.fixture.js';
import { ScriptedTransport } from '../testing/scripted-transport.js';
import type { BudgetLedgerStore } from '../budget/budget-ledger.store.js';
import { InMemoryBudgetLedgerStore } from '../budget/in-memory-budget-ledger.store.js';
import { InMemorySessionStore } from '../session/in-memory-session.store.js';
import type { SessionState, SessionStore } from '../session/session-store.js';

const REQUEST: ChatCompletionRequest = { messages: [{ role: 'user', content: 'hi' }], max_tokens: 100 };

function harness(doc: PolicyDocument, budgetLedger?: BudgetLedgerStore, sessionStore?: SessionStore) {
  const scheduler = new VirtualTimeScheduler(VirtualAction, Infinity);
  const transport = new ScriptedTransport(undefined, scheduler);
  for (const m of ['frontier-1', 'premium-a', 'standard-1']) transport.script(m, { status: 200, body: openAiCompletionBody(m) });
  for (const m of ['premium-b', 'economy-1']) transport.script(m, { status: 200, body: anthropicMessageBody(m) });
  const router = createLlmRouter({ policy: compilePolicy(doc), transport, scheduler, ...(budgetLedger ? { budgetLedger } : {}), ...(sessionStore ? { sessionStore } : {}), clock: () => Date.UTC(2026, 10, 25) });
  const records: RoutingRecord[] = [];
  router.records$.subscribe((r) => records.push(r));
  const run = <T>(source: Observable<T>) => {
    const out: { values: T[]; error?: unknown } = { values: [] };
    source.subscribe({ next: (v) => out.values.push(v), error: (e) => (out.error = e) });
    scheduler.flush();
    return out;
  };
  return { router, transport, records, run };
}

const withBudget = (budgetUsd: number) => fixturePolicy({ budgets: { tenants: { acme: { budgetUsd } } } });

describe('budget-aware routing', () => {
  it('every routed response carries the budget state; the record says which tier applied', async () => {
    const h = harness(withBudget(100));
    await h.router.budgets.restoreSpend('acme', { spentUsd: 72 });
    const out = h.run(h.router.completion$(REQUEST, { trafficClass: 'general', tenant: 'acme' }));
    assert.equal(out.values[0]!.outcome.budget!.tier, 'notice');
    assert.equal(out.values[0]!.outcome.budget!.shareUsed, 0.72);
    assert.equal(h.records[0]!.budget!.tier, 'notice');
  });

  it('at 80 % a nonessential class takes its cheaper route, and the record says so', async () => {
    const h = harness(withBudget(100));
    await h.router.budgets.restoreSpend('acme', { spentUsd: 81 });
    const out = h.run(h.router.completion$(REQUEST, { trafficClass: 'titles', tenant: 'acme' }));
    assert.equal(out.values[0]!.outcome.model, 'economy-1'); // the normal route starts with premium-a
    assert.deepEqual(h.records[0]!.plannedRoute, ['economy-1', 'standard-1', 'premium-a']);
    assert.equal(h.records[0]!.budget!.action, 'downgraded to the cheaper route');
  });

  it('a downgrade never goes below the quality floor: the class keeps its route', async () => {
    const h = harness(withBudget(100));
    await h.router.budgets.restoreSpend('acme', { spentUsd: 81 });
    const out = h.run(h.router.completion$(REQUEST, { trafficClass: 'titles', tenant: 'acme', qualityFloor: { tier: 'premium' } }));
    assert.equal(out.values[0]!.outcome.model, 'premium-a');
    assert.equal(h.records[0]!.budget!.action, 'downgrade blocked by the quality floor: route kept');
  });

  it('at 100 % nothing is routed, not even to a cheaper fallback: 402 insufficient_quota, no upstream call', async () => {
    const h = harness(withBudget(100));
    await h.router.budgets.restoreSpend('acme', { spentUsd: 100 });
    const out = h.run(h.router.completion$(REQUEST, { trafficClass: 'support', tenant: 'acme' }));
    assert.ok(out.error instanceof LlmRouterError);
    assert.equal(out.error.httpStatus, 402);
    assert.equal(out.error.code, 'insufficient_quota');
    assert.equal(h.transport.calls.length, 0);
    assert.equal(h.records[0]!.errorCategory, 'budget_exhausted');
  });

  it('each attempt reserves its own worst case: a pricey fallback that does not fit is skipped for one that does', async () => {
    // premium-a fails; premium-b would cost more than what is left; standard-1 fits.
    const doc = withBudget(0.01);
    doc.classes['general'] = { criticality: 'standard', route: ['premium-a', 'frontier-1', 'standard-1'], retriesPerTarget: 0 };
    const h = harness(doc);
    h.transport.script('premium-a', { status: 503, body: '{}' });
    const out = h.run(h.router.completion$({ ...REQUEST, max_tokens: 500 }, { trafficClass: 'general', tenant: 'acme' }));
    assert.equal(out.error, undefined);
    assert.equal(out.values[0]!.outcome.model, 'standard-1');
    const frontier = h.records[0]!.attempts.find((a) => a.model === 'frontier-1')!;
    assert.equal(frontier.outcome, 'skipped');
    assert.equal(frontier.category, 'budget_reservation_denied');
    assert.deepEqual(h.transport.calls, ['premium-a', 'standard-1']);
  });

  it('normal tier, a primary whose worst case does not fit: the fallback says why in the budget action', () => {
    const doc = withBudget(0.01);
    doc.classes['general'] = { criticality: 'standard', route: ['premium-a', 'standard-1'], retriesPerTarget: 0 };
    const h = harness(doc);
    const out = h.run(h.router.completion$({ ...REQUEST, max_tokens: 1_000 }, { trafficClass: 'general', tenant: 'acme' }));
    assert.equal(out.error, undefined);
    const { outcome } = out.values[0]!;
    assert.equal(outcome.model, 'standard-1');
    assert.equal(outcome.fallback, true);
    assert.equal(outcome.budget!.tier, 'normal');
    const action = 'premium-a skipped: its worst case $0.015021 does not fit the remaining budget ($0.000000 of $0.01 committed)';
    assert.equal(outcome.budget!.action, action);
    assert.equal(h.records[0]!.budget!.action, action);
    assert.deepEqual(h.transport.calls, ['standard-1']);
  });

  it('a daily cap that no worst case fits refuses with daily_cap_exhausted, as a spent cap does', async () => {
    const h = harness(fixturePolicy({ budgets: { tenants: { acme: { budgetUsd: 100, dailyCapUsd: 0.00001 } } } }));
    const out = h.run(h.router.completion$(REQUEST, { trafficClass: 'batch', tenant: 'acme' }));
    assert.ok(out.error instanceof LlmRouterError);
    assert.equal(out.error.httpStatus, 402);
    assert.equal(out.error.code, 'daily_cap_exhausted');
    assert.match(out.error.message, /cannot afford this request within its daily cap on the "batch" route: standard-1: worst case \$[\d.]+ does not fit the daily cap/);
    assert.deepEqual(h.records[0]!.attempts.map((a) => a.code), ['daily_cap_exhausted', 'daily_cap_exhausted']);
    await h.router.budgets.restoreSpend('acme', { spentUsd: 0.00001, dailySpentUsd: 0.00001 });
    const spent = h.run(h.router.completion$(REQUEST, { trafficClass: 'batch', tenant: 'acme' }));
    assert.equal((spent.error as LlmRouterError).code, 'daily_cap_exhausted');
    assert.equal(h.transport.calls.length, 0);
  });

  it('a request whose worst case fits nowhere is refused with 402 before any call', () => {
    const h = harness(withBudget(0.0001));
    const out = h.run(h.router.completion$({ ...REQUEST, max_tokens: 4000 }, { trafficClass: 'general', tenant: 'acme' }));
    assert.ok(out.error instanceof LlmRouterError);
    assert.equal(out.error.httpStatus, 402);
    assert.equal(out.error.code, 'insufficient_quota');
    assert.equal(h.transport.calls.length, 0);
  });

  it('settles the provider-reported cost; a failed attempt releases its reservation', async () => {
    const h = harness(withBudget(10));
    h.transport.script('premium-a', { status: 503, body: '{}' }, { status: 200, body: openAiCompletionBody('premium-a') });
    h.run(h.router.completion$(REQUEST, { trafficClass: 'general', tenant: 'acme' }));
    const state = (await h.router.budgets.state('acme'))!;
    assert.equal(state.spentUsd, (10 * 3 + 5 * 15) / 1e6);
    assert.equal(state.reservedUsd, 0);
  });

  it('a routed completion carries its cost as its routing record books it; none without reported usage', () => {
    const h = harness(withBudget(10));
    const out = h.run(h.router.completion$(REQUEST, { trafficClass: 'general', tenant: 'acme' }));
    assert.equal(out.values[0]!.costUsd, (10 * 3 + 5 * 15) / 1e6);
    assert.equal(out.values[0]!.costUsd, h.records[0]!.costUsd);
    const noUsage = JSON.stringify({ ...JSON.parse(openAiCompletionBody('premium-a')), usage: undefined });
    h.transport.script('premium-a', { status: 200, body: noUsage });
    const without = h.run(h.router.completion$(REQUEST, { trafficClass: 'general', tenant: 'acme' }));
    assert.equal(without.error, undefined);
    assert.equal(without.values[0]!.costUsd, undefined);
  });

  it('a target whose circuit is open is skipped before any budget is reserved for it', async () => {
    const ledger = new InMemoryBudgetLedgerStore();
    const reserved: number[] = [];
    const counting: BudgetLedgerStore = {
      reserve: (t, a, l) => (reserved.push(a), ledger.reserve(t, a, l)),
      settle: (t, r, a, k) => ledger.settle(t, r, a, k),
      balance: (t, k) => ledger.balance(t, k),
      restore: (t, k, s, d) => ledger.restore(t, k, s, d),
      markCrossing: (t, k, tier) => ledger.markCrossing(t, k, tier),
    };
    const circuits = new InMemoryCircuitStateStore();
    // The executor's clock is its scheduler's (real time here); the budget period's is the router's `clock`.
    circuits.recordFailure('premium-a', { now: Date.now(), failureThreshold: 5, cooldownMs: 3_600_000, openNow: true });
    const transport = new ScriptedTransport(undefined);
    transport.script('premium-b', { status: 200, body: anthropicMessageBody('premium-b') });
    const router = createLlmRouter({ policy: compilePolicy(withBudget(10)), transport, budgetLedger: counting, circuits, clock: () => Date.UTC(2026, 10, 25) });
    const records: RoutingRecord[] = [];
    router.records$.subscribe((r) => records.push(r));
    await new Promise<void>((resolve, reject) => router.completion$(REQUEST, { trafficClass: 'general', tenant: 'acme' }).subscribe({ error: reject, complete: resolve }));
    assert.deepEqual(records[0]!.attempts.map((a) => [a.model, a.outcome, a.category]), [['premium-a', 'skipped', 'circuit_open'], ['premium-b', 'success', undefined]]);
    assert.equal(reserved.length, 1, 'one reservation: for the target that was called');
    assert.deepEqual(transport.calls, ['premium-b']);
    assert.equal((await router.budgets.state('acme'))!.reservedUsd, 0);
  });

  it('streams are charged from the usage they report, never zero', async () => {
    const h = harness(withBudget(10));
    h.transport.script('premium-a', { status: 200, chunks: openAiStreamPieces('premium-a', ['a', 'b', 'c']) });
    h.run(h.router.stream$({ ...REQUEST, stream: true }, { trafficClass: 'general', tenant: 'acme' }));
    const state = (await h.router.budgets.state('acme'))!;
    assert.equal(state.spentUsd, (10 * 3 + 3 * 15) / 1e6);
    assert.equal(state.reservedUsd, 0);
  });
});

describe('budget-aware routing: asynchronous ledgers', () => {
  /** The in-process ledger behind promises that resolve when the test says so. */
  function deferredLedger() {
    const inner = new InMemoryBudgetLedgerStore();
    const pending: Array<() => void> = [];
    const later = <T>(fn: () => T): Promise<T> => new Promise((resolve) => pending.push(() => resolve(fn())));
    const ledger: BudgetLedgerStore = {
      reserve: (t, a, l) => later(() => inner.reserve(t, a, l)),
      settle: (t, r, a, k) => Promise.resolve(inner.settle(t, r, a, k)),
      balance: (t, k) => later(() => inner.balance(t, k)),
      restore: (t, k, s, d) => Promise.resolve(inner.restore(t, k, s, d)),
      markCrossing: (t, k, tier) => Promise.resolve(inner.markCrossing(t, k, tier)),
    };
    const release = async () => {
      while (pending.length > 0) {
        pending.shift()!();
        await new Promise((r) => setImmediate(r));
      }
    };
    const releaseOne = async () => {
      pending.shift()?.();
      await new Promise((r) => setImmediate(r));
    };
    return { ledger, inner, release, releaseOne };
  }

  function asyncHarness() {
    const d = deferredLedger();
    const transport = new ScriptedTransport({ status: 200, body: openAiCompletionBody('premium-a') });
    const router = createLlmRouter({ policy: compilePolicy(withBudget(10)), transport, budgetLedger: d.ledger, clock: () => Date.UTC(2026, 10, 25) });
    const records: RoutingRecord[] = [];
    router.records$.subscribe((r) => records.push(r));
    return { ...d, router, transport, records };
  }

  it('a caller gone while the reservation is pending leaves nothing reserved', async () => {
    const h = asyncHarness();
    const sub = h.router.completion$(REQUEST, { trafficClass: 'general', tenant: 'acme' }).subscribe({ error: () => undefined });
    await h.releaseOne(); // the assessment answers; the reservation is now pending
    sub.unsubscribe();
    await h.releaseOne(); // the reservation is granted after the caller left
    const balance = h.inner.balance('acme', { periodKey: '2026-11', periodTtlSec: 60 });
    assert.equal(balance.reservedMicros, 0);
    assert.equal(h.transport.calls.length, 0);
  });

  it('a caller gone while the circuit store takes the probe leaves nothing reserved', async () => {
    // A shared circuit store answers asynchronously when it takes a half-open probe (a round trip to Redis).
    const d = deferredLedger();
    const inner = new InMemoryCircuitStateStore();
    const probes: Array<() => void> = [];
    const circuits: CircuitStateStore = {
      acquire: (t, now, lease) => new Promise((resolve) => probes.push(() => resolve(inner.acquire(t, now, lease)))),
      recordSuccess: (t) => inner.recordSuccess(t),
      recordFailure: (t, o) => inner.recordFailure(t, o),
      snapshot: (now) => inner.snapshot(now),
    };
    const transport = new ScriptedTransport({ status: 200, body: openAiCompletionBody('premium-a') });
    const router = createLlmRouter({ policy: compilePolicy(withBudget(10)), transport, budgetLedger: d.ledger, circuits, clock: () => Date.UTC(2026, 10, 25) });
    const sub = router.completion$(REQUEST, { trafficClass: 'general', tenant: 'acme' }).subscribe({ error: () => undefined });
    await d.release(); // assessed and reserved: the circuit's answer is now pending
    assert.equal(probes.length, 1);
    assert.ok(d.inner.balance('acme', { periodKey: '2026-11', periodTtlSec: 60 }).reservedMicros > 0);
    sub.unsubscribe();
    probes.shift()!(); // the gate answers after the caller left
    await new Promise((r) => setImmediate(r));
    assert.equal(d.inner.balance('acme', { periodKey: '2026-11', periodTtlSec: 60 }).reservedMicros, 0);
    assert.equal(transport.calls.length, 0);
  });

  it('a caller gone while the budget is being assessed still leaves one record', async () => {
    const h = asyncHarness();
    const sub = h.router.completion$(REQUEST, { trafficClass: 'general', tenant: 'acme' }).subscribe({ error: () => undefined });
    sub.unsubscribe();
    await h.release();
    assert.equal(h.records.length, 1);
    assert.equal(h.records[0]!.outcome, 'aborted');
  });

  it('a budgeted call without max_tokens sends the reserved allowance upstream', async () => {
    const h = asyncHarness();
    const sent: string[] = [];
    const send = h.transport.send.bind(h.transport);
    h.transport.send = (req) => {
      sent.push(req.request.body);
      return send(req);
    };
    const done = h.router.complete({ messages: [{ role: 'user', content: 'hi' }] }, { trafficClass: 'general', tenant: 'acme' });
    await h.release();
    await done;
    assert.equal(JSON.parse(sent[0]!).max_tokens, 4096);
  });
});

describe('budget-aware routing: two processes on one ledger', () => {
  /** Two routers ("processes") on one ledger; `reads` counts the balance reads of the second, `down` cuts it off the ledger. */
  function twoProcesses(doc: PolicyDocument, sessionStore?: SessionStore) {
    const shared = new InMemoryBudgetLedgerStore();
    let reads = 0;
    let down = false;
    const refused = () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:1'));
    const counted: BudgetLedgerStore = {
      reserve: (t, a, l, lease, expect) => (down ? refused() : shared.reserve(t, a, l, lease, expect)),
      settle: (t, r, a, k) => shared.settle(t, r, a, k),
      balance: (t, k) => (reads++, down ? refused() : shared.balance(t, k)),
      restore: (t, k, s, d) => shared.restore(t, k, s, d),
      markCrossing: (t, k, tier) => shared.markCrossing(t, k, tier),
    };
    return { a: harness(doc, shared), b: harness(doc, counted, sessionStore), reads: () => reads, cut: () => (down = true) };
  }

  it("a tier another process's spend moved is confirmed by the first reservation: planned again on it, one record, no call on the stale plan", async () => {
    const p = twoProcesses(withBudget(100));
    const first = p.b.run(p.b.router.completion$(REQUEST, { trafficClass: 'titles', tenant: 'acme' }));
    assert.equal(first.values[0]!.outcome.budget!.tier, 'normal');
    assert.equal(p.reads(), 1, 'the first call of a tenant in a process reads its balance');
    const second = p.b.run(p.b.router.completion$(REQUEST, { trafficClass: 'general', tenant: 'acme' }));
    assert.equal(second.values[0]!.outcome.budget!.tier, 'normal');
    assert.equal(p.reads(), 1, 'later calls are decided on the last known balance, confirmed by their reservation');

    // The other process spends the tenant past 80 %: a nonessential class must now take its cheaper route here too.
    await p.a.router.budgets.restoreSpend('acme', { spentUsd: 81 });
    const calls = p.b.transport.calls.length;
    const moved = p.b.run(p.b.router.completion$(REQUEST, { trafficClass: 'titles', tenant: 'acme' }));
    assert.equal(moved.values[0]!.outcome.model, 'economy-1');
    assert.equal(moved.values[0]!.outcome.budget!.tier, 'downgrade');
    assert.equal(p.b.records.length, 3, 'the call planned again leaves one record');
    assert.deepEqual(p.b.records[2]!.plannedRoute, ['economy-1', 'standard-1', 'premium-a']);
    assert.equal(p.b.records[2]!.budget!.action, 'downgraded to the cheaper route');
    assert.equal(p.b.transport.calls.length, calls + 1, 'nothing was called on the stale plan');

    // Past 95 %: batch is paused here as it would be on a read.
    await p.a.router.budgets.restoreSpend('acme', { spentUsd: 96 });
    const paused = p.b.run(p.b.router.completion$(REQUEST, { trafficClass: 'batch', tenant: 'acme' }));
    assert.ok(paused.error instanceof LlmRouterError);
    assert.equal(paused.error.code, 'budget_restricted');

    // At 100 %: refused with the typed 402, no upstream call, recorded as a refusal before planning.
    await p.a.router.budgets.restoreSpend('acme', { spentUsd: 100 });
    const before = p.b.transport.calls.length;
    const refused = p.b.run(p.b.router.completion$(REQUEST, { trafficClass: 'support', tenant: 'acme' }));
    assert.ok(refused.error instanceof LlmRouterError);
    assert.equal(refused.error.httpStatus, 402);
    assert.equal(refused.error.code, 'insufficient_quota');
    assert.match(refused.error.message, /has spent \$100\.000000 of its \$100 budget/);
    assert.equal(p.b.transport.calls.length, before);
    assert.equal(p.b.records.at(-1)!.errorCategory, 'budget_exhausted');
    assert.equal(p.b.records.at(-1)!.plannedRoute.length, 0, 'refused before planning, as on a read');
  });

  it('a session turn planned again is kept once: one save, on the model that served it, the turn in the transcript once', async () => {
    const sessions = new InMemorySessionStore();
    const saved: SessionState[] = [];
    const store: SessionStore = { get: (k) => sessions.get(k), set: (k, state, ttl) => (saved.push(state), sessions.set(k, state, ttl)), delete: (k) => sessions.delete(k) };
    const p = twoProcesses(withBudget(100), store);
    p.b.run(p.b.router.completion$(REQUEST, { trafficClass: 'general', tenant: 'acme' }));
    await p.a.router.budgets.restoreSpend('acme', { spentUsd: 81 });
    const turn = p.b.run(p.b.router.session('s1', { trafficClass: 'titles', tenant: 'acme' }).completion$('hello'));
    assert.equal(turn.values.length, 1);
    assert.equal(turn.values[0]!.outcome.model, 'economy-1', 'planned again on the downgrade tier');
    assert.equal(saved.length, 1, 'the turn is saved once, by the call that ran');
    assert.equal(saved[0]!.target, 'economy-1');
    assert.deepEqual(saved[0]!.transcript!.map((m) => m.role), ['user', 'assistant']);
  });

  it("a daily cap another process used up refuses this process's next capped call", async () => {
    const p = twoProcesses(fixturePolicy({ budgets: { tenants: { acme: { budgetUsd: 100, dailyCapUsd: 5 } } } }));
    assert.equal(p.b.run(p.b.router.completion$(REQUEST, { trafficClass: 'batch', tenant: 'acme' })).values.length, 1);
    await p.a.router.budgets.restoreSpend('acme', { spentUsd: 6, dailySpentUsd: 6 });
    const refused = p.b.run(p.b.router.completion$(REQUEST, { trafficClass: 'batch', tenant: 'acme' }));
    assert.ok(refused.error instanceof LlmRouterError);
    assert.equal(refused.error.code, 'daily_cap_exhausted');
    assert.match(refused.error.message, /has reached its daily cap of \$5 for batch traffic/, 'the refusal before planning, not a reservation skipped');
    assert.equal(p.b.records.at(-1)!.plannedRoute.length, 0);
  });

  it("a ledger that stops answering after the tenant's balance is known: the class's outage rule, as on a read", async () => {
    const doc = withBudget(100);
    doc.classes['titles']!.onBudgetStoreUnavailable = { failOpenUpToUsd: 1 };
    const p = twoProcesses(doc);
    p.b.run(p.b.router.completion$(REQUEST, { trafficClass: 'general', tenant: 'acme' }));
    p.cut();
    const closed = p.b.router.complete(REQUEST, { trafficClass: 'general', tenant: 'acme' });
    await assert.rejects(closed, (err: unknown) => {
      assert.ok(err instanceof LlmRouterError);
      assert.equal(err.code, 'budget_store_unavailable');
      assert.match(err.message, /The budget of tenant "acme" cannot be checked \(connect ECONNREFUSED 127\.0\.0\.1:1\); class "general" fails closed\./);
      return true;
    });
    assert.equal(p.b.records.at(-1)!.plannedRoute.length, 0, 'refused before planning, as on a read');
    const open = p.b.router.complete(REQUEST, { trafficClass: 'titles', tenant: 'acme' });
    const served = await open;
    assert.equal(served.outcome.budget!.action, 'budget store unavailable: served unmetered (fail-open)');
  });
});
