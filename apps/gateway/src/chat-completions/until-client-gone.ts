import type { ServerResponse } from 'node:http';
import type { Observable, Observer, Subscription } from 'rxjs';
import type { GraceHolder, GraceOver } from '../http/shutdown-grace.js';

/**
 * Subscribes `observer` to `source`, unsubscribing (which aborts the upstream
 * call) if the client hangs up first. Without it the upstream would keep
 * generating, and billing, for nobody.
 *
 * With `grace`, the call is also bound to the shutdown's grace period: when
 * the grace is over, the observer gets its error and then the source is
 * unsubscribed.
 */
export function subscribeUntilClientGone<T>(source: Observable<T>, res: ServerResponse, observer: Partial<Observer<T>>, grace?: GraceHolder): void {
  let subscription: Subscription | undefined;
  let ended = false;
  const onClose = () => {
    if (onOver !== undefined) grace!.release(onOver);
    subscription?.unsubscribe();
  };
  const onOver: GraceOver | undefined =
    grace &&
    ((err) => {
      if (ended) return;
      ended = true;
      res.off('close', onClose);
      observer.error?.(err);
      subscription?.unsubscribe();
    });
  // The grace is held before the call starts (and, already over, ends it before it starts).
  if (onOver !== undefined) grace!.hold(onOver);
  const settle = () => {
    ended = true;
    res.off('close', onClose);
    if (onOver !== undefined) grace!.release(onOver);
  };
  subscription = source.subscribe({
    next: (value) => {
      if (!ended) observer.next?.(value);
    },
    error: (err: unknown) => {
      if (ended) return;
      settle();
      observer.error?.(err);
    },
    complete: () => {
      if (ended) return;
      settle();
      observer.complete?.();
    },
  });
  if (ended) subscription.unsubscribe();
  // 'close' comes once: a plain listener, taken off when the call settles first.
  else if (!subscription.closed) res.on('close', onClose);
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
