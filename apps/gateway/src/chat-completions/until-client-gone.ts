import type { ServerResponse } from 'node:http';
import type { Observable, Observer, Subscription } from 'rxjs';
import type { GraceBound, GraceHolder, GracePlace } from '../http/shutdown-grace.js';

/**
 * A routed call bound to its client: `start` subscribes it to `source`, and
 * it unsubscribes (which aborts the upstream call) if the client hangs up
 * first. Without it the upstream would keep generating, and billing, for nobody.
 *
 * With `grace`, the call is also bound to the shutdown's grace period: when
 * the grace is over, the observer gets its error and then the source is
 * unsubscribed.
 *
 * One object per call (and the observer, an object of its own: SseStream,
 * CompletionAnswer): an open stream holds them instead of a closure per
 * event kind and per exit. Every call is this one class to rxjs, whose
 * subscriber code then sees one shape (a subclass per kind of call made it
 * deoptimize, again and again, on each new one).
 */
class ClientBoundCall<T> implements Observer<T>, GraceBound {
  private subscription?: Subscription;
  private ended = false;
  private gracePlace?: GracePlace;
  private onClose?: () => void;

  constructor(
    private readonly res: ServerResponse,
    private readonly observer: Partial<Observer<T>>,
  ) {}

  start(source: Observable<T>, grace?: GraceHolder): void {
    // The grace is held before the call starts (and, already over, ends it before it starts).
    if (grace !== undefined) this.gracePlace = grace.hold(this);
    const subscription = source.subscribe(this);
    this.subscription = subscription;
    if (this.ended) subscription.unsubscribe();
    // 'close' comes once: a plain listener, taken off when the call settles first.
    else if (!subscription.closed) this.res.on('close', (this.onClose = this.clientGone.bind(this)));
  }

  next(value: T): void {
    if (!this.ended) this.observer.next?.(value);
  }

  error(err: unknown): void {
    if (this.ended) return;
    this.settle();
    this.observer.error?.(err);
  }

  complete(): void {
    if (this.ended) return;
    this.settle();
    this.observer.complete?.();
  }

  graceOver(err: unknown): void {
    if (this.ended) return;
    this.detach();
    this.observer.error?.(err);
    this.subscription?.unsubscribe();
  }

  private clientGone(): void {
    this.gracePlace?.release();
    this.subscription?.unsubscribe();
  }

  /** The call ended on its own: it lets go of the client's 'close' and of the grace. */
  private settle(): void {
    this.detach();
    this.gracePlace?.release();
  }

  /** Nothing more reaches the observer, and the client's 'close' is no longer listened to. */
  private detach(): void {
    this.ended = true;
    if (this.onClose !== undefined) this.res.off('close', this.onClose);
  }
}

/** Subscribes `observer` to `source`, bound to the client (and, with `grace`, to the shutdown's grace) as ClientBoundCall says. */
export function subscribeUntilClientGone<T>(source: Observable<T>, res: ServerResponse, observer: Partial<Observer<T>>, grace?: GraceHolder): void {
  new ClientBoundCall(res, observer).start(source, grace);
}

/** The last value of `source`, or its error; unsubscribed if the client hangs up first (or, with `grace`, when the grace is over). */
export function untilClientGone<T>(source: Observable<T>, res: ServerResponse, grace?: GraceHolder): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let last: { value: T } | undefined;
    subscribeUntilClientGone(source, res, {
      next: (value) => (last = { value }),
      error: reject,
      complete: () => (last ? resolve(last.value) : reject(new Error('the routed call completed without a result'))),
    }, grace);
  });
}
