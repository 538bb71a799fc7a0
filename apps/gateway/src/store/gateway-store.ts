import type { BudgetPeriod, DeferredCall, DeferredCallStore, DeferredStatus, JobOutcome, JobState, NewJob } from '@llm-router/nestjs';
import type { BatchStore } from './batch-store.js';

/** One routing record as persisted: flat columns for reports, the rest as JSON. */
export interface RecordRow {
  /**
   * Unique per record (the request id need not be: a caller may send its
   * own): a record written twice, once by the writer and once from the
   * journal, is kept once.
   */
  recordId: string;
  requestId: string;
  startedAt: number;
  tenant: string | null;
  keyId: string | null;
  feature: string | null;
  session: string | null;
  trafficClass: string;
  criticality: string | null;
  stream: boolean;
  outcome: string;
  errorCategory: string | null;
  errorMessage: string | null;
  primaryModel: string | null;
  primaryProvider: string | null;
  servedModel: string | null;
  servedProvider: string | null;
  upstreamModel: string | null;
  fallback: boolean;
  upstreamCalls: number;
  promptTokens: number;
  completionTokens: number;
  usageEstimated: boolean;
  costUsd: number;
  latencyMs: number;
  firstChunkMs: number | null;
  budgetTier: string | null;
  budgetShare: number | null;
  budgetAction: string | null;
  /** JSON: planned route, exclusions, quality floor. */
  detail: string;
  attempts: AttemptRow[];
  /** The journal's mark for this row (which file segment holds it), not stored. */
  journal?: number;
  /** The Redis journal's stream entry for this row (its XADD while pending, then the entry id; '' for none), not stored. */
  streamEntry?: Promise<string | null> | string;
  /** The row's insert values and its one serialized form (record-line.ts), made once and kept for every consumer; not stored. */
  values?: LineValues;
  line?: string;
}

/** A row's insert values as its line holds them (record-line.ts): `[version, record values, attempts' values]`, in the insert columns' order. */
export type LineValues = [version: number, record: (string | number | null)[], attempts: (string | number | null)[][]];

export interface AttemptRow {
  seq: number;
  model: string;
  provider: string;
  outcome: string;
  category: string | null;
  status: number | null;
  code: string | null;
  latencyMs: number;
  waitedMs: number | null;
}

/** Which routing records to find: every field given must match. */
export interface RecordFilter extends TimeRange {
  tenant?: string;
  trafficClass?: string;
  keyId?: string;
  session?: string;
  /** The model that served, or the planned primary. */
  model?: string;
  outcome?: string;
  fallback?: boolean;
  /** The failure category of the call. */
  category?: string;
}

/** Where a page of records ends: the next page starts after it (newest first). */
export interface RecordCursor {
  startedAt: number;
  id: number;
}

/** A routing record as stored, with its attempts. */
export interface StoredRecord extends RecordRow {
  /** The store's own row id (a request id may repeat). */
  id: number;
}

/** A routing record the store refused to write, kept aside. */
export interface DeadRecord {
  requestId: string;
  failedAt: number;
  reason: string;
  /** The row as JSON text; any U+0000 stays escaped as `\u0000`. */
  rowJson: string;
}

/** An API key as stored: the hash only, never the key. */
export interface StoredApiKey {
  id: string;
  tenant: string;
  name: string | null;
  keyHash: string;
  /** null = every class. */
  allowedClasses: string[] | null;
  defaultClass: string | null;
  /** null = every model the allowed classes route to. */
  allowedModels: string[] | null;
  budgetUsd: number | null;
  budgetPeriod: BudgetPeriod | null;
  expiresAt: number | null;
  revokedAt: number | null;
  createdAt: number;
}

/** One version of the routing policy, as every instance reads it. */
export interface StoredPolicyVersion {
  seq: number;
  hash: string;
  /** How it came: `start-up` (the file an instance started on), `admin` (PUT /admin/policy), `file` (the watch), `signal` (SIGHUP). */
  source: string;
  /** Who: the admin credential's name, the file's path, the process. */
  actor: string | null;
  appliedAt: number;
  /** JSON: what changed against the version before (classes, models, providers added, removed, changed). */
  changes: string;
  format: 'json' | 'yaml';
  /** The document as submitted (before `${VAR}` expansion): each instance expands it with its own environment. */
  document: string;
}

/** A console session as stored (see ConsoleSessions): the id's hash only. */
export interface StoredConsoleSession {
  idHash: string;
  csrfToken: string;
  createdAt: number;
  lastSeenAt: number;
}

/** A tenant budget set through the admin API, re-applied at start-up. */
export interface StoredTenantBudget {
  tenant: string;
  /** The setting given to `router.budgets.setTenantBudget`, as JSON. */
  setting: Record<string, unknown>;
  updatedAt: number;
}

/** Who may read or continue a stored response: the tenant and key that created it ('' where there is none). */
export interface ResponseOwner {
  tenant: string;
  keyId: string;
}

