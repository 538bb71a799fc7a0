import { Inject, Injectable } from '@nestjs/common';
import { LlmRouter, type BudgetState } from '@llm-router/nestjs';
import type { Principal } from '../auth/key-scope.js';
import { GatewayBudgetsService } from '../budgets/gateway-budgets.service.js';
import { RecordsService } from '../persistence/records.service.js';
import type { AdminReportData, CountRow, GatewayStore, UsageGroup, UsageTotals } from '../store/gateway-store.js';
import { GATEWAY_STORE } from '../store/store.tokens.js';
import { reportSeriesView } from './report-series.js';
import { rangeView, type ResolvedRange } from './time-range.js';

const rate = (part: number, whole: number) => (whole > 0 ? Math.round((part / whole) * 10_000) / 10_000 : 0);
const usd = (v: number) => Math.round(v * 1e9) / 1e9;

function withRates<T extends UsageTotals>(t: T): T & { fallbackRate: number } {
  return { ...t, costUsd: usd(t.costUsd), fallbackRate: rate(t.fallbacks, t.requests) };
}

/** Usage for a tenant and the cross-tenant admin report, over persisted records. */
@Injectable()
export class UsageService {
  constructor(
    @Inject(GATEWAY_STORE) private readonly store: GatewayStore,
    private readonly records: RecordsService,
    private readonly budgets: GatewayBudgetsService,
    private readonly router: LlmRouter,
  ) {}

  /** @param bySession also group by session (`?groupBy=session`): the costliest 1,000 sessions. */
  async tenantUsage(tenant: string, range: ResolvedRange, principal?: Principal, bySession = false) {
    await this.records.flush();
    const [usage, budget, sessions] = await Promise.all([
      this.store.tenantUsage(tenant, range),
      this.budgets.state(tenant),
      bySession ? this.store.usageBySession(tenant, range, 1_000) : undefined,
    ]);
    const groups = (rows: UsageGroup[]) => rows.map(withRates);
    return {
      object: 'usage',
      tenant,
      period: rangeView(range),
      totals: withRates(usage.totals),
      byDay: groups(usage.byDay),
      byClass: groups(usage.byClass),
      byFeature: groups(usage.byFeature),
      byModel: groups(usage.byModel),
      byKey: groups(usage.byKey),
      ...(sessions ? { bySession: groups(sessions) } : {}),
      budget: budgetView(budget),
      ...(principal?.keyId
        ? {
            key: {
              id: principal.keyId,
              budget: principal.budget
                ? { budgetUsd: principal.budget.budgetUsd, period: principal.budget.period, spentUsd: usd(await this.budgets.keySpent(principal)) }
                : null,
            },
          }
        : {}),
    };
  }

  /** The report's figures over time, bucket by bucket (GET /admin/report/series): what the console charts. */
  async adminReportSeries(range: ResolvedRange, bucketMs: number) {
    await this.records.flush();
    return { ...reportSeriesView(range, bucketMs, await this.store.reportSeries(range, bucketMs)), period: rangeView(range) };
  }

  /**
   * Every tenant budget (the policy's and those set at run time) as it stands
   * now, with its tier marks (the tenant's own or the policy's defaults):
   * from the ledger, without reading any record.
   */
  async tenantBudgets() {
    const tenants = new Set<string>([...Object.keys(this.router.policy.budgets.tenants), ...(await this.store.listTenantBudgets()).map((b) => b.tenant)]);
    const budgets = [];
    for (const tenant of [...tenants].sort()) {
      const state = await this.budgets.state(tenant);
      if (state) budgets.push({ ...budgetView(state)!, thresholds: this.router.budgets.getTenantBudget(tenant)?.thresholds ?? null });
    }
    return budgets;
  }

  async adminReport(range: ResolvedRange) {
    await this.records.flush();
    const data: AdminReportData = await this.store.adminReport(range);
    const withFallbackRate = (rows: CountRow[]) => rows.map((r) => ({ ...r, fallbackRate: rate(r.fallbacks, r.requests) }));
    const budgets = await this.tenantBudgets();
    const costTotal = data.totals.costUsd;
    const share = (rows: { key: string | null; costUsd: number; requests: number }[]) =>
      rows.map((r) => ({ ...r, costUsd: usd(r.costUsd), share: rate(r.costUsd, costTotal) }));
    return {
      object: 'report',
      period: rangeView(range),
      totals: withRates(data.totals),
      fallbacks: {
        byClass: withFallbackRate(data.fallbackByClass),
        byPrimaryProvider: withFallbackRate(data.fallbackByPrimaryProvider),
        servedByAfterFallback: data.servedByProviderAfterFallback,
      },
      failures: { attemptsByProviderAndCategory: data.attemptFailures, requestsByCategory: data.requestFailures },
      cost: { byTenant: share(data.costByTenant), byClass: share(data.costByClass), byModel: share(data.costByModel), byKey: share(data.costByKey) },
      latencyMsByClass: data.latencyByClass,
      refusals: { qualityFloor: data.qualityFloorRefusals, budget: data.budgetRefusals },
      budgetActions: data.budgetActions,
      budgets,
    };
  }
}

/** The longest series one call may ask for: the console's longest window in its finest buckets, with room. */
export const MAX_SERIES_BUCKETS = 400;

export function budgetView(state: BudgetState | undefined) {
  if (!state) return null;
  return {
    tenant: state.tenant,
    period: state.period,
    periodStart: state.periodStart,
    periodEnd: state.periodEnd,
    budgetUsd: state.budgetUsd,
    spentUsd: usd(state.spentUsd),
    reservedUsd: usd(state.reservedUsd),
    shareUsed: Math.round(state.shareUsed * 10_000) / 10_000,
    tier: state.tier,
    ...(state.dailyCapUsd !== undefined ? { dailyCapUsd: state.dailyCapUsd, dailySpentUsd: usd(state.dailySpentUsd ?? 0) } : {}),
  };
}
