import type { Observer, Subscriber } from 'rxjs';
import type { RoutedOutput } from '../execution/route-outcome.js';

/**
 * The caller's side of a routed call: each output as the caller takes it
 * (`project`); a projection that throws errors the call. A plain observer,
 * not a Subscriber subclass (whose constructor rxjs 7.8 deprecates and rxjs 8
 * makes internal): rxjs wraps it in a SafeSubscriber, which measured no more
 * CPU or bytes per call than the subclass did.
 */
export class ProjectingObserver<T> implements Observer<RoutedOutput> {
  constructor(
    private readonly caller: Subscriber<T>,
    private readonly project: (routed: RoutedOutput) => T,
  ) {}

  next(routed: RoutedOutput): void {
    let output: T;
    try {
      output = this.project(routed);
    } catch (err) {
      this.caller.error(err);
      return;
    }
    this.caller.next(output);
  }

  error(err: unknown): void {
    this.caller.error(err);
  }

  complete(): void {
    this.caller.complete();
  }
}
