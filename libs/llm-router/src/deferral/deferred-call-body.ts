import type { DeferredCall } from './deferred-call.js';

const seconds = (ms: number | null | undefined): number | null => (ms === null || ms === undefined ? null : Math.floor(ms / 1000));

/**
 * A deferred call as JSON text, as `GET /v1/deferred/:id` answers it and as
 * its callback is POSTed: its state and, once completed, `response.body`,
 * the chat completion byte for byte as the synchronous call would have
 * answered it (the OpenAI Batch API's output line shape); once failed or
 * expired, the last error the way the synchronous call would have answered it.
 */
export function deferredCallBody(call: DeferredCall): string {
  const head = JSON.stringify({
    id: call.id,
    object: 'deferred.chat.completion',
    status: call.status,
    reason: call.reason,
    traffic_class: call.trafficClass,
    created_at: seconds(call.createdAt),
    deadline_at: seconds(call.deadlineAt),
    next_attempt_at: seconds(call.nextAttemptAt),
    finished_at: seconds(call.finishedAt),
    attempts: call.attempts,
    last_error: call.lastError ? { status_code: call.lastError.status, ...call.lastError.body } : null,
  });
  const response = call.completion === undefined ? 'null' : `{"status_code":200,"body":${call.completion}}`;
  return `${head.slice(0, -1)},"response":${response}}`;
}