/** A Responses API response as stored: its owner, the response it continued, what it was given and what it answered. */
export interface StoredResponse extends ResponseOwner {
  id: string;
  previousResponseId: string | null;
  createdAt: number;
  /** JSON: this request's own input items. */
  inputItems: string;
  /** JSON: the response object as answered. */
  response: string;
}

export interface TimeRange {
  /** Epoch ms, inclusive. */
  from: number;
  /** Epoch ms, exclusive. */
  to: number;
}

export interface UsageTotals {
  requests: number;
  succeeded: number;
  failed: number;
  fallbacks: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
}

export interface UsageGroup extends UsageTotals {
  key: string | null;
}

export interface TenantUsage {
  totals: UsageTotals;
  byDay: UsageGroup[];
  byClass: UsageGroup[];
  byFeature: UsageGroup[];
  byModel: UsageGroup[];
  byKey: UsageGroup[];
}

export interface CountRow {
  key: string | null;
  requests: number;
  fallbacks: number;
}

export interface LatencyRow {
  trafficClass: string;
  requests: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
}

export interface RefusalRow {
  tenant: string | null;
  trafficClass: string;
  /** Budget refusals: budget_exhausted (tier or daily cap), budget_reservation_denied, budget_unavailable. */
  category?: string;
  count: number;
}

export interface AdminReportData {
  totals: UsageTotals;
  fallbackByClass: CountRow[];
  /** Requests whose primary target was on this provider, and how many of them fell back. */
  fallbackByPrimaryProvider: CountRow[];
  /** Fallbacks by the provider that finally served. */
  servedByProviderAfterFallback: { key: string | null; count: number }[];
  attemptFailures: { provider: string; category: string; count: number }[];
  requestFailures: { category: string; count: number }[];
  costByTenant: { key: string | null; costUsd: number; requests: number }[];
  costByClass: { key: string | null; costUsd: number; requests: number }[];
  costByModel: { key: string | null; costUsd: number; requests: number }[];
  /** By API key id (null: calls made without a key). */
  costByKey: { key: string | null; costUsd: number; requests: number }[];
  latencyByClass: LatencyRow[];
  qualityFloorRefusals: RefusalRow[];
  budgetRefusals: RefusalRow[];
  budgetActions: { tenant: string | null; tier: string | null; action: string; count: number }[];
}

/** A job a worker claimed: its lease is the claim's token until it settles or the lease lapses. */
export interface ClaimedJob {
  id: string;
  data: unknown;
  /** 1 on the first claim; a claim of a lapsed lease counts too. */
  attempt: number;
}

export type JobSettlement = JobOutcome;

/** The work queue's rows (the gateway's SqlJobQueue runs on them); every write after a claim checks the lease token. */
export interface JobRows {
  /** Adds jobs; an id already in the queue is left as it is. */
  insert(queue: string, jobs: readonly NewJob<unknown>[], now: number): Promise<void>;
  /** Leases up to `limit` due jobs (pending and due, or active with a lapsed lease) to `leaseToken` until `leaseUntil`. */
  claim(queue: string, limit: number, leaseToken: string, leaseUntil: number, now: number): Promise<ClaimedJob[]>;
  /** Extends a lease; false when it was lost (lapsed and claimed by another). */
  renew(queue: string, id: string, leaseToken: string, leaseUntil: number): Promise<boolean>;
  /** Records a run's outcome; false when the lease was lost meanwhile (the outcome is dropped). */
  settle(queue: string, id: string, leaseToken: string, settlement: JobSettlement, now: number): Promise<boolean>;
  promote(queue: string, id: string, now: number): Promise<boolean>;
  remove(queue: string, id: string): Promise<boolean>;
  state(queue: string, id: string, now: number): Promise<JobState | undefined>;
  /** Deletes done and failed jobs last updated before `before`. */
  purgeFinished(before: number): Promise<number>;
}

/** The records of a range in time buckets, grouped once for every report dimension (see reportSeries). */
export interface ReportSeriesData {
  /** Per bucket (index from the range's start) and every combination of the dimensions that occurs in it. */
  records: {
    bucket: number;
    trafficClass: string;
    primaryProvider: string | null;
    servedModel: string | null;
    tenant: string | null;
    keyId: string | null;
    outcome: string;
    errorCategory: string | null;
    fallback: boolean;
    requests: number;
    costUsd: number;
  }[];
  attemptFailures: { bucket: number; provider: string; category: string; count: number }[];
  latencyByClass: (LatencyRow & { bucket: number })[];
}

/** Which deferred calls the admin listing shows: any tenant and status unless given. */
export interface DeferredCallFilter {
  tenant?: string;
  status?: DeferredStatus;
}

/** A deferred call as its row stands: the call and when the row was last written. */
export interface ListedDeferredCall {
  readonly call: DeferredCall;
  readonly updatedAt: number;
}

