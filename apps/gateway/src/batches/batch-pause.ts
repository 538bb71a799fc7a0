import { LlmRouterError, periodWindow, type LlmRouter } from '@llm-router/nestjs';
import type { Principal } from '../auth/key-scope.js';
import type { BatchPause } from '../store/batch-store.js';

/**
 * Whether a router refusal pauses the batch instead of failing its item: a
 * budget refusal (the tenant's restricted or exhausted tier, the class's
 * daily cap, the key's own budget, or a reservation that does not fit) ends
 * when its window does or the budget is raised; the item is tried again then.
 */
export function pauseOf(err: unknown, router: LlmRouter, tenant: string, principal: Principal | null | undefined, now: number): BatchPause | undefined {
  if (!(err instanceof LlmRouterError) || err.category !== 'budget_exhausted') return undefined;
  const base = { reason: err.code, message: err.message, pausedAt: now };
  if (err.code === 'daily_cap_exhausted') return { ...base, resumeAt: periodWindow('day', now).end };
  const tenantPeriod = router.budgets.getTenantBudget(tenant)?.period ?? router.policy.budgets.defaults.period;
  const ends = [periodWindow(tenantPeriod, now).end];
  // The key's own budget may be the one spent: its period may end sooner.
  if (principal?.budget !== undefined) ends.push(periodWindow(principal.budget.period, now).end);
  return { ...base, resumeAt: Math.min(...ends) };
}

/**
 * A reservation that did not fit (`insufficient_quota`) while other calls of
 * the tenant (or of the key) still hold reservations: those settle in moments,
 * mostly for far less than their worst case (often the batch's own items in
 * flight), so the item waits for them instead of pausing the batch until the
 * period ends with its budget nearly untouched.
 */
export async function refusedOnlyForReservationsInFlight(err: unknown, router: LlmRouter, tenant: string, principal: Principal | null | undefined): Promise<boolean> {
  if (!(err instanceof LlmRouterError) || err.code !== 'insufficient_quota') return false;
  const state = await router.budgets.state(tenant);
  if (state !== undefined && state.reservedUsd > 0) return true;
  if (principal?.budget === undefined) return false;
  return (await router.budgets.callerSpend(tenant, principal.budget)).reservedUsd > 0;
}

/** The budget could not be checked (its store away): not a pause, the item is tried again shortly. */
export function budgetAway(err: unknown): boolean {
  return err instanceof LlmRouterError && err.category === 'budget_unavailable';
}
