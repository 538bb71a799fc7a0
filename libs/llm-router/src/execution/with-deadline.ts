import { Observable, type MonoTypeOperatorFunction, type SchedulerLike } from 'rxjs';

/**
 * Errors with `onDeadline()` if the source has not finished within `ms`, and
 * unsubscribes it (which aborts any upstream call in flight). Unlike
 * `timeout`, it bounds the whole stream, not the gap between values.
 */
export function withDeadline<T>(ms: number, scheduler: SchedulerLike, onDeadline: () => Error): MonoTypeOperatorFunction<T> {
  return (source) =>
    new Observable<T>((subscriber) => {
      const timer = scheduler.schedule(() => subscriber.error(onDeadline()), Math.max(0, ms));
      const inner = source.subscribe(subscriber);
      return () => {
        timer.unsubscribe();
        inner.unsubscribe();
      };
    });
}
