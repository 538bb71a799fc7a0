import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { LlmRouter, LlmRouterError, periodWindow, type BudgetPeriod, type BudgetSetting, type BudgetState, type RouteOptions } from '@llm-router/nestjs';
import { ApiKeyService } from '../auth/api-key.service.js';
import type { Principal } from '../auth/key-scope.js';
import { GATEWAY_CONFIG_KEY, type GatewayConfig } from '../config/gateway.config.js';
import { RecordsService } from '../persistence/records.service.js';
import type { GatewayStore } from '../store/gateway-store.js';
import { GATEWAY_STORE } from '../store/store.tokens.js';
import { KeySpend } from './key-spend.js';

/**
 * The gateway's budgets, in one place: each API key's own budget (its spend,
 * fed from the routing records, and the admission of its calls) and the
 * tenant budgets across restarts, on the router's budget API
 * (`router.budgets`): budgets set through the admin API are stored and
 * re-applied at start-up, and each budgeted tenant's ledger is seeded from the
 * persisted routing records of its current period (and day, for the daily
 * cap), so a restart neither forgets spend nor hands out a fresh budget.
 * Budgets another instance sets in a shared store are picked up by
 * `refresh()`, run every `keysRefreshMs`; on PostgreSQL
 * every tenth refresh also raises the tenants' ledger and each key's spend to
 * what the records of every instance say.
 */
