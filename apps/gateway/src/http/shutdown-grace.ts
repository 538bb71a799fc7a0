import { Injectable } from '@nestjs/common';
import { LlmRouterError } from '@llm-router/nestjs';

/** A call in flight holding the grace: told once the grace is over, when it must end with `err`. */
export interface GraceBound {
  graceOver(err: unknown): void;
}

/** What a call in flight needs of the grace: to be told when it is over, and to stop being told. */
export interface GraceHolder {
  hold(call: GraceBound): void;
  release(call: GraceBound): void;
}

/**
 * The end of a shutdown's grace period (LLM_SHUTDOWN_GRACE_MS). Calls in
 * flight on `/v1/chat/completions` and `/v1/responses` hold it (see
 * subscribeUntilClientGone): when the grace is over
 * and one is still running, it ends with an explicit error (a 503 before the
 * answer started, an error event inside a stream) and its upstream call is
 * aborted, instead of being cut without a word when the connections close.
 */
@Injectable()
export class ShutdownGrace implements GraceHolder {
  /** Calls in flight (a set: every routed call joins and leaves it). */
  private readonly holders = new Set<GraceBound>();
  private over?: LlmRouterError;

  /** `call` is told when the grace is over: at once if it is already. */
  hold(call: GraceBound): void {
    if (this.over !== undefined) call.graceOver(this.over);
    else this.holders.add(call);
  }

  release(call: GraceBound): void {
    this.holders.delete(call);
  }

  /** Calls still bound: each ends with the error. */
  end(): void {
    if (this.over !== undefined) return;
    const over = new LlmRouterError({
      category: 'transient',
      httpStatus: 503,
      origin: 'gateway',
      code: 'gateway_shutting_down',
      message: 'The gateway is shutting down and its grace period for calls in flight is over: send the request again (another instance will serve it).',
      retryAfterMs: 1_000,
    });
    this.over = over;
    const held = [...this.holders];
    this.holders.clear();
    for (const call of held) call.graceOver(over);
  }
}
