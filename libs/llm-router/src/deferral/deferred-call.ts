import type { ChatCompletionRequest } from '../chat/chat-completion.types.js';
import type { RoutingContext } from '../context/routing-context.js';

/** Where a deferred call stands: `pending` until it is served, fails for good, or outlives its class's defer deadline. */
export type DeferredStatus = 'pending' | 'completed' | 'failed' | 'expired';

/** Why a call was deferred: every target failed retryably or had an open circuit, or the tenant reached the restricted budget tier. */
export type DeferReason = 'route_exhausted' | 'budget_restricted';

/** The error a synchronous call would have answered: its HTTP status and OpenAI-shaped body. */
export interface DeferredFailure {
  readonly status: number;
  readonly body: { readonly error: Readonly<Record<string, unknown>> };
}

/** Where the result is POSTed once the call ends, signed with `secret` (HMAC-SHA256 over the body). */
export interface DeferredCallback {
  readonly url: string;
  readonly secret: string;
}

/** A call the router deferred to the work queue, as its store keeps it. */
export interface DeferredCall {
  readonly id: string;
  readonly status: DeferredStatus;
  readonly reason: DeferReason;
  readonly trafficClass: string;
  /** Who may read it (the gateway: the caller's tenant), copied from the context. */
  readonly tenant?: string;
  readonly request: ChatCompletionRequest;
  /** The call's routing context, without its caller budget (that is looked up again for every try). */
  readonly context: RoutingContext;
  /** The caller's own id (an API key's): the app resolves its budget again for each try. */
  readonly caller?: string;
  readonly createdAt: number;
  /** After this the call expires instead of being tried again. */
  readonly deadlineAt: number;
  /** When it is tried next; null once it ended. */
  readonly nextAttemptAt: number | null;
  /** Tries made so far, the synchronous one included. */
  readonly attempts: number;
  readonly lastError?: DeferredFailure;
  /** The chat completion as JSON text, byte for byte what the synchronous call would have answered. */
  readonly completion?: string;
  readonly finishedAt?: number;
  readonly callback?: DeferredCallback;
  /** The callback's delivery: pending until a 2xx answer, failed after the last retry. */
  readonly callbackStatus?: 'pending' | 'delivered' | 'failed';
  readonly callbackAttempts?: number;
}
