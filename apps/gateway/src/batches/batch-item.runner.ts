import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { JOB_QUEUE, LlmRouter, untilAborted, type JobOutcome, type JobQueue, type JobWorker, type QueuedJob } from '@llm-router/nestjs';
import type { Subscription } from 'rxjs';
import { ApiKeyService } from '../auth/api-key.service.js';
import type { Principal } from '../auth/key-scope.js';
import { RouteAccessService } from '../chat-completions/route-access.service.js';
import { parseChatRequest } from '../chat-completions/parse-chat-request.js';
import { toErrorResponse } from '../errors/error-response.js';
import type { BatchStore, StoredBatch, StoredBatchItem } from '../store/batch-store.js';
import type { GatewayStore } from '../store/gateway-store.js';
import { GATEWAY_STORE } from '../store/store.tokens.js';
import { BATCH_CLOCK, type Clock } from './batch-clock.js';
import { itemQueue, type ItemJob } from './batch-item-job.js';
import { answeredLine, failedLine } from './batch-output.js';
import { budgetAway, pauseOf, refusedOnlyForReservationsInFlight } from './batch-pause.js';
import { BatchesService } from './batches.service.js';
import { ConcurrencyLimit } from './concurrency-limit.js';

/** A paused item looks again this often at most (a missed resume cannot strand it). */
const PAUSED_RECHECK_MS = 60_000;
/** The budget store away, or the batch's key not loaded here yet: tried again after this. */
const RETRY_SOON_MS = 2_000;
/** An item refused while other calls hold reservations tries again this soon (they settle within a call's time). */
const RESERVATIONS_SETTLE_MS = 250;

/** How long an item waits for one of this instance's batch calls before it goes back to the queue for any instance (longer: fewer rounds through the queue while one instance runs every tenant). */
const UPSTREAM_WAIT_MS = 5_000;

const done: JobOutcome = { kind: 'done' };

/**
 * Runs batch items from the work queue: each item is one chat completion
 * routed exactly as `/v1/chat/completions` routes it (the batch's key,
 * tenant and class; records, budgets, floors, retries and fallback apply),
 * its result written once per (batch, custom_id). Each tenant's items are a
 * queue of their own, worked `perTenantConcurrency` at a time per instance,
 * and items of all tenants go upstream at most `policy.batches.concurrency`
 * at once per instance, so batch work leaves room for interactive traffic. A budget refusal pauses the batch: the item is not failed but
 * tried again when the batch resumes.
 */
