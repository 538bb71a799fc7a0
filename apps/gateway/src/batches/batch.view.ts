import type { BatchItemStatus, StoredBatch } from '../store/batch-store.js';

const seconds = (ms: number | null) => (ms === null ? null : Math.floor(ms / 1000));
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
    created_at: seconds(batch.createdAt),
    in_progress_at: seconds(batch.inProgressAt),
    expires_at: seconds(batch.expiresAt),
    finalizing_at: seconds(batch.finalizingAt),
    completed_at: seconds(batch.completedAt),
    failed_at: seconds(batch.failedAt),
    expired_at: seconds(batch.expiredAt),
    cancelling_at: seconds(batch.cancellingAt),
    cancelled_at: seconds(batch.cancelledAt),
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
