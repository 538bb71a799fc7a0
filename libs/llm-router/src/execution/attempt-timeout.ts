import type { SchedulerAction, SchedulerLike, Subscription } from 'rxjs';

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
  /** The limit ran out once and the timer looked again one pass later (see check). */
  private lookedAgain = false;
  private lastAt: number;
  private action: Subscription | undefined;

  constructor(
    /** The limit on the wait for the first value. */
    readonly firstMs: number,
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
    this.lookedAgain = false;
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
    if (left > 0) {
      this.action = this.scheduler.schedule(checkTimer, left, this);
    } else if (!this.lookedAgain) {
      // A late event loop runs its timers before it reads the sockets: a value that came in time may still be
      // unread. One more pass (a zero-delay timer runs after the reads) lets it count before the limit does.
      this.lookedAgain = true;
      this.action = this.scheduler.schedule(checkTimer, 0, this);
    } else {
      this.listener.timedOut();
    }
  }
}

function checkTimer(this: SchedulerAction<AttemptTimer>, timer?: AttemptTimer): void {
  timer!.check();
}
