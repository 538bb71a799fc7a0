import { unixSeconds } from '@llm-router/nestjs';
import type { BatchItemStatus, StoredBatch } from '../store/batch-store.js';

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * A batch as OpenAI's Batch API shows it, with `request_counts` from its
 * items (completed: answered 2xx; failed: every other finished item) and the
 * gateway's extension `llm_router`: its traffic class, and whether, why and
 * until when it is paused.
 */
export function batchView(batch: StoredBatch, counts: Record<BatchItemStatus, number>) {
  const failedItems = counts.failed + counts.cancelled + counts.expired;
  return {
    id: batch.id,
    object: 'batch' as const,
    endpoint: batch.endpoint,
    errors: batch.errors === null ? null : { object: 'list' as const, data: batch.errors },
    input_file_id: batch.inputFileId,
    completion_window: batch.completionWindow,
    status: batch.status,
    output_file_id: batch.outputFileId,
    error_file_id: batch.errorFileId,
    created_at: unixSeconds(batch.createdAt),
    in_progress_at: unixSeconds(batch.inProgressAt),
    expires_at: unixSeconds(batch.expiresAt),
    finalizing_at: unixSeconds(batch.finalizingAt),
    completed_at: unixSeconds(batch.completedAt),
    failed_at: unixSeconds(batch.failedAt),
    expired_at: unixSeconds(batch.expiredAt),
    cancelling_at: unixSeconds(batch.cancellingAt),
    cancelled_at: unixSeconds(batch.cancelledAt),
    request_counts: { total: batch.total, completed: counts.succeeded, failed: failedItems },
    metadata: batch.metadata,
    llm_router: {
      traffic_class: batch.trafficClass,
      pending: counts.pending,
      paused: batch.pause !== null,
      pause:
        batch.pause === null
          ? null
          : {
              reason: batch.pause.reason,
              message: batch.pause.message,
              paused_at: iso(batch.pause.pausedAt),
              // The window that refused it ends then; a raised budget resumes it at once.
              resumes_at: iso(batch.pause.resumeAt),
              resumes_when: resumesWhen(batch.pause.reason),
            },
    },
  };
}

function resumesWhen(reason: string): string {
  if (reason === 'daily_cap_exhausted') return 'the UTC day rolls over, or the daily cap is raised';
  return 'the budget period rolls over, or the budget is raised';
}
