import type { FailureCategory } from '../execution/failure-category.js';

export interface UpstreamFailureInit {
  category: FailureCategory;
  message: string;
  /** HTTP status the upstream answered with; absent for connection-level failures. */
  status?: number;
  /** The provider's own error code or type (e.g. `insufficient_quota`, `overloaded_error`). */
  code?: string;
  /** Parsed Retry-After, in milliseconds. */
  retryAfterMs?: number;
  /** True once content was delivered to the caller (streams only). */
  afterFirstChunk?: boolean;
}

/** One failed attempt against one target, already categorized. */
export class UpstreamFailure extends Error {
  readonly category: FailureCategory;
  readonly status?: number;
  readonly code?: string;
  readonly retryAfterMs?: number;
  readonly afterFirstChunk: boolean;

  constructor(init: UpstreamFailureInit) {
    super(init.message);
    this.name = 'UpstreamFailure';
    this.category = init.category;
    this.status = init.status;
    this.code = init.code;
    this.retryAfterMs = init.retryAfterMs;
    this.afterFirstChunk = init.afterFirstChunk ?? false;
  }
}
