import { LlmRouterError } from '../errors/llm-router.error.js';
import { UpstreamFailure } from '../errors/upstream-failure.js';
import type { CallState } from './call-state.js';

/**
 * The error the caller sees when a routed call ends in failure. Failures the
 * caller must fix (bad request, context, content) keep the provider's words;
 * an exhausted route says what was tried and why each target failed.
 */
export function toRouterError(err: unknown, call: CallState): LlmRouterError {
  const routerError = routerErrorOf(err, call);
  // The generation the call was planned under: a failure after a reload says the old one, as a success would.
  routerError.policyVersion ??= call.plan.policyVersion;
  return routerError;
}

function routerErrorOf(err: unknown, call: CallState): LlmRouterError {
  if (err instanceof LlmRouterError) {
    err.requestId ??= call.requestId;
    return err;
  }
  const requestId = call.requestId;
  if (!(err instanceof UpstreamFailure)) {
    return new LlmRouterError({ category: 'transient', httpStatus: 502, origin: 'gateway', code: 'router_error', message: String((err as Error)?.message ?? err), requestId });
  }
  const cls = call.plan.trafficClass.name;
  switch (err.category) {
    case 'invalid_request':
      return new LlmRouterError({ category: err.category, httpStatus: 400, origin: 'upstream', code: err.code ?? 'invalid_request', message: err.message, requestId });
    case 'context_length':
      return new LlmRouterError({ category: err.category, httpStatus: 400, origin: 'upstream', code: 'context_length_exceeded', param: 'messages', message: err.message, requestId });
    case 'content_filtered':
      return new LlmRouterError({ category: err.category, httpStatus: 400, origin: 'upstream', code: 'content_filter', message: err.message, requestId });
    case 'deadline_exceeded':
      return new LlmRouterError({ category: err.category, httpStatus: 504, origin: 'gateway', message: `${err.message} after ${summarize(call)}`, requestId });
    case 'stream_interrupted':
      return new LlmRouterError({ category: err.category, httpStatus: 502, origin: 'upstream', code: 'stream_interrupted', message: err.message, requestId });
    default:
      break;
  }
  const madeCalls = call.calls > 0;
  const everyCandidateCostly = !madeCalls && call.attempts.every((a) => a.category === 'cost_ceiling_exceeded');
  if (everyCandidateCostly) {
    return new LlmRouterError({ category: 'cost_ceiling_exceeded', httpStatus: 400, origin: 'gateway', param: 'max_tokens', message: `Every model on the "${cls}" route exceeds the class's per-request cost ceiling: ${summarize(call)}`, requestId });
  }
  if (err.category === 'budget_reservation_denied') {
    // Refused before any call could overspend: a quota error the caller can act on, never a 5xx.
    // Only the daily cap refused: the same code as the refusal once the cap is spent.
    const dailyCap = call.attempts.every((a) => a.category !== 'budget_reservation_denied' || a.code === 'daily_cap_exhausted');
    const within = dailyCap ? 'within its daily cap ' : '';
    return new LlmRouterError({
      category: 'budget_exhausted',
      httpStatus: 402,
      origin: 'gateway',
      code: dailyCap ? 'daily_cap_exhausted' : 'insufficient_quota',
      message: `Tenant "${call.context.tenant}" cannot afford this request ${within}on the "${cls}" route: ${summarizeReasons(call)}`,
      requestId,
    });
  }
  const lastRateLimited = err.category === 'rate_limited';
  return new LlmRouterError({
    category: err.category,
    httpStatus: lastRateLimited ? 429 : madeCalls ? 502 : 503,
    origin: 'gateway',
    code: 'route_exhausted',
    retryAfterMs: err.retryAfterMs,
    message: `No target on the "${cls}" route could serve the request: ${summarize(call)}`,
    requestId,
  });
}

/** Every attempt the routing record lists, in its order: an attempt cut by the deadline is "aborted in flight". */
function summarize(call: CallState): string {
  if (call.attempts.length === 0) return 'no attempt was made';
  return call.attempts
    .map((a) => {
      if (a.outcome === 'aborted') return `${a.model} aborted in flight`;
      return `${a.model} ${a.outcome === 'skipped' ? 'skipped' : 'failed'} (${a.category ?? a.outcome}${a.status ? ` ${a.status}` : ''})`;
    })
    .join(', ');
}

function summarizeReasons(call: CallState): string {
  return call.attempts.map((a) => a.message ?? `${a.model}: ${a.category}`).join('; ');
}