export interface DeferredCallRows extends DeferredCallStore {
  /**
   * Calls matching `filter`, newest first (created_at, then id), `limit` at
   * most, after the call `after` when given; undefined when `after` names no call.
   */
  list(filter: DeferredCallFilter, limit: number, after?: string): Promise<{ calls: ListedDeferredCall[]; hasMore: boolean } | undefined>;
}

/**
 * The gateway's persistence: routing records, API keys and tenant budgets.
 * Two implementations share the SQL and the migrations: embedded SQLite
 * (default) and PostgreSQL (when DATABASE_URL is set).
 */
export interface GatewayStore {
  readonly kind: 'sqlite' | 'postgres';
  /** Batch files, batches and their items (OpenAI's Files and Batch APIs). */
  readonly batches: BatchStore;
  /** The work queue's rows. */
  readonly jobs: JobRows;
  /** Calls deferred to the queue, and their listing across tenants. */
  readonly deferredCalls: DeferredCallRows;
  /** Apply pending migrations (idempotent; safe with several instances). */
  migrate(): Promise<void>;
  /** Connectivity check for readiness. */
  ping(): Promise<void>;
  /** Rows (with their attempts) in one transaction; a row whose recordId is already stored is skipped, attempts included. */
  insertRecords(rows: readonly RecordRow[]): Promise<void>;
  /** Keeps a record the store refused, as escaped JSON with the reason, out of the way of the records behind it. */
  insertDeadRecord(row: RecordRow, reason: string, at: number): Promise<void>;
  /** Records matching `filter`, newest first, `limit` at most, after `cursor` when given. */
  searchRecords(filter: RecordFilter, limit: number, cursor?: RecordCursor): Promise<{ records: StoredRecord[]; next?: RecordCursor }>;
  /** Every record of one request id (newest first), with its attempts. */
  recordsOfRequest(requestId: string): Promise<StoredRecord[]>;
  /** Dead-lettered records, newest first. */
  listDeadRecords(limit: number): Promise<DeadRecord[]>;

  insertKey(key: StoredApiKey): Promise<void>;
  listKeys(): Promise<StoredApiKey[]>;
  /** True when the key existed and was not yet revoked. */
  revokeKey(id: string, at: number): Promise<boolean>;

  insertConsoleSession(session: StoredConsoleSession): Promise<void>;
  findConsoleSession(idHash: string): Promise<StoredConsoleSession | undefined>;
  touchConsoleSession(idHash: string, at: number): Promise<void>;
  deleteConsoleSession(idHash: string): Promise<void>;
  /** Sessions created before `createdBefore` or last seen before `seenBefore`. */
  deleteExpiredConsoleSessions(createdBefore: number, seenBefore: number): Promise<void>;

  upsertTenantBudget(budget: StoredTenantBudget): Promise<void>;
  /** Appends a policy version; false when `seq` is taken already (another instance got there first). */
  appendPolicyVersion(version: StoredPolicyVersion): Promise<boolean>;
  /** The newest policy version (source `sources` only, when given); undefined before the first. */
  latestPolicyVersion(sources?: readonly string[]): Promise<StoredPolicyVersion | undefined>;
  /** Policy versions newest first. */
  policyHistory(limit: number): Promise<StoredPolicyVersion[]>;
  listTenantBudgets(): Promise<StoredTenantBudget[]>;

  /** Settled spend (USD) per tenant in [from, to), optionally only of calls of these criticalities. */
  spendByTenant(range: TimeRange, criticalities?: readonly string[]): Promise<Map<string, number>>;
  /** Settled spend (USD) per API key in [from, to). */
  spendByKey(range: TimeRange): Promise<Map<string, number>>;

  insertResponse(response: StoredResponse): Promise<void>;
  /** The owner's response, if stored. */
  findResponse(id: string, owner: ResponseOwner): Promise<StoredResponse | undefined>;
  /**
   * The owner's response `id` and those it continued, oldest first, at most
   * `limit`; the chain stops at a response that is missing (deleted, or
   * another owner's): the first row's previousResponseId then is not null.
   */
  responseChain(id: string, owner: ResponseOwner, limit: number): Promise<StoredResponse[]>;
  /** True when the owner's response existed. */
  deleteResponse(id: string, owner: ResponseOwner): Promise<boolean>;

  tenantUsage(tenant: string, range: TimeRange): Promise<TenantUsage>;
  /** A tenant's usage per session (calls without one left out), the costliest `limit` sessions first. */
  usageBySession(tenant: string, range: TimeRange, limit: number): Promise<UsageGroup[]>;
  adminReport(range: TimeRange): Promise<AdminReportData>;
  /** The report's figures over time: `range` cut in buckets of `bucketMs`, three scans of the range whatever the number of buckets. */
  reportSeries(range: TimeRange, bucketMs: number): Promise<ReportSeriesData>;

  close(): Promise<void>;
}
