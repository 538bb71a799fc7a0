import type { RouteOutcome } from '@llm-router/nestjs';

/**
 * The routing outcome as response headers: which target served and why (and,
 * when the planner left out the model the request named, that model and why), the
 * tenant's budget position and, for a completion whose provider reported
 * usage, what it cost (a stream's headers go out before its usage).
 */
export function routingHeaders(outcome: RouteOutcome, costUsd?: number): Record<string, string> {
  const headers: Record<string, string> = {
    'x-llm-request-id': outcome.requestId,
    // The caller's own x-request-id when it sent a valid one, else the gateway's: echoed under the usual name.
    'x-request-id': outcome.requestId,
    'x-llm-traffic-class': outcome.trafficClass,
    'x-llm-model': outcome.model,
    'x-llm-provider': outcome.provider,
    'x-llm-fallback': String(outcome.fallback),
    'x-llm-attempts': String(outcome.attempts),
  };
  // The policy the call was planned under: a call started before a reload says the old one.
  if (outcome.policyVersion !== undefined) headers['x-llm-policy-version'] = outcome.policyVersion;
  if (costUsd !== undefined) headers['x-llm-cost-usd'] = costUsd.toFixed(6);
  const pin = outcome.requestedModelExcluded;
  // The model the request named was left out by the planner: say which and why, never replace it silently.
  if (pin) headers['x-llm-requested-model-excluded'] = headerSafe(`${pin.model}: ${pin.reason}`);
  const moved = outcome.sessionMoved;
  // Only on the turn where the session moved: its later turns stay on the new target silently.
  if (moved) headers['x-llm-session-moved'] = headerSafe(`${moved.from} -> ${moved.to}; ${moved.reason}`);
  const budget = outcome.budget;
  if (budget) {
    headers['x-llm-budget-tier'] = budget.tier;
    // Share of the period budget spent, 0..1 (4 decimals).
    headers['x-llm-budget-used'] = (Math.round(budget.shareUsed * 10_000) / 10_000).toString();
    if (budget.action) headers['x-llm-budget-action'] = headerSafe(budget.action);
  }
  return headers;
}

/** Printable ASCII only: a header value must never carry a line break. */
function headerSafe(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, ' ').slice(0, 200);
}
