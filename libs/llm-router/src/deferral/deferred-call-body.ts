import { unixSeconds } from '../shared/unix-seconds.js';
import type { DeferredCall } from './deferred-call.js';

/** A deferred call's state as its JSON shows it (times in Unix seconds), without its completion. */
export function deferredCallState(call: DeferredCall) {
  return {
    id: call.id,
    object: 'deferred.chat.completion' as const,
    status: call.status,
    reason: call.reason,
    traffic_class: call.trafficClass,
    created_at: unixSeconds(call.createdAt),
    deadline_at: unixSeconds(call.deadlineAt),
    next_attempt_at: unixSeconds(call.nextAttemptAt),
    finished_at: unixSeconds(call.finishedAt),
    attempts: call.attempts,
    last_error: call.lastError ? { status_code: call.lastError.status, ...call.lastError.body } : null,
  };
}

/**
 * A deferred call as JSON text, as `GET /v1/deferred/:id` answers it and as
 * its callback is POSTed: its state and, once completed, `response.body`,
 * the chat completion byte for byte as the synchronous call would have
 * answered it (the OpenAI Batch API's output line shape); once failed or
 * expired, the last error the way the synchronous call would have answered it.
 */
export function deferredCallBody(call: DeferredCall): string {
  const head = JSON.stringify(deferredCallState(call));
  const response = call.completion === undefined ? 'null' : `{"status_code":200,"body":${call.completion}}`;
  return `${head.slice(0, -1)},"response":${response}}`;
}
