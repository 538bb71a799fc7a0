import type { Observable } from 'rxjs';

/**
 * A job handler's call (an Observable that emits its result and completes)
 * until the handler's `signal` aborts (its worker closing): the last value,
 * or `undefined` once `signal` aborts first, the call then unsubscribed
 * (which aborts it upstream) and the handler to answer `later`. Rejects as
 * the call does, and if it completes without a value.
 */
export function untilAborted<T>(call$: Observable<T>, signal: AbortSignal): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return resolve(undefined);
    let last: { value: T } | undefined;
    const onAbort = () => {
      subscription.unsubscribe();
      resolve(undefined);
    };
    const subscription = call$.subscribe({
      next: (value) => (last = { value }),
      error: (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
      complete: () => {
        signal.removeEventListener('abort', onAbort);
        if (last) resolve(last.value);
        else reject(new Error('the routed call completed without a result'));
      },
    });
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
