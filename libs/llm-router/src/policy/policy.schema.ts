import { z } from 'zod';
import { TOKENIZER_ENCODINGS } from './tokenizer-encoding.js';

/**
 * The policy document as users write it (YAML, JSON, or an object given to
 * `LlmRouterModule.forRoot()`). Everything a class leaves out is filled from
 * the criticality defaults in `class-defaults.ts`.
 */

const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]*$/, 'letters, digits and . _ : / - only');
const positiveMs = z.number().int().positive();

/** `custom_tools`: OpenAI's custom (free-form, grammar-held) tools, which a request with one needs besides `tools`. */
export const CAPABILITIES = ['tools', 'json', 'vision', 'streaming', 'custom_tools'] as const;
export const CRITICALITIES = [
  'critical',
  'standard',
  'nonessential',
  'batch',
  'internal_automation',
  'experimentation',
] as const;
export const DEFAULT_TIERS = ['frontier', 'premium', 'standard', 'economy'] as const;
/** The wire formats a provider may speak: `openai` for any OpenAI-compatible API, `anthropic` for the Messages API. */
export const PROVIDER_KINDS = ['openai', 'anthropic'] as const;

export const providerSchema = z.strictObject({
  kind: z.enum(PROVIDER_KINDS),
  baseUrl: z.url({ protocol: /^https?$/ }),
  /** Name of the environment variable that holds the key; the key itself never sits in the policy. */
  apiKeyEnv: z.string().min(1).optional(),
  headers: z.record(z.string(), z.string()).default({}),
  timeouts: z
    .strictObject({
      connectMs: positiveMs.default(2_000),
      firstByteMs: positiveMs.default(30_000),
    })
    .prefault({}),
  /** Keep-alive sockets per provider. */
  maxSockets: z.number().int().positive().default(256),
});

export const modelSchema = z.strictObject({
  provider: name,
  upstreamModel: z.string().min(1),
  tier: z.string().min(1),
  capabilities: z.array(z.enum(CAPABILITIES)).default([]),
  contextWindow: z.number().int().positive(),
  maxOutputTokens: z.number().int().positive().optional(),
  /** The encoding its prompts are counted with; by default inferred from an OpenAI upstream id, `none` to never tokenize. */
  tokenizer: z.enum([...TOKENIZER_ENCODINGS, 'none']).optional(),
  price: z.strictObject({
    inputPerMTok: z.number().nonnegative(),
    outputPerMTok: z.number().nonnegative(),
  }),
});

export const qualityFloorSchema = z.strictObject({
  tier: z.string().min(1).optional(),
  capabilities: z.array(z.enum(CAPABILITIES)).optional(),
  minContextWindow: z.number().int().positive().optional(),
});

export const backoffSchema = z.strictObject({
  baseMs: z.number().int().nonnegative(),
  maxMs: z.number().int().nonnegative(),
  /** Full jitter: the delay is drawn uniformly from [0, computed]. */
  jitter: z.boolean(),
});

export const circuitSchema = z.strictObject({
  /** Consecutive failures that open the circuit. */
  failureThreshold: z.number().int().positive().default(5),
  /** How long an open circuit rejects before one half-open probe is let through. */
  cooldownMs: positiveMs.default(30_000),
});

/** How a class routes the turns of one session (`x-session-id`, `router.session()`). */
export const sessionSettingsSchema = z.strictObject({
  /** Pin a session's turns to the target that served its previous turn while it is healthy and allowed. */
  affinity: z.boolean().optional(),
  /**
   * When a session that moved may go back to its original target: `next_session` (never within this
   * session), or once the original's circuit has been closed for N minutes (as the session's turns saw it).
   */
  returnToOriginal: z.union([z.literal('next_session'), z.strictObject({ afterHealthyMinutes: z.number().positive() })]).optional(),
  /** A session's history too long for the target: refuse (`context_length`), or drop the oldest turns (system prompt and latest turns kept). */
  onContextOverflow: z.enum(['refuse', 'trim']).optional(),
});

