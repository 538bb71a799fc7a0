import { Observable, type MonoTypeOperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';

export interface AttemptTimeoutSpec {
  /** Longest wait for the first value. */
  readonly firstMs: number;
  /** Longest gap between later values (streams); absent: no limit after the first value. */
  readonly eachMs?: number;
  readonly scheduler: SchedulerLike;
  readonly onTimeout: () => Error;
  /** When the attempt started, if the caller just read the clock: the wait for the first value counts from then. */
  readonly startedAt?: number;
}

/**
 * rxjs `timeout({ first, each })` with one timer per attempt instead of one per
 * value: a value only moves a timestamp, and a timer that fires early re-arms
 * itself for the time left. A stream of many small chunks would otherwise
 * clear and set a timer for every chunk.
 */
export function attemptTimeout<T>({ firstMs, eachMs, scheduler, onTimeout, startedAt }: AttemptTimeoutSpec): MonoTypeOperatorFunction<T> {
  return (source) =>
    new Observable<T>((subscriber) => {
      let seen = false;
      let lastAt = startedAt ?? scheduler.now();
      let timer: Subscription | undefined;
      const check = (): void => {
        timer = undefined;
        const limit = seen ? eachMs : firstMs;
        if (limit === undefined) return;
        const left = lastAt + limit - scheduler.now();
        if (left > 0) timer = scheduler.schedule(check, left);
        else subscriber.error(onTimeout());
      };
      timer = scheduler.schedule(check, Math.max(0, firstMs));
      const inner = source.subscribe({
        next: (value) => {
          if (!seen) {
            seen = true;
            // The first value swaps the first-value timer for the gap timer (or none).
            timer?.unsubscribe();
            timer = eachMs === undefined ? undefined : scheduler.schedule(check, Math.max(0, eachMs));
          }
          if (eachMs !== undefined) lastAt = scheduler.now();
          subscriber.next(value);
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
      return () => {
        timer?.unsubscribe();
        inner.unsubscribe();
      };
    });
}
