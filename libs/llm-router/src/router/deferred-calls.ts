import { randomBytes } from 'node:crypto';
import { filter, firstValueFrom, from, lastValueFrom, merge, type Observable, Subject, switchMap, take, timer } from 'rxjs';
import type { ChatCompletion, ChatCompletionRequest } from '../chat/chat-completion.types.js';
import { CallbackPoster } from '../deferral/callback-delivery.js';
import { CALLBACK_SIGNATURE_HEADER, signCallback } from '../deferral/callback-signature.js';
import type { CallbackTargets } from '../deferral/callback-targets.js';
import { deferReason, failureOf } from '../deferral/defer-reason.js';
import type { DeferredCall, DeferredCallback } from '../deferral/deferred-call.js';
import { deferredCallBody } from '../deferral/deferred-call-body.js';
import { DeferredCallError } from '../deferral/deferred-call.error.js';
import type { DeferredCallStore } from '../deferral/deferred-call.store.js';
import { backoffDelay } from '../execution/backoff.js';
import type { BackoffConfig } from '../policy/policy.schema.js';
import type { CompiledClass } from '../policy/compiled-policy.js';
import type { JobOutcome, JobQueue, JobWorker, QueuedJob } from '../queue/job-queue.js';
import { untilAborted } from '../queue/until-aborted.js';
import type { RoutedCompletion, RouteOptions } from './llm-router.service.js';

/** The work queue's queues: deferred calls' tries, and their callbacks' deliveries. */
export const DEFERRED_CALLS_QUEUE = 'llm-router.deferred';
export const DEFERRED_CALLBACKS_QUEUE = 'llm-router.deferred-callback';

/** What `completeOrDefer` may keep beside the call. */
export interface DeferOptions {
  /** POST the result here once the call ends, signed; retried with backoff until a 2xx. */
  readonly callback?: DeferredCallback;
  /** The caller's own id (an API key's), for `prepareTriesWith` to restore its budget. */
  readonly caller?: string;
}

export type CompletedOrDeferred =
  | { readonly kind: 'completed'; readonly routed: RoutedCompletion }
  | { readonly kind: 'deferred'; readonly call: DeferredCall; readonly handle: DeferredHandle };

/** A deferred call's result, as it arrives (from this process or another instance). */
export interface DeferredHandle {
  readonly id: string;
  /** Emits the call once it ended (completed, failed or expired), then completes. */
  readonly settled$: Observable<DeferredCall>;
  /** The chat completion once served; rejects with a DeferredCallError once it failed or expired. */
  result(): Promise<ChatCompletion>;
}

/**
 * What a try needs besides the stored context (the gateway: the API key's
 * budget and the record's attribution); throwing ends the call as failed.
 */
export type PrepareTry = (call: DeferredCall) => RouteOptions | Promise<RouteOptions>;

export interface DeferredCallsDeps {
  readonly route: (request: ChatCompletionRequest, options: RouteOptions) => Observable<RoutedCompletion>;
  readonly classOf: (name: string | undefined) => CompiledClass;
  readonly currentContext: () => RouteOptions | undefined;
  readonly queue: JobQueue;
  readonly store: DeferredCallStore;
  readonly random: () => number;
  /** Tries (and callback deliveries) at once in this process. Default 4. */
  readonly concurrency?: number;
  /** How often a handle asks the store for a call another instance may be running. Default 1 s. */
  readonly pollMs?: number;
}

const DONE: JobOutcome = { kind: 'done' };
// A callback is given up after this many deliveries that did not get a 2xx.
const CALLBACK_ATTEMPTS = 10;
// For a call whose class left the policy since.
const FALLBACK_BACKOFF: BackoffConfig = { baseMs: 5_000, maxMs: 300_000, jitter: true };
const CALLBACK_TIMEOUT_MS = 10_000;

/**
 * Deferred calls: a call whose class says `onExhausted: defer` and whose
 * route is exhausted by outage or by the restricted budget tier is kept in
 * the DeferredCallStore and tried again from the work queue, with the class's
 * defer backoff, until it is served, fails deterministically (`failed` at
 * once) or passes the class's defer deadline (`expired`, with the last
 * failure). Its callback, if any, is delivered from the queue too.
 */
export class DeferredCalls {
  private readonly settled = new Subject<DeferredCall>();
  private workers: JobWorker[] = [];
  private prepare: PrepareTry = (call) => ({ ...call.context });
  private poster = new CallbackPoster();

  constructor(private readonly deps: DeferredCallsDeps) {}

