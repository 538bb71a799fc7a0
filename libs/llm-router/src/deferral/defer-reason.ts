import { LlmRouterError } from '../errors/llm-router.error.js';
import type { DeferReason, DeferredFailure } from './deferred-call.js';

// The categories of an outage: a later try may succeed (a provider's own quota or a bad credential needs a person, not a retry).
const OUTAGE = new Set(['rate_limited', 'transient', 'circuit_open']);

/**
 * Whether a failed call may be deferred, and why: its route was exhausted by
 * outage (every target failed retryably or had an open circuit), or its
 * tenant is in the restricted budget tier. Anything else is deterministic:
 * the same request would fail the same way (an `invalid_request` above all).
 */
export function deferReason(err: unknown): DeferReason | undefined {
  if (!(err instanceof LlmRouterError)) return undefined;
  if (err.code === 'route_exhausted' && OUTAGE.has(err.category)) return 'route_exhausted';
  if (err.code === 'budget_restricted') return 'budget_restricted';
  return undefined;
}

/** What the synchronous call answered for `err`: the router's status and OpenAI body, or a 500 for an unexpected error. */
export function failureOf(err: unknown): DeferredFailure {
  if (err instanceof LlmRouterError) return { status: err.httpStatus, body: err.toOpenAiError() };
  const message = err instanceof Error ? err.message : String(err);
  return { status: 500, body: { error: { message, type: 'gateway_error', code: 'internal_error', param: null } } };
}
