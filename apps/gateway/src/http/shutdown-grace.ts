import { Injectable } from '@nestjs/common';
import { LlmRouterError } from '@llm-router/nestjs';

/** A call in flight holding the grace: told once the grace is over, when it must end with `err`. */
export interface GraceBound {
  graceOver(err: unknown): void;
}

/** A call's place among those holding the grace (ShutdownGrace's list). */
export class GracePlace {
  /** Its neighbours while it holds the grace; both undefined once released. */
  prev?: GracePlace;
  next?: GracePlace;

  constructor(readonly call: GraceBound | undefined) {}

  /** The call is no longer told: out of the list, pointing at nothing. */
  release(): void {
    const { prev, next } = this;
    if (prev === undefined || next === undefined) return; // released already, or the grace is over
    prev.next = next;
    next.prev = prev;
    this.prev = this.next = undefined;
  }
}

/** What a call in flight needs of the grace: to be told when it is over (and, by its place, to stop being told). */
export interface GraceHolder {
  /** The call's place, or undefined when the grace is already over (the call was told at once). */
  hold(call: GraceBound): GracePlace | undefined;
}

/**
 * The end of a shutdown's grace period (LLM_SHUTDOWN_GRACE_MS). Calls in
 * flight on `/v1/chat/completions` and `/v1/responses` hold it (see
 * subscribeUntilClientGone): when the grace is over
 * and one is still running, it ends with an explicit error (a 503 before the
 * answer started, an error event inside a stream) and its upstream call is
 * aborted, instead of being cut without a word when the connections close.
 *
 * The calls are a doubly linked list, not a Set: a long-lived Set's table is
 * in the old generation and is rebuilt as calls join and leave it, and each
 * table it leaves behind still points at the calls it held. V8's young
 * collections take such pointers as live until the next full collection, so
 * every call (its request, response and answer: ~5 kB) was copied and
 * promoted. A released place is unlinked, and points at nothing.
 */
@Injectable()
export class ShutdownGrace implements GraceHolder {
  /** The list's ends: a place that holds no call. */
  private readonly ends = new GracePlace(undefined);
  private over?: LlmRouterError;

  constructor() {
    this.ends.prev = this.ends.next = this.ends;
  }

  /** `call` is told when the grace is over: at once if it is already. */
  hold(call: GraceBound): GracePlace | undefined {
    if (this.over !== undefined) {
      call.graceOver(this.over);
      return undefined;
    }
    const place = new GracePlace(call);
    const last = this.ends.prev!;
    place.prev = last;
    place.next = this.ends;
    last.next = place;
    this.ends.prev = place;
    return place;
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
    const held: GraceBound[] = [];
    for (let place = this.ends.next!; place !== this.ends; ) {
      const next = place.next!;
      held.push(place.call!);
      place.prev = place.next = undefined;
      place = next;
    }
    this.ends.prev = this.ends.next = this.ends;
    for (const call of held) call.graceOver(over);
  }
}