  /** How a try gets its options from a stored call (call before the app starts). */
  prepareTriesWith(prepare: PrepareTry): void {
    this.prepare = prepare;
  }

  /** The call's completion; or, when its class defers and it failed in a way that can wait, the deferred call. */
  async completeOrDefer(request: ChatCompletionRequest, options?: RouteOptions, defer: DeferOptions = {}): Promise<CompletedOrDeferred> {
    const current = this.deps.currentContext();
    const context: RouteOptions = options ? { ...current, ...options } : { ...current };
    try {
      return { kind: 'completed', routed: await lastValueFrom(this.deps.route(request, context)) };
    } catch (err) {
      const call = await this.deferAfter(err, request, context, defer);
      if (call === undefined) throw err;
      return { kind: 'deferred', call, handle: this.handle(call.id) };
    }
  }

  /** The call's state, as stored. */
  get(id: string): Promise<DeferredCall | undefined> {
    return this.deps.store.get(id);
  }

  handle(id: string): DeferredHandle {
    const ended = (call: DeferredCall | undefined): call is DeferredCall => call !== undefined && call.status !== 'pending';
    const settled$ = merge(
      this.settled.pipe(filter((call) => call.id === id)),
      timer(0, this.deps.pollMs ?? 1_000).pipe(switchMap(() => from(this.deps.store.get(id)))),
    ).pipe(filter(ended), take(1));
    return {
      id,
      settled$,
      result: async () => {
        const call = await firstValueFrom(settled$);
        if (call.status !== 'completed' || call.completion === undefined) throw new DeferredCallError(call);
        return JSON.parse(call.completion) as ChatCompletion;
      },
    };
  }

  /** Where callbacks may be delivered (call before the app starts): every http(s) URL unless restricted. */
  deliverCallbacksTo(targets: CallbackTargets): void {
    const replaced = this.poster;
    this.poster = new CallbackPoster(targets);
    void replaced.close();
  }

  /** Starts working the queues (the module does it at bootstrap). */
  start(): void {
    if (this.workers.length > 0) return;
    const concurrency = this.deps.concurrency ?? 4;
    this.workers = [
      this.deps.queue.work<{ id: string }>(DEFERRED_CALLS_QUEUE, (job, signal) => this.tryAgain(job, signal), { concurrency }),
      this.deps.queue.work<{ id: string }>(DEFERRED_CALLBACKS_QUEUE, (job, signal) => this.deliver(job, signal), { concurrency }),
    ];
  }

  /** Stops working the queues: tries in flight are aborted and tried again later (by this instance or another). */
  async close(): Promise<void> {
    const workers = this.workers.splice(0);
    await Promise.all(workers.map((w) => w.close()));
    await this.poster.close();
    this.settled.complete();
  }

  /**
   * Defers a call that failed with `err` when its class defers and the
   * failure can wait (for an app that routes with `completion$` itself);
   * undefined when the call is to fail now.
   */
  async deferAfter(err: unknown, request: ChatCompletionRequest, context: RouteOptions, defer: DeferOptions = {}): Promise<DeferredCall | undefined> {
    const reason = deferReason(err);
    if (reason === undefined) return undefined;
    let cls: CompiledClass;
    try {
      cls = this.deps.classOf(context.trafficClass);
    } catch {
      return undefined;
    }
    if (cls.onExhausted !== 'defer') return undefined;
    const now = Date.now();
    const { callerBudget: _budget, requestId: _requestId, ...stored } = context;
    const call: DeferredCall = {
      id: `dfr_${randomBytes(12).toString('hex')}`,
      status: 'pending',
      reason,
      trafficClass: cls.name,
      ...(context.tenant !== undefined ? { tenant: context.tenant } : {}),
      request,
      context: stored,
      ...(defer.caller !== undefined ? { caller: defer.caller } : {}),
      createdAt: now,
      deadlineAt: now + cls.deferDeadlineMs,
      nextAttemptAt: Math.min(now + backoffDelay(cls.deferBackoff, 1, this.deps.random), now + cls.deferDeadlineMs),
      attempts: 1,
      lastError: failureOf(err),
      ...(defer.callback !== undefined ? { callback: defer.callback } : {}),
    };
    await this.deps.store.insert(call);
    try {
      await this.deps.queue.add(DEFERRED_CALLS_QUEUE, [{ id: call.id, data: { id: call.id }, runAt: call.nextAttemptAt! }]);
    } catch (queueErr) {
      // Never tried again: the caller gets the original failure, and the stored call says so.
      await this.deps.store.save({ ...call, status: 'failed', nextAttemptAt: null, finishedAt: Date.now() }).catch(() => undefined);
      throw queueErr;
    }
    return call;
  }

