import type { IncomingHttpHeaders } from 'node:http';
import { asyncScheduler, Observable, type SchedulerLike, type Subscription } from 'rxjs';
import type { UpstreamFailure } from '../errors/upstream-failure.js';
import type { Transport, TransportEvent, TransportRequest } from '../providers/http/transport.interface.js';

/** One scripted upstream answer. */
export interface ScriptedResponse {
  status?: number;
  headers?: IncomingHttpHeaders;
  /** The whole body (JSON), or SSE text pieces sent one by one. */
  body?: string;
  chunks?: readonly string[];
  /** Before the head; then between chunks. */
  delayMs?: number;
  chunkDelayMs?: number;
  /** A connection-level failure instead of a response. */
  failure?: UpstreamFailure;
  /** Fail with `failure` after sending this many chunks. */
  failAfterChunks?: number;
  /** Never answer. */
  hang?: boolean;
}

/**
 * An in-process Transport that answers from scripts, on any RxJS scheduler
 * (virtual time in unit tests). Used for unit tests of the pipeline and the
 * library micro-benchmark; the end-to-end tests use real HTTP instead.
 */
export class ScriptedTransport implements Transport {
  /** Upstream model of every call, in order. */
  readonly calls: string[] = [];
  /** Calls torn down before they finished. */
  aborted = 0;
  private readonly scripts = new Map<string, ScriptedResponse[]>();

  constructor(
    private readonly fallback: ScriptedResponse = { status: 200, body: '{}' },
    private readonly scheduler: SchedulerLike = asyncScheduler,
  ) {}

  /** Queue answers for an upstream model; the last one repeats. */
  script(upstreamModel: string, ...responses: ScriptedResponse[]): this {
    this.scripts.set(upstreamModel, responses);
    return this;
  }

  callsTo(upstreamModel: string): number {
    return this.calls.filter((m) => m === upstreamModel).length;
  }

  send({ request }: TransportRequest): Observable<TransportEvent> {
    const model = this.scripts.size === 0 ? '' : ((JSON.parse(request.body) as { model?: string }).model ?? '');
    this.calls.push(model);
    const queue = this.scripts.get(model);
    const response = queue ? (queue.length > 1 ? queue.shift()! : queue[0]!) : this.fallback;
    return new Observable<TransportEvent>((subscriber) => {
      if (response.hang) return () => this.aborted++;
      let done = false;
      let pending: Subscription | undefined;
      const steps: Array<() => void> = [];
      const fail = (): void => {
        done = true;
        subscriber.error(response.failure);
      };
      if (response.failure && response.failAfterChunks === undefined) {
        steps.push(fail);
      } else {
        steps.push(() => subscriber.next({ type: 'head', status: response.status ?? 200, headers: response.headers ?? {} }));
        const chunks = response.chunks ?? (response.body !== undefined ? [response.body] : []);
        chunks.forEach((text, i) => {
          if (response.failAfterChunks === i) steps.push(fail);
          steps.push(() => subscriber.next({ type: 'data', text }));
        });
        if (response.failAfterChunks !== undefined && response.failAfterChunks >= chunks.length) {
          steps.push(fail);
        }
        steps.push(() => {
          done = true;
          subscriber.complete();
        });
      }
      let i = 0;
      const next = (): void => {
        while (i < steps.length && !subscriber.closed) {
          const delay = i === 0 ? (response.delayMs ?? 0) : i > 1 ? (response.chunkDelayMs ?? 0) : 0;
          const step = steps[i++]!;
          if (delay > 0) {
            pending = this.scheduler.schedule(() => {
              step();
              next();
            }, delay);
            return;
          }
          step();
        }
      };
      next();
      return () => {
        pending?.unsubscribe();
        if (!done) this.aborted++;
      };
    });
  }

  close(): void {}
}
