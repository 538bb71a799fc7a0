import { Inject, Injectable, Logger } from '@nestjs/common';
import { LlmRouter, periodWindow, type BudgetPeriod, type BudgetSetting, type BudgetState } from '#llm-router';
import { ApiKeyService } from '../auth/api-key.service.js';
import { RecordsService } from '../persistence/records.service.js';
import type { GatewayStore } from '../store/gateway-store.js';
import { GATEWAY_STORE } from '../store/store.tokens.js';

/**
 * Tenant budgets across restarts, on the router's budget API
 * (`router.budgets`): budgets set through the admin API are stored and
 * re-applied at start-up, and each budgeted tenant's ledger is seeded from the
 * persisted routing records of its current period (and day, for the daily
 * cap), so a restart neither forgets spend nor hands out a fresh budget.
 */
@Injectable()
export class GatewayBudgetsService {
  private readonly logger = new Logger('Budgets');

  constructor(
    @Inject(GATEWAY_STORE) private readonly store: GatewayStore,
    private readonly router: LlmRouter,
    private readonly records: RecordsService,
    private readonly keys: ApiKeyService,
  ) {}

  /** Start-up: stored budgets back on the router, spend restored for tenants and keys. */
  async restore(now = Date.now()): Promise<void> {
    const stored = await this.store.listTenantBudgets();
    for (const b of stored) {
      try {
        await this.router.budgets.setTenantBudget(b.tenant, b.setting as unknown as BudgetSetting);
      } catch (err) {
        this.logger.error(`stored budget of tenant "${b.tenant}" was not applied: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    const tenants = new Set([...stored.map((b) => b.tenant), ...Object.keys(this.router.policy.budgets.tenants)]);
    for (const tenant of tenants) await this.restoreTenant(tenant, now);
    await this.restoreKeys(now);
    if (tenants.size > 0) this.logger.log(`budgets restored for ${tenants.size} tenant(s) from persisted usage`);
  }

  /** Admin: set (and persist) a tenant budget, then seed it with the spend already recorded. */
  async setTenantBudget(tenant: string, setting: BudgetSetting): Promise<BudgetState> {
    await this.router.budgets.setTenantBudget(tenant, setting);
    await this.store.upsertTenantBudget({ tenant, setting: { ...setting }, updatedAt: Date.now() });
    await this.records.flush();
    await this.restoreTenant(tenant, Date.now());
    return (await this.router.budgets.state(tenant))!;
  }

  state(tenant: string): Promise<BudgetState | undefined> {
    return this.router.budgets.state(tenant);
  }

  private async restoreTenant(tenant: string, now: number): Promise<void> {
    const state = await this.router.budgets.state(tenant);
    if (!state) return;
    const period = { from: Date.parse(state.periodStart), to: Date.parse(state.periodEnd) };
    const spentUsd = (await this.store.spendByTenant(period)).get(tenant) ?? 0;
    let dailySpentUsd: number | undefined;
    if (state.dailyCapUsd !== undefined) {
      const day = periodWindow('day', now);
      const criticalities = this.router.policy.budgets.defaults.dailyCapCriticalities;
      dailySpentUsd = (await this.store.spendByTenant({ from: day.start, to: day.end }, criticalities)).get(tenant) ?? 0;
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
        if (usd !== undefined) this.records.keySpend.restore(id, period, usd, now);
      }
    }
  }
}
