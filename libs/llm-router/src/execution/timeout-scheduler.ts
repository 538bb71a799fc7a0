import { Subscription, type SchedulerAction, type SchedulerLike } from 'rxjs';

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
  /** Delays whose Node timer list is kept (see keepTimerList). */
  private readonly keptLists = new Set<number>();

  now(): number {
    return Date.now();
  }

  schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay = 0, state?: T): Subscription {
    if (delay >= 1000 && delay % 1000 === 0 && !this.keptLists.has(delay)) this.keepTimerList(delay);
    return new TimeoutAction<T>(work).schedule(state, delay);
  }

  /**
   * Node keeps one list of timers per duration, created with its first timer
   * (arming the native timer) and dropped with its last. A call arms its
   * deadline and attempt timeout and nearly always clears both: one call at a
   * time (one connection, a script), every call created and dropped two lists
   * (~1.2 µs of a call measured). An unref'd interval of the same duration
   * keeps the list, so arming one is an append. Only whole seconds, the
   * classes' deadlines and timeouts (jittered backoffs are not), at most
   * MAX_KEPT_LISTS of them; the intervals keep no process alive.
   */
  private keepTimerList(delay: number): void {
    if (this.keptLists.size >= MAX_KEPT_LISTS || delay > MAX_TIMER_MS) return;
    this.keptLists.add(delay);
    setInterval(keepAlive, delay).unref();
  }
}

const MAX_KEPT_LISTS = 32;
/** Node's longest timer (2^31 - 1 ms): a longer one would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const keepAlive = (): void => undefined;

export const timeoutScheduler: SchedulerLike = new TimeoutScheduler();
