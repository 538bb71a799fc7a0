import { Subject, type Observable } from 'rxjs';
import type { RoutingRecord } from './routing-record.js';

/** The stream of routing records; persistence and metrics subscribe to it. */
export class RoutingRecorder {
  private readonly subject = new Subject<RoutingRecord>();
  readonly records$: Observable<RoutingRecord> = this.subject.asObservable();

  emit(record: RoutingRecord): void {
    // A failing subscriber must never break the call that produced the record.
    try {
      this.subject.next(record);
    } catch {
      /* subscribers report their own errors */
    }
  }

  complete(): void {
    this.subject.complete();
  }
}