@Injectable()
export class GatewayBudgetsService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Budgets');
  /** The stored version (updatedAt) of each tenant budget applied here. */
  private readonly applied = new Map<string, number>();
  private refreshTimer?: NodeJS.Timeout;
  /** Tenants whose spend could not be restored yet (the ledger did not answer). */
  private readonly unrestored = new Set<string>();
  private refreshes = 0;

  constructor(
    @Inject(GATEWAY_STORE) private readonly store: GatewayStore,
    private readonly router: LlmRouter,
    private readonly records: RecordsService,
    private readonly keys: ApiKeyService,
    private readonly keySpend: KeySpend,
    private readonly config: ConfigService,
  ) {
    records.listen((record, principal) => {
      if (principal?.budget && principal.keyId !== null) keySpend.add(principal.keyId, principal.budget.period, record.costUsd);
    });
  }

  /**
   * Start-up, before the server listens and after the API keys are loaded
   * (key budgets need them): stored budgets and spend restored, then re-read
   * every `keysRefreshMs` (other instances' changes).
   */
  async onApplicationBootstrap(): Promise<void> {
    await this.restore();
    this.startRefresh(this.config.getOrThrow<GatewayConfig>(GATEWAY_CONFIG_KEY).keysRefreshMs);
  }

  /** Start-up: stored budgets back on the router, spend restored for tenants and keys. */
  private async restore(now = Date.now()): Promise<void> {
    const stored = await this.store.listTenantBudgets();
    for (const b of stored) await this.apply(b.tenant, b.setting, b.updatedAt);
    const tenants = new Set([...stored.map((b) => b.tenant), ...Object.keys(this.router.policy.budgets.tenants)]);
    await this.tryRestoreTenants(tenants, now);
    await this.restoreKeys(now);
    if (tenants.size > 0) this.logger.log(`budgets restored for ${tenants.size} tenant(s) from persisted usage`);
  }

  /**
   * On the request path, before routing a call with an API key: once the
   * key has spent its own budget for the period, the call is refused (402)
   * and recorded like any other. Never awaits.
   */
  admitKey(principal: Principal, options: RouteOptions): void {
    const { keyId, budget } = principal;
    if (keyId === null || budget === undefined) return;
    const spent = this.keySpend.current(keyId, budget.period);
    if (spent < budget.budgetUsd) return;
    const err = new LlmRouterError({
      category: 'budget_exhausted',
      httpStatus: 402,
      origin: 'gateway',
      code: 'insufficient_quota',
      message: `API key ${keyId} has spent $${spent.toFixed(6)} of its own $${budget.budgetUsd} budget for this ${budget.period} (UTC): every request with this key is refused until the period ends or the budget is raised.`,
      requestId: options.requestId,
    });
    this.records.recordRefusal(principal, options, err);
    throw err;
  }

  /** What a key has spent of its own budget in the current period. */
  keySpent(keyId: string, period: BudgetPeriod): number {
    return this.keySpend.current(keyId, period);
  }

  /** Re-read the stored budgets every `intervalMs` (0: never). */
  private startRefresh(intervalMs: number): void {
    if (intervalMs <= 0) return;
    let running = false;
    this.refreshTimer = setInterval(() => {
      // A slow store must not stack refreshes up: a tick that finds one running is skipped.
      if (running) return;
      running = true;
      this.refresh()
        .catch((err: unknown) => this.logger.warn(`could not refresh tenant budgets: ${err instanceof Error ? err.message : String(err)}`))
        .finally(() => (running = false));
    }, intervalMs);
    this.refreshTimer.unref();
  }

  onModuleDestroy(): void {
    if (this.refreshTimer) clearInterval(this.refreshTimer);
  }

  /** Apply the budgets set or changed in the store since this instance last looked (another instance's admin calls). */
  async refresh(now = Date.now()): Promise<void> {
    const changed: string[] = [];
    for (const b of await this.store.listTenantBudgets()) {
      // Any other version than the one applied here is news (instances' clocks need not agree).
      if (this.applied.get(b.tenant) === b.updatedAt) continue;
      if (await this.apply(b.tenant, b.setting, b.updatedAt)) changed.push(b.tenant);
    }
    await this.tryRestoreTenants(new Set([...changed, ...this.unrestored]), now);
    // A store other instances write to: every tenth refresh, the ledger (which a Redis restart or failover may
    // have lost, or a settle lost past its retries) and each key's spend are raised to what all records say.
    if (this.store.kind === 'postgres' && ++this.refreshes % RECONCILE_EVERY === 0) {
      await this.tryRestoreTenants(new Set([...this.applied.keys(), ...Object.keys(this.router.policy.budgets.tenants)]), now);
      await this.restoreKeys(now);
    }
  }

  /**
   * Admin: set (and persist) a tenant budget, then seed it with the spend
   * already recorded. The setting takes effect and is stored even when the
   * ledger does not answer; only the state returned then fails (503), and the
   * spend is restored at a later refresh.
   */
  async setTenantBudget(tenant: string, setting: BudgetSetting): Promise<BudgetState> {
    await this.router.budgets.setTenantBudget(tenant, setting).catch((err: unknown) => {
      if (!isLedgerAway(err)) throw err;
    });
    const updatedAt = Date.now();
    await this.store.upsertTenantBudget({ tenant, setting: { ...setting }, updatedAt });
    this.applied.set(tenant, updatedAt);
    await this.records.flush();
    await this.tryRestoreTenant(tenant, Date.now());
    return (await this.router.budgets.state(tenant))!;
  }

  state(tenant: string): Promise<BudgetState | undefined> {
    return this.router.budgets.state(tenant);
  }

  private async apply(tenant: string, setting: Record<string, unknown>, updatedAt: number): Promise<boolean> {
    // Marked applied either way: a setting that fails is logged once per version, not at every refresh.
    this.applied.set(tenant, updatedAt);
    try {
      await this.router.budgets.setTenantBudget(tenant, setting as unknown as BudgetSetting);
      return true;
    } catch (err) {
      // Applied; only reading its state failed (the ledger is away): the restore will be tried again.
      if (isLedgerAway(err)) return true;
      this.logger.error(`stored budget of tenant "${tenant}" was not applied: ${err instanceof Error ? err.message : String(err)}`);
      return false;
    }
  }

  /**
   * A ledger that cannot be reached (a shared Redis down at start-up) must not
   * keep the gateway from starting: the tenant is restored at a later refresh,
   * and until then its calls meet the class's `onBudgetStoreUnavailable` rule.
   */
  private async tryRestoreTenant(tenant: string, now: number, queries?: SpendQueries): Promise<boolean> {
    try {
      await this.restoreTenant(tenant, now, queries);
      this.unrestored.delete(tenant);
      return true;
    } catch (err) {
      if (!this.unrestored.has(tenant)) this.logger.error(`spend of tenant "${tenant}" not restored yet: ${err instanceof Error ? err.message : String(err)}`);
      this.unrestored.add(tenant);
      return false;
    }
  }

  /**
   * One by one, with one spend query per window for all of them; once the
   * ledger is found away, the rest wait for the next refresh instead of each
   * waiting for its timeout.
   */
  private async tryRestoreTenants(tenants: Iterable<string>, now: number): Promise<void> {
    const spend: SpendQueries = new Map();
    let away = false;
    for (const tenant of tenants) {
      if (away) this.unrestored.add(tenant);
      else away = !(await this.tryRestoreTenant(tenant, now, spend));
    }
  }

  private async restoreTenant(tenant: string, now: number, queries: SpendQueries = new Map()): Promise<void> {
    const state = await this.router.budgets.state(tenant);
    if (!state) return;
    const spendIn = (from: number, to: number, criticalities?: readonly string[]) => {
      const key = `${from}:${to}:${criticalities?.join(',') ?? '*'}`;
      let query = queries.get(key);
      if (query === undefined) queries.set(key, (query = this.store.spendByTenant({ from, to }, criticalities)));
      return query;
    };
    const spentUsd = (await spendIn(Date.parse(state.periodStart), Date.parse(state.periodEnd))).get(tenant) ?? 0;
    let dailySpentUsd: number | undefined;
    if (state.dailyCapUsd !== undefined) {
      const day = periodWindow('day', now);
      dailySpentUsd = (await spendIn(day.start, day.end, this.router.policy.budgets.defaults.dailyCapCriticalities)).get(tenant) ?? 0;
    }
    if (spentUsd > 0 || (dailySpentUsd ?? 0) > 0) {
      await this.router.budgets.restoreSpend(tenant, { spentUsd, ...(dailySpentUsd !== undefined ? { dailySpentUsd } : {}), at: new Date(now) });
    }
  }

  private async restoreKeys(now: number): Promise<void> {
    const byPeriod = new Map<BudgetPeriod, string[]>();
    for (const k of this.keys.budgeted()) byPeriod.set(k.period, [...(byPeriod.get(k.period) ?? []), k.id]);
    for (const [period, ids] of byPeriod) {
      const window = periodWindow(period, now);
      const spend = await this.store.spendByKey({ from: window.start, to: window.end });
      for (const id of ids) {
        const usd = spend.get(id);
        if (usd !== undefined) this.keySpend.restore(id, period, usd, now);
      }
    }
  }
}

/** Spend queries of one restore pass, by window (and criticalities): each is asked once for every tenant. */
type SpendQueries = Map<string, Promise<Map<string, number>>>;

/** On a shared store, the ledger and key spend are reconciled with the records every this many refreshes. */
const RECONCILE_EVERY = 10;

/** The budget ledger did not answer (a shared Redis away): the setting still took effect. */
function isLedgerAway(err: unknown): boolean {
  return err instanceof LlmRouterError && err.code === 'budget_store_unavailable';
}
