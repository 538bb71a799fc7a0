import { Subscription, type SchedulerAction, type SchedulerLike } from 'rxjs';
import { keepTimerList } from '../shared/timer-lists.js';

/**
 * One scheduled piece of work: a plain Node timer. The timer calls a module function with the action as its
 * argument, not a closure over it: a closure and its context per timer, and an open stream holds two (its deadline
 * and its attempt's timeout) for its life.
 */
class TimeoutAction<T> extends Subscription implements SchedulerAction<T> {
  private timer: NodeJS.Timeout | undefined;
  private state: T | undefined;

  constructor(private readonly work: (this: SchedulerAction<T>, state?: T) => void) {
    super();
  }

  schedule(state?: T, delay = 0): Subscription {
    if (this.closed) return this;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.state = state;
    this.timer = setTimeout(runAction, delay, this);
    return this;
  }

  /** Its timer is due. */
  run(): void {
    this.timer = undefined;
    this.work.call(this, this.state);
    // Work that did not schedule itself again is done.
    if (this.timer === undefined) this.unsubscribe();
  }

  override unsubscribe(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.state = undefined;
    super.unsubscribe();
  }
}

function runAction(action: { run(): void }): void {
  action.run();
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
