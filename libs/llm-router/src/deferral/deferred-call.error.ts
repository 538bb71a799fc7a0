import type { DeferredCall } from './deferred-call.js';

/** A deferred call's result once it failed or expired: the call carries its last error as the synchronous call would have answered it. */
export class DeferredCallError extends Error {
  constructor(readonly call: DeferredCall) {
    const last = call.lastError?.body.error.message;
    super(`Deferred call ${call.id} ${call.status}${typeof last === 'string' ? `: ${last}` : ''}`);
    this.name = 'DeferredCallError';
  }
}
