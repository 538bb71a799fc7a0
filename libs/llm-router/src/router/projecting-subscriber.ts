import { Subscriber } from 'rxjs';
import type { RoutedOutput } from '../execution/route-outcome.js';

/**
 * The caller's side of a routed call: each output as the caller takes it
 * (`project`); a projection that throws errors the call. One object where a
 * partial observer cost a SafeSubscriber, a ConsumerObserver and three
 * closures, held for a stream's whole life.
 */
export class ProjectingSubscriber<T> extends Subscriber<RoutedOutput> {
  constructor(
    private readonly caller: Subscriber<T>,
    private readonly project: (routed: RoutedOutput) => T,
  ) {
    // Given the caller, rxjs forwards error and complete to it and ends this one with it.
    super(caller);
  }

  protected override _next(routed: RoutedOutput): void {
    let output: T;
    try {
      output = this.project(routed);
    } catch (err) {
      this.error(err);
      return;
    }
    this.caller.next(output);
  }
}
