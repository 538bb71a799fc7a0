import type { ServerResponse } from 'node:http';
import type { Observable, Observer, Subscription } from 'rxjs';

/**
 * Subscribes `observer` to `source`, unsubscribing (which aborts the upstream
 * call) if the client hangs up first. Without it the upstream would keep
 * generating, and billing, for nobody.
 */
export function subscribeUntilClientGone<T>(source: Observable<T>, res: ServerResponse, observer: Partial<Observer<T>>): void {
  let subscription: Subscription | undefined;
  const onClose = () => subscription?.unsubscribe();
  subscription = source.subscribe({
    next: (value) => observer.next?.(value),
    error: (err: unknown) => {
      res.off('close', onClose);
      observer.error?.(err);
    },
    complete: () => {
      res.off('close', onClose);
      observer.complete?.();
    },
  });
  if (!subscription.closed) res.once('close', onClose);
}

/** The last value of `source`, or its error; unsubscribed if the client hangs up first. */
export function untilClientGone<T>(source: Observable<T>, res: ServerResponse): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let last: { value: T } | undefined;
    subscribeUntilClientGone(source, res, {
      next: (value) => (last = { value }),
      error: reject,
      complete: () => (last ? resolve(last.value) : reject(new Error('the routed call completed without a result'))),
    });
  });
}
