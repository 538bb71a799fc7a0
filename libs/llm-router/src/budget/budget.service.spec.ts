import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LlmRouterError } from '../errors/llm-router.error.js';
import { refusal } from '../testing/refusal.spec-helper.js';
import { compilePolicy } from '../policy/compile-policy.js';
import type { PolicyDocument } from '../policy/policy.schema.js';
import { fixturePolicy } from '../testing/policy.fixture.js';
import type { BudgetLedgerStore } from './budget-ledger.store.js';
import { BudgetService, type BudgetAssessment, type BudgetReservation, type ReserveOutcome } from './budget.service.js';
import type { BudgetEvent } from './budget.types.js';
import { InMemoryBudgetLedgerStore } from './in-memory-budget-ledger.store.js';
import { usdToMicros } from './usd.js';

const NOV_25 = Date.UTC(2026, 10, 25, 12);

function service(doc: PolicyDocument = fixturePolicy({ budgets: { tenants: { acme: { budgetUsd: 100, dailyCapUsd: 5 } } } }), ledger: BudgetLedgerStore = new InMemoryBudgetLedgerStore()) {
  const policy = compilePolicy(doc);
  let now = NOV_25;
  const events: BudgetEvent[] = [];
  const budgets = new BudgetService(policy, ledger, () => now);
  budgets.events$.subscribe((e) => events.push(e));
  const cls = (name: string) => policy.classes.get(name)!;
  const assess = (name: string, tenant = 'acme') => budgets.assess(tenant, cls(name)) as BudgetAssessment | undefined;
  /** Spend `usd` through a reservation, as a routed call would. */
  const spend = (usd: number, name = 'general') => {
    const a = assess(name)!;
    const r = budgets.reserve(a, usdToMicros(usd), cls(name)) as ReserveOutcome;
    assert.ok(r.fits, 'reservation granted');
    budgets.settle(r, usdToMicros(usd));
  };
  return { budgets, policy, events, cls, assess, spend, ledger, setNow: (t: number) => (now = t) };
}


describe('BudgetService: tiers decide routing per class', () => {
  it('tenants without a budget are not assessed', () => {
    const s = service();
    assert.equal(s.assess('general', 'nobody'), undefined);
    assert.equal(s.budgets.assess(undefined, s.cls('general')), undefined);
  });

  it('below 70 %: normal, no downgrade for any class', () => {
    const s = service();
    s.spend(69.99);
    for (const c of ['support', 'general', 'titles']) {
      const a = s.assess(c)!;
      assert.equal(a.snapshot!.tier, 'normal');
      assert.equal(a.downgrade, false);
    }
  });

  it('70-80 %: notice, routing unchanged, one event', () => {
    const s = service();
    s.spend(70);
    assert.equal(s.assess('titles')!.snapshot!.tier, 'notice');
    assert.equal(s.assess('titles')!.downgrade, false);
    s.spend(1);
    assert.deepEqual(s.events.map((e) => e.tier), ['notice'], 'once per crossing, not per request');
  });

  it('80 %: nonessential classes downgrade; critical and standard keep their routes', () => {
    const s = service();
    s.spend(80);
    assert.equal(s.assess('titles')!.downgrade, true);
    assert.equal(s.assess('general')!.downgrade, false);
    assert.equal(s.assess('support')!.downgrade, false);
    assert.deepEqual(s.events.map((e) => e.tier), ['notice', 'downgrade'], 'a jump past two thresholds emits both');
  });

  it('95 %: batch refused with a typed error, interactive classes go on', () => {
    const s = service();
    s.spend(95);
    const err = refusal(() => s.assess('batch'));
    assert.equal(err.httpStatus, 402);
    assert.equal(err.code, 'budget_restricted');
    assert.match(err.message, /Tenant "acme"/);
    assert.equal(s.assess('support')!.snapshot!.tier, 'restricted');
    assert.equal(s.assess('general')!.downgrade, false);
  });

  it('100 %: every class gets an explicit quota-exhausted error naming tenant, budget and period', () => {
    const s = service();
    s.spend(100);
    for (const c of ['support', 'general', 'titles', 'exp']) {
      const err = refusal(() => s.assess(c));
      assert.equal(err.category, 'budget_exhausted');
      assert.equal(err.code, 'insufficient_quota');
      assert.equal(err.httpStatus, 402);
      assert.match(err.message, /"acme".*\$100 budget for the month 2026-11-01\.\.2026-12-01/);
    }
  });

  it('thresholds and actions are configurable per tenant', () => {
    const s = service(
      fixturePolicy({ budgets: { tenants: { acme: { budgetUsd: 10, thresholds: { notice: 0.5, downgrade: 0.6, restrict: 0.7 }, downgradeCriticalities: ['standard'] } } } }),
    );
    s.spend(6);
    assert.equal(s.assess('general')!.downgrade, true);
    assert.equal(s.assess('titles')!.downgrade, false);
  });

  it('the daily cap refuses batch traffic but not interactive traffic', () => {
    const s = service();
    s.spend(5, 'batch');
    assert.equal(refusal(() => s.assess('batch')).code, 'daily_cap_exhausted');
    assert.equal(s.assess('general')!.snapshot!.tier, 'normal');
  });
});

