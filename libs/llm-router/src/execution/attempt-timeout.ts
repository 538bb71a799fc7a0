import { Observable, type MonoTypeOperatorFunction, type SchedulerAction, type SchedulerLike, type Subscription } from 'rxjs';

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

/** Told once when the wait for a value ran out. */
export interface TimeoutListener {
  timedOut(): void;
}

/**
 * rxjs `timeout({ first, each })` with one timer per attempt instead of one per
 * value: a value only moves a timestamp, and a timer that fires early re-arms
 * itself for the time left. A stream of many small chunks would otherwise
 * clear and set a timer for every chunk. A class, not closures: an attempt
 * holds one for its whole life (a stream's), and the scheduler gets it as
 * its work's state.
 */
export class AttemptTimer {
  private seen = false;
  private lastAt: number;
  private action: Subscription | undefined;

  constructor(
    private readonly firstMs: number,
    private readonly eachMs: number | undefined,
    private readonly scheduler: SchedulerLike,
    private readonly listener: TimeoutListener,
    startedAt: number = scheduler.now(),
  ) {
    this.lastAt = startedAt;
  }

  start(): void {
    this.action = this.scheduler.schedule(checkTimer, Math.max(0, this.firstMs), this);
  }

  /** A value came: the first swaps the first-value timer for the gap timer (or none); later ones move the timestamp. */
  value(): void {
    if (!this.seen) {
      this.seen = true;
      this.action?.unsubscribe();
      this.action = this.eachMs === undefined ? undefined : this.scheduler.schedule(checkTimer, Math.max(0, this.eachMs), this);
    }
    if (this.eachMs !== undefined) this.lastAt = this.scheduler.now();
  }

  stop(): void {
    this.action?.unsubscribe();
    this.action = undefined;
  }

  check(): void {
    this.action = undefined;
    const limit = this.seen ? this.eachMs : this.firstMs;
    if (limit === undefined) return;
    const left = this.lastAt + limit - this.scheduler.now();
    if (left > 0) this.action = this.scheduler.schedule(checkTimer, left, this);
    else this.listener.timedOut();
  }
}

function checkTimer(this: SchedulerAction<AttemptTimer>, timer?: AttemptTimer): void {
  timer!.check();
}

/** `AttemptTimer` as an operator: errors with `onTimeout()` when a wait runs out. */
export function attemptTimeout<T>({ firstMs, eachMs, scheduler, onTimeout, startedAt }: AttemptTimeoutSpec): MonoTypeOperatorFunction<T> {
  return (source) =>
    new Observable<T>((subscriber) => {
      const timer = new AttemptTimer(firstMs, eachMs, scheduler, { timedOut: () => subscriber.error(onTimeout()) }, startedAt);
      timer.start();
      const inner = source.subscribe({
        next: (value) => {
          timer.value();
          subscriber.next(value);
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
      return () => {
        timer.stop();
        inner.unsubscribe();
      };
    });
}
