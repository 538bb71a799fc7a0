import { Observable, Subscriber } from 'rxjs';
import { BudgetMoved } from '../budget/budget-moved.js';
import type { RoutedOutput } from '../execution/route-outcome.js';

/**
 * `routed$`, or, when its first reservation finds the tenant's balance moved
 * (`BudgetMoved`, before any output), the call planned again (`replan`).
 * `catchError` kept its handler (and the call's planning closures) for a
 * stream's whole life; this drops it at the first output, after which the
 * budget can no longer move the plan.
 */
export function replanOnBudgetMoved(routed$: Observable<RoutedOutput>, replan: (moved: BudgetMoved) => Observable<RoutedOutput>): Observable<RoutedOutput> {
  return new Observable<RoutedOutput>((subscriber) => routed$.subscribe(new ReplanOnBudgetMoved(subscriber, replan)));
}

class ReplanOnBudgetMoved extends Subscriber<RoutedOutput> {
  constructor(
    private readonly caller: Subscriber<RoutedOutput>,
    private replan: ((moved: BudgetMoved) => Observable<RoutedOutput>) | undefined,
  ) {
    super(caller);
  }

  protected override _next(routed: RoutedOutput): void {
    this.replan = undefined;
    this.caller.next(routed);
  }

  protected override _error(err: unknown): void {
    const replan = this.replan;
    this.replan = undefined;
    if (!(err instanceof BudgetMoved) || replan === undefined) return super._error(err);
    // This call's plan is done with; the caller follows the new one.
    this.unsubscribe();
    let replanned: Observable<RoutedOutput>;
    try {
      replanned = replan(err);
    } catch (failure) {
      this.caller.error(failure);
      return;
    }
    replanned.subscribe(this.caller);
  }
}