describe('BudgetService: reservations never overspend', () => {
  it('reserves while the worst case fits, then refuses', () => {
    const s = service(fixturePolicy({ budgets: { tenants: { acme: { budgetUsd: 1 } } } }));
    const a = s.assess('general')!;
    const granted = [];
    for (let i = 0; i < 5; i++) granted.push(s.budgets.reserve(a, usdToMicros(0.3), s.cls('general')) as ReserveOutcome);
    assert.equal(granted.filter((r) => r.fits).length, 3);
    const denied = granted.at(-1)!;
    assert.ok(!denied.fits);
    assert.match(denied.reason, /does not fit the remaining budget \(\$0\.900000 of \$1 committed\)/);
  });

  it('settling books the actual cost and releases the rest', () => {
    const s = service(fixturePolicy({ budgets: { tenants: { acme: { budgetUsd: 1 } } } }));
    const a = s.assess('general')!;
    const r = s.budgets.reserve(a, usdToMicros(0.6), s.cls('general')) as BudgetReservation;
    s.budgets.settle(r, usdToMicros(0.1));
    const b = s.ledger.balance('acme', a.limits) as { spentMicros: number; reservedMicros: number };
    assert.deepEqual([b.spentMicros, b.reservedMicros], [100_000, 0]);
    // A failed attempt releases everything.
    const r2 = s.budgets.reserve(a, usdToMicros(0.6), s.cls('general')) as BudgetReservation;
    s.budgets.settle(r2, 0);
    assert.equal((s.ledger.balance('acme', a.limits) as { spentMicros: number }).spentMicros, 100_000);
  });

  it('spend resets at the period boundary without a restart', async () => {
    const s = service();
    s.spend(100);
    assert.equal(refusal(() => s.assess('general')).code, 'insufficient_quota');
    s.setNow(Date.UTC(2026, 11, 1, 0, 0, 0));
    const a = s.assess('general')!;
    assert.equal(a.snapshot!.tier, 'normal');
    assert.equal(a.snapshot!.spentUsd, 0);
    const state = await s.budgets.state('acme');
    assert.equal(state!.periodStart, '2026-12-01T00:00:00.000Z');
  });

  it('restoreSpend raises spend from persisted usage and never lowers it', async () => {
    const s = service();
    await s.budgets.restoreSpend('acme', { spentUsd: 85 });
    assert.equal((await s.budgets.state('acme'))!.tier, 'downgrade');
    await s.budgets.restoreSpend('acme', { spentUsd: 10 });
    assert.equal((await s.budgets.state('acme'))!.spentUsd, 85);
  });

  it('budgets can be set and changed at run time', async () => {
    const s = service();
    s.spend(50);
    const state = await s.budgets.setTenantBudget('acme', { budgetUsd: 70 }); // 50 of 70 = 71 %
    assert.equal(state.tier, 'notice');
    await s.budgets.setTenantBudget('newco', { budgetUsd: 1, period: 'day' });
    assert.equal((await s.budgets.state('newco'))!.period, 'day');
  });
});

describe('BudgetService: the store cannot be reached', () => {
  const broken: BudgetLedgerStore = {
    reserve: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:1')),
    settle: () => Promise.reject(new Error('down')),
    balance: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:1')),
    restore: () => Promise.reject(new Error('down')),
    markCrossing: () => Promise.reject(new Error('down')),
  };

  it('fails closed by default with a clear 503-class error', async () => {
    const s = service(undefined, broken);
    await assert.rejects(s.budgets.assess('acme', s.cls('general')) as Promise<unknown>, (err: unknown) => {
      assert.ok(err instanceof LlmRouterError);
      assert.equal(err.httpStatus, 503);
      assert.equal(err.code, 'budget_store_unavailable');
      assert.match(err.message, /ECONNREFUSED/);
      return true;
    });
  });

  it('a fail-open class serves unmetered up to its allowance, then fails closed', async () => {
    const doc = fixturePolicy({ budgets: { tenants: { acme: { budgetUsd: 100 } } } });
    doc.classes['general']!.onBudgetStoreUnavailable = { failOpenUpToUsd: 1 };
    const s = service(doc, broken);
    const a = (await s.budgets.assess('acme', s.cls('general')))!;
    assert.equal(a.unmetered, true);
    assert.match(a.snapshot!.action!, /fail-open/);
    assert.equal((s.budgets.reserve(a, usdToMicros(0.6), s.cls('general')) as ReserveOutcome).fits, true);
    assert.throws(() => s.budgets.reserve(a, usdToMicros(0.6), s.cls('general')), /allowance is used up/);
  });
});

