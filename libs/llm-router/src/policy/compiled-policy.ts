import type { TokenizerEncoding } from './tokenizer-encoding.js';
import type {
  BackoffConfig,
  BatchesConfig,
  BudgetsConfig,
  Capability,
  CircuitConfig,
  Criticality,
  ProviderConfig,
  ProviderKind,
  QualityFloorSpec,
} from './policy.schema.js';

/** A provider with its URL taken apart once, at start-up. */
export interface CompiledProvider {
  readonly name: string;
  readonly kind: ProviderKind;
  readonly baseUrl: string;
  readonly protocol: 'http:' | 'https:';
  readonly hostname: string;
  readonly port: number;
  readonly basePath: string;
  readonly apiKeyEnv?: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeouts: ProviderConfig['timeouts'];
  readonly maxSockets: number;
}

export interface CompiledModel {
  readonly name: string;
  readonly provider: CompiledProvider;
  readonly upstreamModel: string;
  readonly tier: string;
  /** 0 is the best tier. */
  readonly tierRank: number;
  readonly capabilities: ReadonlySet<Capability>;
  readonly contextWindow: number;
  readonly maxOutputTokens?: number;
  readonly price: { readonly inputPerMTok: number; readonly outputPerMTok: number };
  /** The tokenizer its prompts are counted with (configured, or inferred from an OpenAI upstream id); none: estimated by script. */
  readonly tokenizer?: TokenizerEncoding;
}

export interface CompiledClass {
  readonly name: string;
  readonly criticality: Criticality;
  readonly description?: string;
  readonly route: readonly CompiledModel[];
  readonly qualityFloor?: QualityFloorSpec;
  readonly retriesPerTarget: number;
  readonly maxAttempts: number;
  readonly fallback: boolean;
  readonly equivalentQualityOnly: boolean;
  readonly switchOnContentFilter: boolean;
  readonly attemptTimeoutMs: number;
  readonly firstByteTimeoutMs: number;
  readonly deadlineMs: number;
  readonly maxCostPerRequestUsd?: number;
  readonly backoff: BackoffConfig;
  readonly onExhausted: 'fail' | 'defer';
  readonly deferDeadlineMs: number;
  readonly deferBackoff: BackoffConfig;
  /** The cheaper route for the downgrade budget tier. */
  readonly downgradeRoute: readonly CompiledModel[];
  readonly onBudgetStoreUnavailable: 'fail_closed' | { readonly failOpenUpToUsd: number };
  readonly session: CompiledSessionSettings;
}

/** A class's session routing, defaults filled in. */
export interface CompiledSessionSettings {
  readonly affinity: boolean;
  readonly returnToOriginal: 'next_session' | { readonly afterHealthyMinutes: number };
  readonly onContextOverflow: 'refuse' | 'trim';
}

/** The policy after validation, cross-reference checks and defaults. Immutable. */
export interface CompiledPolicy {
  readonly tiers: readonly string[];
  readonly providers: ReadonlyMap<string, CompiledProvider>;
  readonly models: ReadonlyMap<string, CompiledModel>;
  readonly classes: ReadonlyMap<string, CompiledClass>;
  readonly defaultClass: string;
  readonly circuit: CircuitConfig;
  readonly budgets: BudgetsConfig;
  /** The content hash of the validated document (see policyHash): half of a policy's version. */
  readonly hash: string;
  readonly batches: BatchesConfig;
}
