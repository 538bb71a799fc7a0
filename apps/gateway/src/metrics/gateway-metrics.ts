import { Injectable } from '@nestjs/common';
import { CATEGORY_RULES, LlmRouter, type RoutingRecord } from '@llm-router/nestjs';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { SeriesCounter } from './series-counter.js';
import { SeriesHistogram } from './series-histogram.js';
import { SeriesKey } from './series-key.js';

const OTHER = 'other';
const NONE = 'none';
const LATENCY_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/** The routing records waiting for the store, as the gauges read them. */
export interface RecordQueue {
  readonly pending: number;
  readonly dropped: number;
}

/**
 * Prometheus metrics from routing records. Labels come only from bounded
 * sets: the policy's classes, providers and models, the failure categories
 * and fixed outcomes; anything else is `other`. Tenants are never labels.
 */
@Injectable()
export class GatewayMetrics {
  readonly registry = new Registry();
  private classes: ReadonlySet<string>;
  private models: ReadonlySet<string>;
  private providers: ReadonlySet<string>;
  private readonly categories: ReadonlySet<string>;

  private readonly requests: SeriesCounter<'class' | 'provider' | 'model' | 'outcome'>;
  private readonly attempts: SeriesCounter<'class' | 'provider' | 'model' | 'outcome' | 'category'>;
  private readonly fallbacks: SeriesCounter<'class' | 'provider' | 'model'>;
  private readonly refusals: SeriesCounter<'class' | 'category'>;
  private readonly spend: SeriesCounter<'class' | 'provider' | 'model'>;
  private readonly tokens: SeriesCounter<'class' | 'provider' | 'model' | 'kind'>;
  private readonly latency: SeriesHistogram<'class' | 'provider' | 'model'>;
  private readonly firstChunk: SeriesHistogram<'class' | 'provider' | 'model'>;
  private readonly budgetTier: SeriesCounter<'class' | 'tier'>;
  readonly authFailures: Counter<'reason'>;
  private recordQueue?: RecordQueue;
  private readonly keys = SeriesKey.root();