/** The in-memory ledger, with `settle` replaced. */
function ledgerSettling(inner: InMemoryBudgetLedgerStore, settle: BudgetLedgerStore['settle']): BudgetLedgerStore {
  return {
    reserve: (t, a, l) => inner.reserve(t, a, l),
    settle,
    balance: (t, k) => inner.balance(t, k),
    restore: (t, k, s, d) => inner.restore(t, k, s, d),
    markCrossing: (t, k, tier) => inner.markCrossing(t, k, tier),
  };
}

describe('BudgetService: settling survives a store blip', () => {
  it('a failed settle is tried again, so the reservation does not stay booked', async () => {
    const inner = new InMemoryBudgetLedgerStore();
    let failures = 1;
    const flaky = ledgerSettling(inner, (t, r, a, k) => (failures-- > 0 ? Promise.reject(new Error('ECONNRESET')) : Promise.resolve(inner.settle(t, r, a, k))));
    const s = service(undefined, flaky);
    const a = s.assess('general')!;
    const r = s.budgets.reserve(a, usdToMicros(1), s.cls('general')) as BudgetReservation;
    s.budgets.settle(r, usdToMicros(0.25));
    await new Promise((resolve) => setTimeout(resolve, 400));
    const balance = inner.balance('acme', a.limits);
    assert.deepEqual([balance.spentMicros, balance.reservedMicros], [250_000, 0]);
  });

  it('at shutdown, settles waiting for a retry are tried at once and settles in flight are awaited', async () => {
    const inner = new InMemoryBudgetLedgerStore();
    let failures = 1;
    let answer: (() => void) | undefined;
    const flaky = ledgerSettling(inner, (t, r, a, k) => {
      if (failures-- > 0) return Promise.reject(new Error('ECONNRESET'));
      // The ledger answers late: settleOutstanding must wait for it.
      return new Promise((resolve) => (answer = () => resolve(inner.settle(t, r, a, k))));
    });
    const s = service(undefined, flaky);
    const a = s.assess('general')!;
    const r = s.budgets.reserve(a, usdToMicros(1), s.cls('general')) as BudgetReservation;
    s.budgets.settle(r, usdToMicros(0.25));
    await new Promise((resolve) => setImmediate(resolve)); // the first try has failed; the retry waits 250 ms
    let done = false;
    const outstanding = s.budgets.settleOutstanding().then((n) => ((done = true), n));
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(answer, 'the retry was sent at once, not after its 250 ms');
    assert.equal(done, false, 'and is awaited');
    answer!();
    assert.equal(await outstanding, 1);
    const balance = inner.balance('acme', a.limits);
    assert.deepEqual([balance.spentMicros, balance.reservedMicros], [250_000, 0]);
  });

  it('each reservation is a lease of its own, held for the class deadline and a minute, settled by its id', () => {
    const inner = new InMemoryBudgetLedgerStore();
    const leases: Array<{ id: string; ttlMs: number }> = [];
    const settled: string[] = [];
    const recording: BudgetLedgerStore = {
      reserve: (t, a, l, lease) => (leases.push(lease), inner.reserve(t, a, l)),
      settle: (t, r, a, k, leaseId) => (settled.push(leaseId), inner.settle(t, r, a, k)),
      balance: (t, k) => inner.balance(t, k),
      restore: (t, k, s, d) => inner.restore(t, k, s, d),
      markCrossing: (t, k, tier) => inner.markCrossing(t, k, tier),
    };
    const s = service(undefined, recording);
    const a = s.assess('general')!;
    const first = s.budgets.reserve(a, 1_000, s.cls('general')) as BudgetReservation;
    const second = s.budgets.reserve(a, 1_000, s.cls('general')) as BudgetReservation;
    s.budgets.settle(second, 500);
    s.budgets.settle(first, 500);
    assert.notEqual(leases[0]!.id, leases[1]!.id);
    assert.equal(leases[0]!.ttlMs, s.cls('general').deadlineMs + 60_000);
    assert.deepEqual(settled, [leases[1]!.id, leases[0]!.id]);
  });
});

