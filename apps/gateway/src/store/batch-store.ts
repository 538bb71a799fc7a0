/** A file of OpenAI's Files API as stored: an uploaded batch input or a batch's output or error file. */
export interface StoredFile {
  id: string;
  tenant: string;
  purpose: 'batch' | 'batch_output';
  filename: string;
  bytes: number;
  createdAt: number;
}

/** OpenAI's batch statuses. */
export type BatchStatus = 'validating' | 'failed' | 'in_progress' | 'finalizing' | 'completed' | 'expired' | 'cancelling' | 'cancelled';

/** One line of an input file that failed validation (OpenAI's `errors.data[]`). */
export interface BatchLineError {
  code: string;
  message: string;
  param: string | null;
  line: number | null;
}

/** Why no item of a batch goes upstream now, and when it is tried again. */
export interface BatchPause {
  /** The router's refusal code: budget_restricted, daily_cap_exhausted, insufficient_quota, budget_reservation_denied. */
  reason: string;
  message: string;
  pausedAt: number;
  /** When the window that refused it ends (the UTC day, the budget period); a raised budget resumes it sooner. */
  resumeAt: number;
}

export interface StoredBatch {
  id: string;
  tenant: string;
  keyId: string | null;
  endpoint: string;
  inputFileId: string;
  completionWindow: string;
  trafficClass: string;
  status: BatchStatus;
  metadata: Record<string, string> | null;
  errors: BatchLineError[] | null;
  total: number;
  outputFileId: string | null;
  errorFileId: string | null;
  createdAt: number;
  expiresAt: number;
  inProgressAt: number | null;
  finalizingAt: number | null;
  completedAt: number | null;
  failedAt: number | null;
  expiredAt: number | null;
  cancellingAt: number | null;
  cancelledAt: number | null;
  pause: BatchPause | null;
}

/** Times a status change stamps: `finalizing` stamps `finalizingAt`, and so on. */
export type BatchStatusTimes = Partial<Pick<StoredBatch, 'inProgressAt' | 'finalizingAt' | 'completedAt' | 'failedAt' | 'expiredAt' | 'cancellingAt' | 'cancelledAt'>>;

export type BatchItemStatus = 'pending' | 'succeeded' | 'failed' | 'cancelled' | 'expired';

/** A request line of a batch, as validated. */
export interface NewBatchItem {
  customId: string;
  line: number;
  /** The chat-completions body, as JSON text. */
  body: string;
}

export interface StoredBatchItem extends NewBatchItem {
  status: BatchItemStatus;
  /** Its line of the output or error file, once finished. */
  result: string | null;
}

/** Which batches the admin listing shows: any tenant and status unless given. */
export interface BatchFilter {
  tenant?: string;
  status?: BatchStatus;
}

/**
 * Batches on the gateway's SQL store (migration 5): files, batches, and one
 * row per item keyed (batch, custom_id), whose result is written once.
 */
export interface BatchStore {
  insertFile(file: StoredFile, content: string): Promise<void>;
  /** A file of the tenant, not deleted. */
  getFile(tenant: string, id: string): Promise<StoredFile | undefined>;
  /** The tenant's files, newest first, `limit` at most, after the file `after` when given. */
  listFiles(tenant: string, limit: number, purpose?: string, after?: string): Promise<StoredFile[]>;
  fileContent(tenant: string, id: string): Promise<string | undefined>;
  /** Deleted (its content dropped); false when the tenant has no such file. */
  deleteFile(tenant: string, id: string, at: number): Promise<boolean>;

  /** The items, then the batch (a crash between leaves only unreachable items). */
  insertBatch(batch: StoredBatch, items: readonly NewBatchItem[]): Promise<void>;
  getBatch(id: string): Promise<StoredBatch | undefined>;
  /** The tenant's batches, newest first, `limit` at most, after the batch `after` when given. */
  listBatches(tenant: string, limit: number, after?: string): Promise<StoredBatch[]>;
  /**
   * Batches of any tenant matching `filter` (the admin listing), newest first,
   * `limit` at most, after the batch `after` when given; undefined when `after` names no batch.
   */
  searchBatches(filter: BatchFilter, limit: number, after?: string): Promise<StoredBatch[] | undefined>;
  /** Batches in one of these statuses (the watcher's rounds). */
  batchesIn(statuses: readonly BatchStatus[]): Promise<StoredBatch[]>;
  /** Moves the batch to `to` if its status is one of `from`: true for the one caller that moved it. */
  moveBatch(id: string, from: readonly BatchStatus[], to: BatchStatus, times: BatchStatusTimes, files?: { outputFileId: string | null; errorFileId: string | null }): Promise<boolean>;
  /** Sets or clears the pause; a pause is set only while the batch is in progress. */
  setPause(id: string, pause: BatchPause | null): Promise<boolean>;

  getItem(batchId: string, customId: string): Promise<StoredBatchItem | undefined>;
  itemCounts(batchId: string): Promise<Record<BatchItemStatus, number>>;
  hasPending(batchId: string): Promise<boolean>;
  pendingItemIds(batchId: string): Promise<string[]>;
  /** Writes a pending item's result: true for the one run that wrote it. */
  finishItem(batchId: string, customId: string, status: Exclude<BatchItemStatus, 'pending'>, result: string, at: number): Promise<boolean>;
  /** The finished items in line order. */
  finishedItems(batchId: string): Promise<StoredBatchItem[]>;
}
