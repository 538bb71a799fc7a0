import type { ListedDeferredCall } from '../store/gateway-store.js';

const seconds = (ms: number | null | undefined): number | null => (ms === null || ms === undefined ? null : Math.floor(ms / 1000));

/**
 * A deferred call as the admin listing shows it: its state across tenants,
 * never its request nor its completion (GET /v1/deferred/:id answers those
 * to the tenant). Times in Unix seconds, as the OpenAI objects have them.
 */
export function deferredListingItem({ call, updatedAt }: ListedDeferredCall) {
  return {
    id: call.id,
    object: 'deferred.chat.completion',
    tenant: call.tenant ?? null,
    traffic_class: call.trafficClass,
    status: call.status,
    reason: call.reason,
    attempts: call.attempts,
    next_attempt_at: seconds(call.nextAttemptAt),
    deadline_at: seconds(call.deadlineAt),
    created_at: seconds(call.createdAt),
    updated_at: seconds(updatedAt),
    finished_at: seconds(call.finishedAt),
    last_error: call.lastError ? { status_code: call.lastError.status, ...call.lastError.body } : null,
  };
}