describe("BudgetService: a caller's own budget", () => {
  const key = { id: 'k1', budgetUsd: 1, period: 'day' as const, name: 'API key k1' };

  it('is reserved with the tenant budget: a worst case that does not fit it is refused, and settled spend counts', () => {
    const s = service();
    const a = s.budgets.assess('acme', s.cls('general'), key) as BudgetAssessment;
    const held = s.budgets.reserve(a, usdToMicros(0.6), s.cls('general')) as BudgetReservation;
    assert.equal(held.fits, true);
    const refused = s.budgets.reserve(a, usdToMicros(0.6), s.cls('general')) as ReserveOutcome;
    assert.equal(refused.fits, false);
    assert.match((refused as { reason: string }).reason, /own budget of API key k1 \(\$0\.600000 of \$1 committed\)/);
    s.budgets.settle(held, usdToMicros(1));
    assert.throws(() => s.budgets.assess('acme', s.cls('general'), key), (err: unknown) => {
      assert.ok(err instanceof LlmRouterError);
      assert.equal(err.code, 'insufficient_quota');
      assert.match(err.message, /API key k1 has spent \$1\.000000 of its own \$1 budget for this day/);
      return true;
    });
  });

  it('applies when the tenant has no budget, and reports no tenant snapshot', async () => {
    const s = service();
    const a = s.budgets.assess('nobody', s.cls('general'), key) as BudgetAssessment;
    assert.equal(a.snapshot, undefined);
    const held = s.budgets.reserve(a, usdToMicros(0.4), s.cls('general')) as BudgetReservation;
    s.budgets.settle(held, usdToMicros(0.25));
    assert.deepEqual(await s.budgets.callerSpend('nobody', key), { spentUsd: 0.25, reservedUsd: 0 });
    await s.budgets.restoreSpend('nobody', { spentUsd: 0, callers: [{ budget: key, spentUsd: 0.75 }] });
    assert.equal((await s.budgets.callerSpend('nobody', key)).spentUsd, 0.75, 'restored from the records, only ever up');
  });
});

describe('BudgetService: a ledger that lost a tenant state', () => {
  /** The in-process ledger, reporting every tenant lost until it is restored (as a Redis restarted empty does). */
  function forgetful() {
    const inner = new InMemoryBudgetLedgerStore();
    const restored = new Set<string>();
    const lost = { lost: true, spentMicros: 0, reservedMicros: 0, daySpentMicros: 0, dayReservedMicros: 0 };
    const ledger: BudgetLedgerStore = {
      reserve: async (t, a, l) => (restored.has(t) ? inner.reserve(t, a, l) : { granted: false, refusedBy: 'lost', balance: lost }),
      settle: async (t, r, a, k) => inner.settle(t, r, a, k),
      balance: async (t, k) => (restored.has(t) ? inner.balance(t, k) : lost),
      restore: async (t, k, s, d, c) => {
        inner.restore(t, k, s, d, c);
        restored.add(t);
      },
      markCrossing: async (t, k, tier) => inner.markCrossing(t, k, tier),
    };
    return { ledger, forget: () => restored.clear() };
  }

  it('is rebuilt from the recorded spend before the call is assessed: an exhausted tenant stays refused', async () => {
    const f = forgetful();
    const s = service(undefined, f.ledger);
    const asked: string[] = [];
    s.budgets.rebuildFrom(async (tenant) => {
      asked.push(tenant);
      return { spentUsd: 100 };
    });
    await assert.rejects(s.budgets.assess('acme', s.cls('general')) as Promise<unknown>, (err: unknown) => err instanceof LlmRouterError && err.code === 'insufficient_quota');
    assert.deepEqual(asked, ['acme']);
    assert.equal((await s.budgets.state('acme'))!.spentUsd, 100);
  });

  it('calls that find it lost together wait for one rebuild', async () => {
    const f = forgetful();
    const s = service(undefined, f.ledger);
    let rebuilds = 0;
    s.budgets.rebuildFrom(async () => (rebuilds++, { spentUsd: 10 }));
    const assessed = await Promise.all([1, 2, 3].map(() => s.budgets.assess('acme', s.cls('general'))));
    assert.ok(assessed.every((a) => a?.snapshot?.spentUsd === 10));
    assert.equal(rebuilds, 1);
  });

  it('lost between the assessment and the reservation: rebuilt, then reserved on the rebuilt figures', async () => {
    const f = forgetful();
    const s = service(undefined, f.ledger);
    s.budgets.rebuildFrom(async () => ({ spentUsd: 99.5 }));
    const a = (await s.budgets.assess('acme', s.cls('general')))!;
    f.forget();
    const refused = (await s.budgets.reserve(a, usdToMicros(1), s.cls('general'))) as ReserveOutcome;
    assert.equal(refused.fits, false, 'the rebuilt spend leaves room for less');
  });

  it('a rebuild that fails: the class outage rule (fail closed by default)', async () => {
    const f = forgetful();
    const s = service(undefined, f.ledger);
    s.budgets.rebuildFrom(() => Promise.reject(new Error('records store down')));
    await assert.rejects(s.budgets.assess('acme', s.cls('general')) as Promise<unknown>, (err: unknown) => {
      assert.ok(err instanceof LlmRouterError);
      assert.equal(err.code, 'budget_store_unavailable');
      assert.match(err.message, /records store down/);
      return true;
    });
  });
});

