import { deferredCallState, unixSeconds } from '@llm-router/nestjs';
import type { ListedDeferredCall } from '../store/gateway-store.js';

/**
 * A deferred call as the admin listing shows it: its state across tenants
 * (as GET /v1/deferred/:id shows it, with its tenant and last update), never
 * its request nor its completion (GET /v1/deferred/:id answers those to the
 * tenant). Times in Unix seconds, as the OpenAI objects have them.
 */
export function deferredListingItem({ call, updatedAt }: ListedDeferredCall) {
  return { ...deferredCallState(call), tenant: call.tenant ?? null, updated_at: unixSeconds(updatedAt) };
}
