import { Observable, type MonoTypeOperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';

/**
 * Errors with `onDeadline()` if the source has not finished within `ms`, and
 * unsubscribes it (which aborts any upstream call in flight). Unlike
 * `timeout`, it bounds the whole stream, not the gap between values.
 *
 * The source is torn down before the error goes out: an attempt cut by the
 * deadline has been recorded (as aborted) by the time the error is built and
 * read, so what the caller is told lists the same attempts as the record.
 */
export function withDeadline<T>(ms: number, scheduler: SchedulerLike, onDeadline: () => Error): MonoTypeOperatorFunction<T> {
  return (source) =>
    new Observable<T>((subscriber) => {
      let inner: Subscription | undefined;
      let passed = false;
      const timer = scheduler.schedule(() => {
        passed = true;
        const failure = onDeadline();
        inner?.unsubscribe();
        subscriber.error(failure);
      }, Math.max(0, ms));
      // A deadline of 0 on a synchronous scheduler has passed already: nothing to start.
      // Its own subscriber (not `subscriber` itself): tearing the source down must leave this one open for the error.
      if (!passed) {
        inner = source.subscribe({
          next: (value) => subscriber.next(value),
          error: (err: unknown) => subscriber.error(err),
          complete: () => subscriber.complete(),
        });
      }
      return () => {
        timer.unsubscribe();
        inner?.unsubscribe();
      };
    });
}
