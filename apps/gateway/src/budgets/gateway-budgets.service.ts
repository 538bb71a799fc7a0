import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Subject } from 'rxjs';
import { LlmRouter, LlmRouterError, periodWindow, type BudgetSetting, type BudgetState, type CallerBudget, type RecordedSpend, type RouteOptions } from '@llm-router/nestjs';
import { ApiKeyService } from '../auth/api-key.service.js';
import type { Principal } from '../auth/key-scope.js';
import { GATEWAY_CONFIG_KEY, type GatewayConfig } from '../config/gateway.config.js';
import { RecordsService } from '../persistence/records.service.js';
import type { GatewayStore } from '../store/gateway-store.js';
import { GATEWAY_STORE } from '../store/store.tokens.js';

/**
 * The gateway's budgets, in one place: each API key's own budget (given to
 * the router with each of the key's calls, which reserves and settles it with
 * the tenant's, in the same ledger step) and the tenant budgets across
 * restarts, on the router's budget API (`router.budgets`): budgets set through
 * the admin API are stored and re-applied at start-up, and each tenant's
 * ledger (its period, its day for the daily cap, its keys' own budgets) is
 * seeded from the persisted routing records, so a restart neither forgets
 * spend nor hands out a fresh budget. The same records rebuild the ledger
 * when it turns out to have lost a tenant's state (a Redis restarted without
 * persistence): the router asks for them before it serves the tenant again.
 * Budgets another instance sets in a shared store are picked up by
 * `refresh()`, run every `keysRefreshMs`; on PostgreSQL every tenth refresh
 * also raises the ledger to what the records of every instance say.
 */