  constructor(router: LlmRouter) {
    const policy = router.policy;
    const records = (): RecordQueue | undefined => this.recordQueue;
    this.classes = new Set(policy.classes.keys());
    this.models = new Set(policy.models.keys());
    this.providers = new Set(policy.providers.keys());
    // A reloaded policy's names join the label sets (those of the old one stay: their series exist).
    router.live.changes$.subscribe(({ policy: next }) => {
      this.classes = new Set([...this.classes, ...next.classes.keys()]);
      this.models = new Set([...this.models, ...next.models.keys()]);
      this.providers = new Set([...this.providers, ...next.providers.keys()]);
    });
    this.categories = new Set(Object.keys(CATEGORY_RULES));
    const registers = [this.registry];

    this.requests = new SeriesCounter({
      name: 'llm_gateway_requests_total',
      help: 'Routed requests by class, serving provider and model (none when nothing served), and outcome.',
      labelNames: ['class', 'provider', 'model', 'outcome'],
      registers,
    });
    this.attempts = new SeriesCounter({
      name: 'llm_gateway_attempts_total',
      help: 'Upstream attempts by target, outcome and failure category (none on success).',
      labelNames: ['class', 'provider', 'model', 'outcome', 'category'],
      registers,
    });
    this.fallbacks = new SeriesCounter({
      name: 'llm_gateway_fallbacks_total',
      help: 'Requests served by a target other than the first planned, by the target that served.',
      labelNames: ['class', 'provider', 'model'],
      registers,
    });
    this.refusals = new SeriesCounter({
      name: 'llm_gateway_refusals_total',
      help: 'Requests refused by the gateway without an upstream call (quality floor, budget, circuit, ...), by category.',
      labelNames: ['class', 'category'],
      registers,
    });
    this.spend = new SeriesCounter({
      name: 'llm_gateway_spend_usd_total',
      help: 'Settled cost in US dollars by class and serving target.',
      labelNames: ['class', 'provider', 'model'],
      registers,
    });
    this.tokens = new SeriesCounter({
      name: 'llm_gateway_tokens_total',
      help: 'Tokens by class, serving target and kind (prompt, completion).',
      labelNames: ['class', 'provider', 'model', 'kind'],
      registers,
    });
    this.latency = new SeriesHistogram({
      name: 'llm_gateway_request_duration_seconds',
      help: 'Routed request latency, retries and fallbacks included, by class and serving target.',
      labelNames: ['class', 'provider', 'model'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.firstChunk = new SeriesHistogram({
      name: 'llm_gateway_time_to_first_chunk_seconds',
      help: 'Streams: time to the first content chunk, by class and serving target.',
      labelNames: ['class', 'provider', 'model'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.budgetTier = new SeriesCounter({
      name: 'llm_gateway_budget_tier_requests_total',
      help: 'Requests of tenants with a budget, by the budget tier that applied.',
      labelNames: ['class', 'tier'],
      registers,
    });
    this.authFailures = new Counter({
      name: 'llm_gateway_auth_failures_total',
      help: 'Requests refused for a missing, invalid, revoked or expired API key, or a bad admin credential.',
      labelNames: ['reason'],
      registers,
    });
    new Gauge({
      name: 'llm_gateway_records_pending',
      help: 'Routing records waiting to be written to the store.',
      registers,
      collect() {
        this.set(records()?.pending ?? 0);
      },
    });
    new Gauge({
      name: 'llm_gateway_records_dropped',
      help: 'Routing records dropped because the store failed for too long (since start).',
      registers,
      collect() {
        this.set(records()?.dropped ?? 0);
      },
    });
    const targets = [...this.models];
    new Gauge({
      name: 'llm_gateway_circuit_open',
      help: '1 when the circuit of a target (model) is open.',
      labelNames: ['model'],
      registers,
      async collect() {
        const open = new Set((await router.circuitStates()).filter((c) => c.status === 'open').map((c) => c.target));
        for (const t of targets) this.set({ model: t }, open.has(t) ? 1 : 0);
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'llm_gateway_' });
  }

  /** Where the pending and dropped record gauges read from: the records' writer, which registers itself. */
  watchRecords(queue: RecordQueue): void {
    this.recordQueue = queue;
  }

  /** One routing record into the series; label values are bounded, series keys are their values joined (kept, see SeriesKey). */
  observe(record: RoutingRecord): void {
    const cls = this.keys.with(this.bounded(this.classes, record.trafficClass));
    const provider = record.servedBy ? this.bounded(this.providers, record.servedBy.provider) : NONE;
    const model = record.servedBy ? this.bounded(this.models, record.servedBy.model) : NONE;
    const target = cls.with(provider).with(model);
    this.requests.inc(target.with(record.outcome).key);
    for (const a of record.attempts) {
      const category = a.category ? this.bounded(this.categories, a.category) : NONE;
      this.attempts.inc(cls.with(this.bounded(this.providers, a.provider)).with(this.bounded(this.models, a.model)).with(a.outcome).with(category).key);
    }
    if (record.fallback && record.servedBy) this.fallbacks.inc(target.key);
    if (record.outcome === 'failure' && !record.attempts.some((a) => a.outcome !== 'skipped')) {
      const category = record.errorCategory ? this.bounded(this.categories, record.errorCategory) : OTHER;
      this.refusals.inc(cls.with(category).key);
    }
    if (record.costUsd > 0) this.spend.inc(target.key, record.costUsd);
    if (record.promptTokens > 0) this.tokens.inc(target.with('prompt').key, record.promptTokens);
    if (record.completionTokens > 0) this.tokens.inc(target.with('completion').key, record.completionTokens);
    this.latency.observe(target.key, record.latencyMs / 1000);
    if (record.firstChunkMs !== undefined) this.firstChunk.observe(target.key, record.firstChunkMs / 1000);
    if (record.budget) this.budgetTier.inc(cls.with(record.budget.tier).key);
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private bounded(set: ReadonlySet<string>, value: string): string {
    return set.has(value) ? value : OTHER;
  }
}
