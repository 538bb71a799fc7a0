import type { RouteOutcome } from '#llm-router';

/** The routing outcome as response headers: which target served and why. */
export function routingHeaders(outcome: RouteOutcome): Record<string, string> {
  return {
    'x-llm-request-id': outcome.requestId,
    'x-llm-traffic-class': outcome.trafficClass,
    'x-llm-model': outcome.model,
    'x-llm-provider': outcome.provider,
    'x-llm-fallback': String(outcome.fallback),
    'x-llm-attempts': String(outcome.attempts),
  };
}