@Injectable()
export class GatewayBudgetsService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Budgets');
  private readonly config: GatewayConfig;
  /** The stored version (updatedAt) of each tenant budget applied here. */
  private readonly applied = new Map<string, number>();
  private refreshTimer?: NodeJS.Timeout;
  /** Tenants whose spend could not be restored yet (the ledger did not answer). */
  private readonly unrestored = new Set<string>();
  /** Second passes of rebuilds, pending (see `rebuildSource`). */
  private readonly latePasses = new Set<NodeJS.Timeout>();
  private refreshes = 0;
  private readonly changed = new Subject<string>();
  /** A tenant whose budget was set here or, seen at a refresh, by another instance (paused batches try again). */
  readonly tenantBudgetChanged$ = this.changed.asObservable();

  constructor(
    @Inject(GATEWAY_STORE) private readonly store: GatewayStore,
    private readonly router: LlmRouter,
    private readonly records: RecordsService,
    private readonly keys: ApiKeyService,
    configService: ConfigService,
  ) {
    this.config = configService.getOrThrow<GatewayConfig>(GATEWAY_CONFIG_KEY);
    router.budgets.rebuildFrom((tenant, at) => this.rebuildSource(tenant, at.getTime()));
  }

  /**
   * Start-up, before the server listens and after the API keys are loaded
   * (key budgets need them): stored budgets and spend restored, then re-read
   * every `keysRefreshMs` (other instances' changes).
   */
  async onApplicationBootstrap(): Promise<void> {
    await this.restore();
    this.startRefresh(this.config.keysRefreshMs);
  }

  /** Start-up: stored budgets back on the router, spend restored for tenants and their keys. */
  private async restore(now = Date.now()): Promise<void> {
    const stored = await this.store.listTenantBudgets();
    for (const b of stored) await this.apply(b.tenant, b.setting, b.updatedAt);
    const tenants = this.ledgerTenants(stored.map((b) => b.tenant));
    await this.tryRestoreTenants(tenants, now);
    if (tenants.size > 0) this.logger.log(`budgets restored for ${tenants.size} tenant(s) from persisted usage`);
  }

  /**
   * On the request path, before routing a call with an API key: the key's
   * own budget goes with the call, and the router reserves each attempt's
   * worst case on it as on the tenant's (402 once it is spent or the worst
   * case does not fit). Never awaits.
   */
  applyKeyBudget(principal: Principal, options: RouteOptions): void {
    if (principal.keyId !== null && principal.budget !== undefined) options.callerBudget = principal.budget;
  }

  /** What a key has spent of its own budget in the current period (the ledger's figure). */
  async keySpent(principal: Principal): Promise<number> {
    if (principal.tenant === undefined || principal.budget === undefined) return 0;
    return (await this.router.budgets.callerSpend(principal.tenant, principal.budget)).spentUsd;
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
        .catch((err: unknown) => this.logger.warn(`could not refresh tenant budgets: ${errorText(err)}`))
        .finally(() => (running = false));
    }, intervalMs);
    this.refreshTimer.unref();
  }

  onModuleDestroy(): void {
    this.changed.complete();
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    for (const timer of this.latePasses) clearTimeout(timer);
    this.latePasses.clear();
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
    for (const tenant of changed) this.changed.next(tenant);
    // A store other instances write to: every tenth refresh, the ledger (a settle lost past its retries, a Redis
    // restored from an older snapshot) is raised to what all records say, for tenants and their keys alike.
    if (this.store.kind === 'postgres' && ++this.refreshes % RECONCILE_EVERY === 0) {
      await this.tryRestoreTenants(this.ledgerTenants(this.applied.keys()), now);
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
    this.changed.next(tenant);
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
      this.logger.error(`stored budget of tenant "${tenant}" was not applied: ${errorText(err)}`);
      return false;
    }
  }

  /** The tenants the ledger keeps: those with a budget (`budgeted`, and the policy's) and those with keys that have one. */
  private ledgerTenants(budgeted: Iterable<string>): Set<string> {
    const tenants = new Set([...budgeted, ...Object.keys(this.router.policy.budgets.tenants)]);
    for (const k of this.keys.budgeted()) tenants.add(k.tenant);
    return tenants;
  }

  /**
   * The router found the ledger without a tenant's state: the spend it is
   * rebuilt from. Every record this instance holds is written first. Other
   * instances' records still waiting in their writers reach PostgreSQL within
   * their flush interval: a second pass after it raises the ledger again.
   */
  private async rebuildSource(tenant: string, now: number): Promise<RecordedSpend> {
    await this.records.flush();
    const spend = await this.recordedSpend(tenant, now);
    this.logger.warn(`the budget ledger had no state for tenant "${tenant}" (new to this Redis, or Redis restarted): rebuilding it from the records`);
    if (this.store.kind === 'postgres') {
      const timer = setTimeout(() => {
        this.latePasses.delete(timer);
        void this.tryRestoreTenant(tenant, Date.now());
      }, latePassDelayMs(this.config.recordFlushMs));
      timer.unref();
      this.latePasses.add(timer);
    }
    return spend;
  }

  /**
   * A ledger that cannot be reached (a shared Redis down at start-up) must not
   * keep the gateway from starting: the tenant is restored at a later refresh,
   * and until then its calls meet the class's `onBudgetStoreUnavailable` rule.
   */
  private async tryRestoreTenant(tenant: string, now: number, pass: RestorePass = newPass()): Promise<boolean> {
    try {
      await this.router.budgets.restoreSpend(tenant, await this.recordedSpend(tenant, now, pass));
      this.unrestored.delete(tenant);
      return true;
    } catch (err) {
      if (!this.unrestored.has(tenant)) this.logger.error(`spend of tenant "${tenant}" not restored yet: ${errorText(err)}`);
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
    const pass = newPass();
    let away = false;
    for (const tenant of tenants) {
      if (away) this.unrestored.add(tenant);
      else away = !(await this.tryRestoreTenant(tenant, now, pass));
    }
  }

  /** What the records say a tenant spent: in its budget's period, today (daily cap), and through each of its keys that has a budget. */
  private async recordedSpend(tenant: string, now: number, pass: RestorePass = newPass()): Promise<RecordedSpend> {
    const ask = (what: 'tenant' | 'key', from: number, to: number, criticalities?: readonly string[]) => {
      const key = `${what}:${from}:${to}:${criticalities?.join(',') ?? '*'}`;
      let query = pass.queries.get(key);
      if (query === undefined) {
        query = what === 'tenant' ? this.store.spendByTenant({ from, to }, criticalities) : this.store.spendByKey({ from, to });
        pass.queries.set(key, query);
      }
      return query;
    };
    if (pass.keysByTenant === undefined) {
      pass.keysByTenant = new Map();
      for (const k of this.keys.budgeted()) {
        const budgets = pass.keysByTenant.get(k.tenant);
        if (budgets) budgets.push(k.budget);
        else pass.keysByTenant.set(k.tenant, [k.budget]);
      }
    }
    const budget = this.router.budgets.getTenantBudget(tenant);
    const period = periodWindow(budget?.period ?? this.router.policy.budgets.defaults.period, now);
    const callers: Array<{ budget: CallerBudget; spentUsd: number }> = [];
    const spend: RecordedSpend = { spentUsd: (await ask('tenant', period.start, period.end)).get(tenant) ?? 0, at: new Date(now), callers };
    if (budget?.dailyCapUsd !== undefined) {
      const day = periodWindow('day', now);
      spend.dailySpentUsd = (await ask('tenant', day.start, day.end, this.router.policy.budgets.defaults.dailyCapCriticalities)).get(tenant) ?? 0;
    }
    for (const budget of pass.keysByTenant.get(tenant) ?? []) {
      const window = periodWindow(budget.period, now);
      callers.push({ budget, spentUsd: (await ask('key', window.start, window.end)).get(budget.id) ?? 0 });
    }
    return spend;
  }
}

/** One restore pass: each spend query (by kind, window and criticalities) asked once for every tenant, the keys grouped by tenant once. */
interface RestorePass {
  readonly queries: Map<string, Promise<Map<string, number>>>;
  keysByTenant?: Map<string, CallerBudget[]>;
}

const newPass = (): RestorePass => ({ queries: new Map() });

/** On a shared store, the ledger is reconciled with the records every this many refreshes. */
const RECONCILE_EVERY = 10;
/**
 * A rebuild on PostgreSQL is repeated once the other instances' queued records are in: three of their flush intervals,
 * and never under 1.5 s (a peer's retry after a failed write waits at least 1 s, and peers may flush less often).
 */
const latePassDelayMs = (recordFlushMs: number) => Math.max(1_500, 3 * recordFlushMs);

/** The budget ledger did not answer (a shared Redis away): the setting still took effect. */
function isLedgerAway(err: unknown): boolean {
  return err instanceof LlmRouterError && err.code === 'budget_store_unavailable';
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