export const classSchema = z.strictObject({
  criticality: z.enum(CRITICALITIES),
  description: z.string().optional(),
  /** Ordered candidates: primary, secondary, tertiary ... (catalog model names). */
  route: z.array(name).min(1),
  qualityFloor: qualityFloorSchema.optional(),
  /** Retries on the same target before switching (0 = switch at once). */
  retriesPerTarget: z.number().int().min(0).max(10).optional(),
  /** Upper bound on attempts across all targets for one request. */
  maxAttempts: z.number().int().min(1).max(20).optional(),
  /** Whether the router may move down the route at all. */
  fallback: z.boolean().optional(),
  /** Only switch to targets at least as good as the primary's tier. */
  equivalentQualityOnly: z.boolean().optional(),
  /** Whether a content-filter refusal may be retried on another provider. */
  switchOnContentFilter: z.boolean().optional(),
  attemptTimeoutMs: positiveMs.optional(),
  firstByteTimeoutMs: positiveMs.optional(),
  deadlineMs: positiveMs.optional(),
  maxCostPerRequestUsd: z.number().positive().optional(),
  backoff: backoffSchema.optional(),
  /** A route exhausted by outage or by the restricted budget tier: fail now, or defer the call to a queue. */
  onExhausted: z.enum(['fail', 'defer']).optional(),
  /** How long a deferred call is retried before it expires (from when it was deferred). */
  deferDeadlineMs: positiveMs.optional(),
  /** The wait between a deferred call's tries. */
  deferBackoff: backoffSchema.optional(),
  /** The cheaper route taken at the downgrade tier (default: the route, cheapest first). */
  downgradeRoute: z.array(name).min(1).optional(),
  /** When the budget store cannot be reached: refuse (default), or serve unmetered up to an allowance. */
  onBudgetStoreUnavailable: z
    .union([z.literal('fail_closed'), z.strictObject({ failOpenUpToUsd: z.number().positive() })])
    .optional(),
  session: sessionSettingsSchema.optional(),
});

export const thresholdsSchema = z
  .strictObject({
    notice: z.number().gt(0).lt(1).default(0.7),
    downgrade: z.number().gt(0).lt(1).default(0.8),
    restrict: z.number().gt(0).lt(1).default(0.95),
  })
  .refine((t) => t.notice <= t.downgrade && t.downgrade <= t.restrict, { message: 'thresholds must be ordered: notice <= downgrade <= restrict' });

export const tenantBudgetSchema = z.strictObject({
  budgetUsd: z.number().positive(),
  period: z.enum(['month', 'week', 'day']).optional(),
  dailyCapUsd: z.number().positive().optional(),
  thresholds: thresholdsSchema.optional(),
  /** Criticalities downgraded at the downgrade tier, and refused at the restrict tier. */
  downgradeCriticalities: z.array(z.enum(CRITICALITIES)).optional(),
  restrictCriticalities: z.array(z.enum(CRITICALITIES)).optional(),
});

export const budgetsSchema = z.strictObject({
  defaults: z
    .strictObject({
      period: z.enum(['month', 'week', 'day']).default('month'),
      thresholds: thresholdsSchema.prefault({}),
      downgradeCriticalities: z.array(z.enum(CRITICALITIES)).default(['nonessential']),
      restrictCriticalities: z.array(z.enum(CRITICALITIES)).default(['batch', 'internal_automation']),
      /** Criticalities a tenant's daily cap applies to. */
      dailyCapCriticalities: z.array(z.enum(CRITICALITIES)).default(['batch', 'internal_automation']),
    })
    .prefault({}),
  tenants: z.record(z.string().min(1), tenantBudgetSchema).default({}),
  /** Threshold-crossing events are POSTed here as JSON. */
  webhookUrl: z.url({ protocol: /^https?$/ }).optional(),
});

/** Batch items (the gateway's Batch API): how many run at once, so that batch work yields to interactive traffic. */
export const batchesSchema = z
  .strictObject({
    /** Items of all tenants in flight at once, per gateway instance. */
    concurrency: z.number().int().min(1).max(1_000).default(16),
    /** Items of one tenant in flight at once, per gateway instance. */
    perTenantConcurrency: z.number().int().min(1).max(1_000).default(8),
  })
  .refine((b) => b.perTenantConcurrency <= b.concurrency, { message: 'perTenantConcurrency must not exceed concurrency' });

export const policySchema = z.strictObject({
  version: z.literal(1).default(1),
  /** Quality tiers, best first. */
  tiers: z.array(z.string().min(1)).min(1).default([...DEFAULT_TIERS]),
  providers: z.record(name, providerSchema),
  models: z.record(name, modelSchema),
  classes: z.record(name, classSchema),
  /** The class used when neither a decorator nor the call names one. */
  defaultClass: name.optional(),
  circuit: circuitSchema.prefault({}),
  budgets: budgetsSchema.prefault({}),
  batches: batchesSchema.prefault({}),
});

export type PolicyDocument = z.input<typeof policySchema>;
export type ParsedPolicy = z.output<typeof policySchema>;
export type ProviderConfig = z.output<typeof providerSchema>;
export type ModelConfig = z.output<typeof modelSchema>;
export type ClassConfig = z.output<typeof classSchema>;
export type Capability = (typeof CAPABILITIES)[number];
export type Criticality = (typeof CRITICALITIES)[number];
export type ProviderKind = (typeof PROVIDER_KINDS)[number];
export type QualityFloorSpec = z.output<typeof qualityFloorSchema>;
export type BackoffConfig = z.output<typeof backoffSchema>;
export type SessionSettingsConfig = z.output<typeof sessionSettingsSchema>;
export type CircuitConfig = z.output<typeof circuitSchema>;
export type BudgetsConfig = z.output<typeof budgetsSchema>;
export type BatchesConfig = z.output<typeof batchesSchema>;
export type TenantBudgetConfig = z.input<typeof tenantBudgetSchema>;