  private async tryAgain(job: QueuedJob<{ id: string }>, signal: AbortSignal): Promise<JobOutcome> {
    const call = await this.deps.store.get(job.data.id);
    if (call === undefined) return DONE;
    if (call.status !== 'pending') {
      // Ended by a run that died before it queued the callback.
      if (call.callbackStatus === 'pending') await this.queueCallback(call);
      return DONE;
    }
    if (Date.now() >= call.deadlineAt) return this.finish({ ...call, status: 'expired' });
    let options: RouteOptions;
    try {
      options = await this.prepare(call);
    } catch (err) {
      return this.finish({ ...call, status: 'failed', lastError: failureOf(err) });
    }
    let routed: RoutedCompletion | undefined;
    try {
      routed = await untilAborted(this.deps.route(call.request, options), signal);
    } catch (err) {
      if (signal.aborted) return { kind: 'later', runAt: Date.now(), reason: 'the worker closed mid-try' };
      const attempts = call.attempts + 1;
      const lastError = failureOf(err);
      if (deferReason(err) === undefined) return this.finish({ ...call, status: 'failed', attempts, lastError });
      // The deadline ends it: the next try is at the deadline at the latest, and that run expires it.
      const now = Date.now();
      const next = Math.min(now + backoffDelay(this.backoffOf(call), attempts, this.deps.random), call.deadlineAt);
      await this.deps.store.save({ ...call, attempts, lastError, nextAttemptAt: next });
      return { kind: 'later', runAt: next, reason: String(lastError.body.error.message ?? 'route exhausted') };
    }
    if (routed === undefined) return { kind: 'later', runAt: Date.now(), reason: 'the worker closed mid-try' };
    const completion = routed.json ?? JSON.stringify(routed.completion);
    return this.finish({ ...call, status: 'completed', attempts: call.attempts + 1, completion });
  }

  /** Stores the call's end, tells this process's handles, and queues its callback. */
  private async finish(ended: DeferredCall): Promise<JobOutcome> {
    const call: DeferredCall = {
      ...ended,
      nextAttemptAt: null,
      finishedAt: Date.now(),
      ...(ended.callback !== undefined ? { callbackStatus: 'pending' as const, callbackAttempts: 0 } : {}),
    };
    await this.deps.store.save(call);
    this.settled.next(call);
    if (call.callback !== undefined) await this.queueCallback(call);
    return DONE;
  }

  private queueCallback(call: DeferredCall): Promise<void> {
    return this.deps.queue.add(DEFERRED_CALLBACKS_QUEUE, [{ id: call.id, data: { id: call.id } }]);
  }

  /**
   * POSTs the ended call to its callback URL, signed; a non-2xx or no answer
   * is retried with the class's defer backoff, a target the callback targets
   * refuse fails at once.
   */
  private async deliver(job: QueuedJob<{ id: string }>, signal: AbortSignal): Promise<JobOutcome> {
    const call = await this.deps.store.get(job.data.id);
    if (call?.callback === undefined || call.callbackStatus !== 'pending') return DONE;
    const body = deferredCallBody(call);
    const headers = { 'content-type': 'application/json', [CALLBACK_SIGNATURE_HEADER]: signCallback(body, call.callback.secret), 'x-llm-router-deferred-id': call.id };
    const delivery = await this.poster.post(call.callback.url, body, headers, AbortSignal.any([signal, AbortSignal.timeout(CALLBACK_TIMEOUT_MS)]));
    if (delivery === 'failed' && signal.aborted) return { kind: 'later', runAt: Date.now(), reason: 'the worker closed mid-delivery' };
    const delivered = delivery === 'delivered';
    const callbackAttempts = (call.callbackAttempts ?? 0) + 1;
    // A target refused for where it goes is not tried again.
    if (delivered || delivery === 'refused' || callbackAttempts >= CALLBACK_ATTEMPTS) {
      await this.deps.store.save({ ...call, callbackAttempts, callbackStatus: delivered ? 'delivered' : 'failed' });
      return DONE;
    }
    await this.deps.store.save({ ...call, callbackAttempts });
    return { kind: 'later', runAt: Date.now() + backoffDelay(this.backoffOf(call), callbackAttempts, this.deps.random), reason: 'callback not delivered' };
  }

  private backoffOf(call: DeferredCall): BackoffConfig {
    try {
      return this.deps.classOf(call.trafficClass).deferBackoff;
    } catch {
      return FALLBACK_BACKOFF;
    }
  }
}