describe("BudgetService: the tenant's last known balance", () => {
  /** The in-process ledger, counting its balance reads (a call decided on the last known balance makes none). */
  class CountingLedger extends InMemoryBudgetLedgerStore {
    reads = 0;
    override balance(...args: Parameters<InMemoryBudgetLedgerStore['balance']>) {
      this.reads++;
      return super.balance(...args);
    }
  }

  it('is decided on for 5 s after the ledger last answered (an expectation for the reservation to check); then read again', () => {
    const ledger = new CountingLedger();
    const s = service(undefined, ledger);
    assert.equal(s.assess('general')!.expect, undefined, "a tenant's first call reads its balance");
    assert.equal(ledger.reads, 1);
    s.setNow(NOV_25 + 4_999);
    assert.ok(s.assess('general')!.expect, 'within 5 s: decided on the last known balance, to be confirmed');
    assert.equal(ledger.reads, 1);
    s.setNow(NOV_25 + 5_000);
    assert.equal(s.assess('general')!.expect, undefined, 'after 5 s: read again');
    assert.equal(ledger.reads, 2);
    s.setNow(NOV_25 + 9_999);
    assert.ok(s.assess('general')!.expect, 'the read is the new last known balance');
    assert.equal(ledger.reads, 2);
  });

  it('a reservation or a settle answered by the ledger starts the 5 s again', () => {
    const ledger = new CountingLedger();
    const s = service(undefined, ledger);
    s.assess('general');
    s.setNow(NOV_25 + 4_000);
    s.spend(1);
    s.setNow(NOV_25 + 8_999);
    assert.ok(s.assess('general')!.expect, 'the settle at 4 s was the last answer');
    assert.equal(ledger.reads, 1);
  });

  it('is never taken across a change of period: the new period is read (its spend starts at 0)', () => {
    const ledger = new CountingLedger();
    const s = service(undefined, ledger);
    const lastSecond = Date.UTC(2026, 10, 30, 23, 59, 59);
    s.setNow(lastSecond);
    s.spend(81, 'titles');
    const known = s.assess('titles')!;
    assert.equal(known.snapshot!.tier, 'downgrade');
    assert.ok(known.expect, 'on the known balance of November');
    const reads = ledger.reads;
    s.setNow(lastSecond + 2_000);
    const december = s.assess('titles')!;
    assert.equal(ledger.reads, reads + 1, 'December is read, though the last answer is 2 s old');
    assert.equal(december.expect, undefined);
    assert.equal(december.snapshot!.tier, 'normal');
    assert.equal(december.limits.periodKey, '2026-12');
  });

  it('is kept for up to 10,000 tenants; the 10,001st starts the memory over', () => {
    const ledger = new CountingLedger();
    const s = service(undefined, ledger);
    const key = { id: 'k1', budgetUsd: 1, period: 'month' as const };
    const assess = (i: number) => s.budgets.assess(`tenant-${i}`, s.cls('general'), key) as BudgetAssessment;
    for (let i = 0; i < 10_000; i++) assess(i);
    assert.equal(ledger.reads, 10_000);
    assert.ok(assess(0).expect, 'the first of 10,000 tenants is still known');
    assert.ok(assess(9_999).expect, 'and the last');
    assert.equal(ledger.reads, 10_000);
    assert.equal(assess(10_000).expect, undefined, 'a new tenant is read');
    assert.equal(ledger.reads, 10_001);
    assert.equal(assess(1).expect, undefined, 'the others were forgotten: read again');
    assert.equal(ledger.reads, 10_002);
    assert.ok(assess(10_000).expect, 'the tenant that started it over is known');
    assert.equal(ledger.reads, 10_002);
  });
});
