import { randomBytes } from 'node:crypto';
import { BadRequestException, Inject, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { JOB_QUEUE, LlmRouter, type JobQueue } from '@llm-router/nestjs';
import { Subject } from 'rxjs';
import { z } from 'zod';
import { decideRoute, scopeRefusal, type Principal } from '../auth/key-scope.js';
import { requiredTenant } from '../auth/required-tenant.js';
import { openAiError } from '../errors/openai-error.js';
import { parseOr400 } from '../errors/parse-or-400.js';
import { listEnvelope, pageOf } from '../http/cursor-page.js';
import { FilesService } from '../files/files.service.js';
import { type BatchItemStatus, type BatchPause, type BatchStatus, type BatchStore, type StoredBatch } from '../store/batch-store.js';
import type { GatewayStore } from '../store/gateway-store.js';
import { GATEWAY_STORE } from '../store/store.tokens.js';
import { CLASS_METADATA_KEY, decideBatchClass } from './batch-class.js';
import { BATCH_CLOCK, type Clock } from './batch-clock.js';
import { BATCH_ENDPOINT, parseBatchInput } from './batch-input.js';
import { itemJob, itemJobId, itemQueue } from './batch-item-job.js';
import { unrunLine } from './batch-output.js';
import { batchView } from './batch.view.js';

const createBatchSchema = z.strictObject({
  input_file_id: z.string().min(1),
  endpoint: z.string(),
  completion_window: z.string(),
  metadata: z
    .record(z.string().max(64), z.string().max(512))
    .refine((m) => Object.keys(m).length <= 16, 'at most 16 keys')
    .nullish(),
  output_expires_after: z.unknown().optional(),
});

const listSchema = z.object({
  after: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

const BATCH_STATUSES = ['validating', 'failed', 'in_progress', 'finalizing', 'completed', 'expired', 'cancelling', 'cancelled'] as const satisfies readonly BatchStatus[];

/** The admin listing's query: the tenant's listing across tenants, with filters. */
const adminListSchema = listSchema.extend({ tenant: z.string().min(1).max(200).optional(), status: z.enum(BATCH_STATUSES).optional() }).strict();

/** How an item that never ran ends. */
type UnrunStatus = 'cancelled' | 'expired';

/** OpenAI's one completion window. */
const WINDOW_MS = 24 * 3_600_000;

/**
 * The batch lifecycle (OpenAI's Batch API, per tenant): a batch is created
 * from an uploaded file, validated line by line, and its items queued on the
 * work queue (BatchItemRunner runs them); it is cancelled, expired, paused and
 * resumed here, and once no item is pending its output and error files are
 * written and it takes its final status. Every step is a conditional update
 * of the store, so several instances (and a restarted one) agree.
 */
@Injectable()
export class BatchesService {
  private readonly logger = new Logger('Batches');
  private readonly store: BatchStore;
  private readonly opened = new Subject<string>();
  /** The tenant of each batch created here: its items need a worker. */
  readonly opened$ = this.opened.asObservable();

  constructor(
    @Inject(GATEWAY_STORE) store: GatewayStore,
    @Inject(JOB_QUEUE) private readonly queue: JobQueue,
    @Inject(BATCH_CLOCK) private readonly clock: Clock,
    private readonly files: FilesService,
    private readonly router: LlmRouter,
  ) {
    this.store = store.batches;
  }

  async create(principal: Principal | null, body: unknown) {
    const tenant = requiredTenant(principal);
    const input = parseOr400(createBatchSchema, body);
    if (input.endpoint !== BATCH_ENDPOINT) {
      throw invalid(`Unsupported endpoint '${input.endpoint}': this gateway runs batches against '${BATCH_ENDPOINT}'.`, 'endpoint');
    }
    if (input.completion_window !== '24h') throw invalid(`Unsupported completion_window '${input.completion_window}': use '24h'.`, 'completion_window');
    const metadata = input.metadata ?? null;
    const scope = principal!.scope;
    // One policy generation decides the class and the lines, and names its version on a refusal.
    const { policy, version } = this.router.live.current();
    const decision = decideBatchClass(policy, scope, metadata?.[CLASS_METADATA_KEY]);
    if (!decision.ok) throw scopeRefusal(decision, version.id);
    const trafficClass = decision.trafficClass;
    const file = await this.files.get(tenant, input.input_file_id);
    if (file.purpose !== 'batch') throw invalid(`File ${file.id} has purpose '${file.purpose}': a batch reads a 'batch' file.`, 'input_file_id');

    const { items, errors } = parseBatchInput(await this.files.content(tenant, file.id), (request) => {
      const model = typeof request.model === 'string' ? request.model : undefined;
      const lineDecision = decideRoute(policy, scope, trafficClass, model);
      return lineDecision.ok ? undefined : { code: lineDecision.code, message: lineDecision.message, param: 'body.model' };
    });
    const now = this.clock();
    const failed = errors.length > 0;
    const batch: StoredBatch = {
      id: `batch_${randomBytes(12).toString('hex')}`,
      tenant,
      keyId: principal?.keyId ?? null,
      endpoint: BATCH_ENDPOINT,
      inputFileId: file.id,
      completionWindow: '24h',
      trafficClass,
      status: failed ? 'failed' : 'in_progress',
      metadata,
      errors: failed ? errors : null,
      total: failed ? 0 : items.length,
      outputFileId: null,
      errorFileId: null,
      createdAt: now,
      expiresAt: now + WINDOW_MS,
      inProgressAt: failed ? null : now,
      finalizingAt: null,
      completedAt: null,
      failedAt: failed ? now : null,
      expiredAt: null,
      cancellingAt: null,
      cancelledAt: null,
      pause: null,
    };
    await this.store.insertBatch(batch, failed ? [] : items);
    if (!failed) {
      await this.queue.add(itemQueue(tenant), items.map((item) => itemJob(batch.id, item.customId)));
      this.opened.next(tenant);
    }
    return this.view(batch);
  }

  async get(principal: Principal | null, id: string) {
    return this.view(await this.owned(principal, id));
  }

  async list(principal: Principal | null, query: unknown) {
    const tenant = requiredTenant(principal);
    const { after, limit } = parseOr400(listSchema, query);
    const page = pageOf(await this.store.listBatches(tenant, limit + 1, after), limit);
    return listEnvelope(await Promise.all(page.rows.map((b) => this.view(b))), page.hasMore);
  }

  /** `GET /admin/batches`: every tenant's batches, newest first, filtered by tenant and status. */
  async adminList(query: unknown) {
    const { tenant, status, after, limit } = parseOr400(adminListSchema, query);
    const rows = await this.store.searchBatches({ tenant, status }, limit + 1, after);
    if (rows === undefined) throw invalid(`Invalid 'after': no batch "${after}" (pass the previous page's last_id).`, 'after');
    const page = pageOf(rows, limit);
    // Across tenants, each batch says whose it is in the gateway's extension field.
    const data = await Promise.all(
      page.rows.map(async (b) => {
        const view = await this.view(b);
        return { ...view, llm_router: { tenant: b.tenant, ...view.llm_router } };
      }),
    );
    return listEnvelope(data, page.hasMore);
  }

  /** Cancelling: items not yet running are cancelled at once, those in flight finish; then it is finalized as `cancelled`. */
  async cancel(principal: Principal | null, id: string) {
    const batch = await this.owned(principal, id);
    if (batch.status === 'cancelling' || batch.status === 'cancelled') return this.view(batch);
    if (!(await this.store.moveBatch(id, ['validating', 'in_progress'], 'cancelling', { cancellingAt: this.clock() }))) {
      const now = await this.store.getBatch(id);
      if (now?.status === 'cancelling' || now?.status === 'cancelled') return this.view(now);
      throw invalid(`Cannot cancel a batch with status '${now?.status ?? batch.status}'.`, 'batch_id');
    }
    await this.endUnstartedAndFinalize(batch, 'cancelled');
    return this.view((await this.store.getBatch(id))!);
  }

  /**
   * The batch's items still pending whose jobs are not running, ended as
   * cancelled or expired (in-flight ones finish and write their own result);
   * then the batch is finalized if none is left.
   */
  async endUnstartedAndFinalize(batch: StoredBatch, why: UnrunStatus): Promise<void> {
    const batchId = batch.id;
    const queue = itemQueue(batch.tenant);
    for (const customId of await this.store.pendingItemIds(batchId)) {
      const jobId = itemJobId(batchId, customId);
      if (!(await this.queue.remove(queue, jobId)) && (await this.queue.state(queue, jobId)) === 'active') continue;
      await this.store.finishItem(batchId, customId, why, unrunLine(customId, why), this.clock());
    }
    await this.finalize(batchId);
  }

  /** A batch in progress past its completion window: what has not started expires; it finalizes as `expired` with its finished items. */
  async expire(batch: StoredBatch): Promise<void> {
    this.logger.log(`batch ${batch.id} of tenant "${batch.tenant}" passed its completion window: its unfinished items expire`);
    await this.endUnstartedAndFinalize(batch, 'expired');
  }

  /** Paused: no item is sent upstream until it resumes (each item job answers `later`). */
  async pause(batch: StoredBatch, pause: BatchPause): Promise<void> {
    if (batch.pause === null && (await this.store.setPause(batch.id, pause))) {
      this.logger.log(`batch ${batch.id} of tenant "${batch.tenant}" paused (${pause.reason}) until ${new Date(pause.resumeAt).toISOString()} or a budget raise`);
    }
  }

  /** Resumed: the pause cleared and its delayed item jobs made due now. */
  async resume(batch: StoredBatch, why: string): Promise<void> {
    if (!(await this.store.setPause(batch.id, null))) return;
    this.logger.log(`batch ${batch.id} of tenant "${batch.tenant}" resumed: ${why}`);
    const queue = itemQueue(batch.tenant);
    for (const customId of await this.store.pendingItemIds(batch.id)) await this.queue.promote(queue, itemJobId(batch.id, customId));
  }

  /** Writes one item's result line once (answered, failed, or not run), then finalizes the batch if it was the last. */
  async finishItem(batchId: string, customId: string, status: Exclude<BatchItemStatus, 'pending'>, line: string): Promise<void> {
    await this.store.finishItem(batchId, customId, status, line, this.clock());
    await this.finalize(batchId);
  }

  /** Ends one item without running it (its batch was cancelled or expired), then finalizes the batch if it was the last. */
  endItem(batchId: string, customId: string, why: UnrunStatus): Promise<void> {
    return this.finishItem(batchId, customId, why, unrunLine(customId, why));
  }

  /**
   * Once no item is pending: the output file (items answered 2xx) and the
   * error file (every other), in input order, under ids derived from the
   * batch (a second instance or a retry writes the same files once), then
   * the final status: cancelled, expired (some item expired) or completed.
   */
  async finalize(batchId: string): Promise<void> {
    let batch = await this.store.getBatch(batchId);
    if (!batch || !['in_progress', 'cancelling', 'finalizing'].includes(batch.status)) return;
    if (await this.store.hasPending(batchId)) return;
    const now = this.clock();
    if (batch.status === 'in_progress') {
      await this.store.moveBatch(batchId, ['in_progress'], 'finalizing', { finalizingAt: now });
      batch = (await this.store.getBatch(batchId))!;
      if (batch.status !== 'finalizing') return;
    }
    const items = await this.store.finishedItems(batchId);
    const ok = items.filter((i) => i.status === 'succeeded');
    const bad = items.filter((i) => i.status !== 'succeeded');
    const suffix = batchId.slice('batch_'.length);
    const outputFileId = ok.length > 0 ? `file-${suffix}-output` : null;
    const errorFileId = bad.length > 0 ? `file-${suffix}-errors` : null;
    const lines = (list: typeof items) => list.map((i) => `${i.result}\n`).join('');
    if (outputFileId) await this.files.writeOutput(batch.tenant, outputFileId, `${batchId}_output.jsonl`, lines(ok), now);
    if (errorFileId) await this.files.writeOutput(batch.tenant, errorFileId, `${batchId}_error.jsonl`, lines(bad), now);
    const final: BatchStatus = batch.status === 'cancelling' ? 'cancelled' : items.some((i) => i.status === 'expired') ? 'expired' : 'completed';
    const times = final === 'cancelled' ? { cancelledAt: now } : final === 'expired' ? { expiredAt: now } : { completedAt: now };
    if (await this.store.moveBatch(batchId, ['finalizing', 'cancelling'], final, times, { outputFileId, errorFileId })) {
      this.logger.log(`batch ${batchId} of tenant "${batch.tenant}" ${final}: ${ok.length} answered, ${bad.length} failed or not run`);
    }
  }

  /**
   * Every pending item of the open batches back on its queue (adding an
   * existing job is a no-op), for a restart on a queue that lost them: how
   * many, and the tenants with open batches.
   */
  async requeueOpen(): Promise<{ items: number; tenants: Set<string> }> {
    let items = 0;
    const tenants = new Set<string>();
    for (const batch of await this.store.batchesIn(['in_progress', 'cancelling'])) {
      tenants.add(batch.tenant);
      const pending = await this.store.pendingItemIds(batch.id);
      if (pending.length > 0) await this.queue.add(itemQueue(batch.tenant), pending.map((customId) => itemJob(batch.id, customId)));
      items += pending.length;
    }
    return { items, tenants };
  }

  private async owned(principal: Principal | null, id: string): Promise<StoredBatch> {
    const tenant = requiredTenant(principal);
    const batch = await this.store.getBatch(id);
    // Another tenant's batch is as absent as a missing one.
    if (!batch || batch.tenant !== tenant) throw new NotFoundException(openAiError(`No such Batch object: ${id}`, 'invalid_request_error', 'not_found', 'batch_id'));
    return batch;
  }

  private async view(batch: StoredBatch) {
    return batchView(batch, await this.store.itemCounts(batch.id));
  }
}

function invalid(message: string, param: string): BadRequestException {
  return new BadRequestException(openAiError(message, 'invalid_request_error', 'invalid_value', param));
}
