import { Subscription, type SchedulerAction, type SchedulerLike } from 'rxjs';
import { keepTimerList } from '../shared/timer-lists.js';

/** One scheduled piece of work: a plain Node timer. */
class TimeoutAction<T> extends Subscription implements SchedulerAction<T> {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly work: (this: SchedulerAction<T>, state?: T) => void) {
    super();
  }

  schedule(state?: T, delay = 0): Subscription {
    if (this.closed) return this;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.work.call(this, state);
      // Work that did not schedule itself again is done.
      if (this.timer === undefined) this.unsubscribe();
    }, delay);
    return this;
  }

  override unsubscribe(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    super.unsubscribe();
  }
}

/**
 * rxjs's `asyncScheduler` on a plain `setTimeout`. The router arms two timers
 * per call (deadline, attempt timeout) and clears them almost always;
 * asyncScheduler would give each a setInterval, a bound flush function and a
 * place in its action queue. Same contract: `now()` is Date.now, work runs
 * once after `delay` unless it schedules itself again.
 */
export class TimeoutScheduler implements SchedulerLike {
  now(): number {
    return Date.now();
  }

  schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay = 0, state?: T): Subscription {
    // A deadline or attempt timeout of whole seconds appends to a kept list (see timer-lists.ts).
    keepTimerList(delay);
    return new TimeoutAction<T>(work).schedule(state, delay);
  }
}

export const timeoutScheduler: SchedulerLike = new TimeoutScheduler();