@Injectable()
export class BatchItemRunner implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('BatchItems');
  private readonly store: BatchStore;
  /** Items of every tenant going upstream from this instance. */
  private readonly upstream: ConcurrencyLimit;
  private readonly workers = new Map<string, JobWorker>();
  private opened?: Subscription;
  private closing = false;

  constructor(
    @Inject(GATEWAY_STORE) store: GatewayStore,
    @Inject(JOB_QUEUE) private readonly queue: JobQueue,
    @Inject(BATCH_CLOCK) private readonly clock: Clock,
    private readonly batches: BatchesService,
    private readonly router: LlmRouter,
    private readonly access: RouteAccessService,
    private readonly keys: ApiKeyService,
  ) {
    this.store = store.batches;
    this.upstream = new ConcurrencyLimit(router.policy.batches.concurrency);
  }

  async onApplicationBootstrap(): Promise<void> {
    const requeued = await this.batches.requeueOpen();
    if (requeued.items > 0) this.logger.log(`${requeued.items} pending batch item(s) of open batches on the queue`);
    for (const tenant of requeued.tenants) this.workFor(tenant);
    this.opened = this.batches.opened$.subscribe((tenant) => this.workFor(tenant));
  }

  /** Works the tenant's item queue in this instance (once started, for as long as it runs). */
  workFor(tenant: string): void {
    if (this.closing || this.workers.has(tenant)) return;
    const perTenant = this.router.policy.batches.perTenantConcurrency;
    // Per instance, not the queue's global limit: with a fleet-wide limit the instance that frees a place takes the
    // next item at once (BullMQ fetches it in the same call), so one instance would run a tenant's whole batch.
    this.workers.set(tenant, this.queue.work<ItemJob>(itemQueue(tenant), (job, signal) => this.run(job, signal), { concurrency: perTenant }));
  }

  /** Stops taking items; the running ones end (their calls aborted) and stay pending for the next run. */
  async onApplicationShutdown(): Promise<void> {
    this.closing = true;
    this.opened?.unsubscribe();
    await Promise.all([...this.workers.values()].map((w) => w.close()));
  }

  private async run(job: QueuedJob<ItemJob>, signal: AbortSignal): Promise<JobOutcome> {
    const { batchId, customId } = job.data;
    const [batch, item] = await Promise.all([this.store.getBatch(batchId), this.store.getItem(batchId, customId)]);
    // Written already (a second delivery), or gone: nothing to do.
    if (!batch || !item || item.status !== 'pending') return done;
    if (batch.status === 'cancelling') {
      await this.batches.endItem(batchId, customId, 'cancelled');
      return done;
    }
    if (batch.status !== 'in_progress') return done;
    const now = this.clock();
    if (now >= batch.expiresAt) {
      await this.batches.endItem(batchId, customId, 'expired');
      return done;
    }
    if (batch.pause !== null) {
      if (now < batch.pause.resumeAt) return pausedOutcome(batch.pause.resumeAt - now, batch.pause.reason);
      // Its window has ended: the item is the first to try again.
      await this.batches.resume(batch, `its ${batch.pause.reason} window ended`);
    }
    // One that waits long here for this instance's batch calls goes back to the queue, where an instance with room takes it.
    if (!(await this.upstream.acquire(signal, UPSTREAM_WAIT_MS))) {
      return { kind: 'later', runAt: Date.now(), reason: signal.aborted ? 'the worker is closing' : `this instance's batch calls stayed at batches.concurrency for ${UPSTREAM_WAIT_MS} ms` };
    }
    try {
      return await this.route(batch, item, signal);
    } finally {
      this.upstream.release();
    }
  }

  /** One item through the router, as its batch's key; its line written once, or the batch paused. */
  private async route(batch: StoredBatch, item: StoredBatchItem, signal: AbortSignal): Promise<JobOutcome> {
    let principal: Principal | null = null;
    if (batch.keyId !== null) {
      const known = this.keys.principalOf(batch.keyId);
      // A key created on another instance reaches this one at its next key refresh.
      if (known === undefined) return { kind: 'later', runAt: Date.now() + RETRY_SOON_MS, reason: `API key ${batch.keyId} not loaded here yet` };
      principal = known;
    }
    let line: string;
    let status: 'succeeded' | 'failed';
    try {
      const request = parseChatRequest(JSON.parse(item.body));
      const headers = { 'x-traffic-class': batch.trafficClass, 'x-tenant-id': batch.tenant };
      const options = this.access.resolve(principal, headers, request.model);
      const routed = await untilAborted(this.router.completion$(request, options), signal);
      if (routed === undefined) return { kind: 'later', runAt: Date.now(), reason: 'the worker is closing' };
      line = answeredLine(item.customId, 200, routed.outcome.requestId, routed.completion);
      status = 'succeeded';
    } catch (err) {
      if (await refusedOnlyForReservationsInFlight(err, this.router, batch.tenant, principal).catch(() => false)) {
        return { kind: 'later', runAt: Date.now() + RESERVATIONS_SETTLE_MS, reason: 'waiting for the reservations in flight to settle' };
      }
      const pause = pauseOf(err, this.router, batch.tenant, principal, this.clock());
      if (pause) {
        await this.batches.pause(batch, pause);
        return pausedOutcome(pause.resumeAt - pause.pausedAt, pause.reason);
      }
      if (budgetAway(err)) return { kind: 'later', runAt: Date.now() + RETRY_SOON_MS, reason: 'the budget store is away' };
      const failure = toErrorResponse(err);
      line = failedLine(item.customId, failure, (err as { requestId?: string }).requestId ?? null);
      status = 'failed';
    }
    await this.batches.finishItem(batch.id, item.customId, status, line);
    return done;
  }
}

function pausedOutcome(untilResumeMs: number, reason: string): JobOutcome {
  return { kind: 'later', runAt: Date.now() + Math.max(0, Math.min(untilResumeMs, PAUSED_RECHECK_MS)), reason: `batch paused: ${reason}` };
}
