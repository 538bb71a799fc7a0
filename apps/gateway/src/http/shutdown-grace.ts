import { Injectable } from '@nestjs/common';
import { LlmRouterError } from '@llm-router/nestjs';
import { Observable, Subject } from 'rxjs';

/**
 * The end of a shutdown's grace period (LLM_SHUTDOWN_GRACE_MS). Calls in
 * flight on `/v1/chat/completions` are bound to it: when the grace is over
 * and one is still running, it ends with an explicit error (a 503 before the
 * answer started, an error event inside a stream) and its upstream call is
 * aborted, instead of being cut without a word when the connections close.
 */
@Injectable()
export class ShutdownGrace {
  private readonly over = new Subject<never>();

  /** `call$`, ended by the grace's end with a `gateway_shutting_down` error. */
  bound<T>(call$: Observable<T>): Observable<T> {
    // Not merge(): that would complete only when the grace does too.
    return new Observable<T>((subscriber) => {
      const grace = this.over.subscribe({ error: (err: unknown) => subscriber.error(err) });
      const call = call$.subscribe(subscriber);
      return () => {
        grace.unsubscribe();
        call.unsubscribe();
      };
    });
  }

  /** Calls still bound: each ends with the error. */
  end(): void {
    this.over.error(
      new LlmRouterError({
        category: 'transient',
        httpStatus: 503,
        origin: 'gateway',
        code: 'gateway_shutting_down',
        message: 'The gateway is shutting down and its grace period for calls in flight is over: send the request again (another instance will serve it).',
        retryAfterMs: 1_000,
      }),
    );
  }
}
