import type { FailureCategory } from './failure-category.js';

/** A model the planner left out, and why. */
export interface Exclusion {
  readonly model: string;
  readonly reason: string;
  /** The model the request named (its `model`): another serves instead. */
  readonly requested?: true;
}

/** `gateway_error`: the router refused or gave up. `upstream_error`: a provider's answer passed through. */
export type RouterErrorOrigin = 'gateway' | 'upstream';

export interface LlmRouterErrorInit {
  category: FailureCategory;
  message: string;
  httpStatus: number;
  origin: RouterErrorOrigin;
  code?: string;
  param?: string | null;
  retryAfterMs?: number;
  excluded?: readonly Exclusion[];
  requestId?: string;
}

/** What the caller of the router receives when a routed call fails. */
export class LlmRouterError extends Error {
  readonly category: FailureCategory;
  readonly httpStatus: number;
  readonly origin: RouterErrorOrigin;
  readonly code: string;
  readonly param: string | null;
  readonly retryAfterMs?: number;
  readonly excluded: readonly Exclusion[];
  requestId?: string;
  /** The policy version the refused or failed call ran under (set by the router, as `requestId`). */
  policyVersion?: string;

  constructor(init: LlmRouterErrorInit) {
    super(init.message);
    this.name = 'LlmRouterError';
    this.category = init.category;
    this.httpStatus = init.httpStatus;
    this.origin = init.origin;
    this.code = init.code ?? init.category;
    this.param = init.param ?? null;
    this.retryAfterMs = init.retryAfterMs;
    this.excluded = init.excluded ?? [];
    this.requestId = init.requestId;
  }

  /** The OpenAI error body: `{"error":{"message","type","code","param"}}`. */
  toOpenAiError(): { error: { message: string; type: string; code: string; param: string | null; category: FailureCategory; excluded?: readonly Exclusion[] } } {
    return {
      error: {
        message: this.message,
        type: this.origin === 'gateway' ? 'gateway_error' : 'upstream_error',
        code: this.code,
        param: this.param,
        category: this.category,
        ...(this.excluded.length > 0 ? { excluded: this.excluded } : {}),
      },
    };
  }
}
