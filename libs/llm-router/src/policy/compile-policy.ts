import { CLASS_DEFAULTS } from './class-defaults.js';
import type { CompiledClass, CompiledModel, CompiledPolicy, CompiledProvider } from './compiled-policy.js';
import { policySchema, type ParsedPolicy, type PolicyDocument, type ProviderConfig } from './policy.schema.js';
import { policyHash } from './policy-hash.js';
import { crossCheckPolicy } from './policy-cross-check.js';
import { PolicyValidationError, type PolicyIssue } from './policy-validation.error.js';
import { tokenizerEncoding } from './tokenizer-encoding.js';

function formatPath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(root)' : path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.');
}

/**
 * Validate a policy document and resolve it into the immutable form the router
 * runs on. Every problem is reported with its path, all at once: the schema's,
 * the cross references' and `earlier` ones (the environment's, from reading
 * the file) in one list.
 */
export function compilePolicy(document: PolicyDocument | unknown, source = 'policy', earlier: readonly PolicyIssue[] = []): CompiledPolicy {
  const parsed = policySchema.safeParse(document);
  const issues: PolicyIssue[] = [
    ...earlier,
    ...(parsed.success ? [] : parsed.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message }))),
    ...crossCheckPolicy(document),
  ];
  if (issues.length > 0 || !parsed.success) throw new PolicyValidationError(issues, source);
  const policy = parsed.data;
  const tierRank = new Map(policy.tiers.map((t, i) => [t, i]));

  const providers = new Map<string, CompiledProvider>();
  for (const [name, p] of Object.entries(policy.providers)) providers.set(name, compileProvider(name, p));

  const models = new Map<string, CompiledModel>();
  for (const [name, m] of Object.entries(policy.models)) {
    const provider = providers.get(m.provider)!;
    models.set(name, {
      name,
      provider,
      upstreamModel: m.upstreamModel,
      tier: m.tier,
      tierRank: tierRank.get(m.tier)!,
      capabilities: new Set(m.capabilities),
      contextWindow: m.contextWindow,
      maxOutputTokens: m.maxOutputTokens,
      price: m.price,
      tokenizer: tokenizerEncoding(provider.kind, m.upstreamModel, m.tokenizer),
    });
  }

  const classes = new Map<string, CompiledClass>();
  for (const [name, c] of Object.entries(policy.classes)) classes.set(name, compileClass(name, c, models));
  const defaultClass = policy.defaultClass ?? Object.keys(policy.classes)[0]!;
  return { tiers: policy.tiers, providers, models, classes, defaultClass, circuit: policy.circuit, budgets: policy.budgets, batches: policy.batches, hash: policyHash(policy) };
}

function compileProvider(name: string, p: ProviderConfig): CompiledProvider {
  const url = new URL(p.baseUrl);
  const protocol = url.protocol === 'https:' ? 'https:' : 'http:';
  return {
    name,
    kind: p.kind,
    baseUrl: p.baseUrl,
    protocol,
    hostname: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : protocol === 'https:' ? 443 : 80,
    basePath: url.pathname.replace(/\/+$/, ''),
    apiKeyEnv: p.apiKeyEnv,
    headers: p.headers,
    timeouts: p.timeouts,
    maxSockets: p.maxSockets,
  };
}

/** A class with its defaults filled in; its references were checked by crossCheckPolicy. */
function compileClass(name: string, c: ParsedPolicy['classes'][string], models: ReadonlyMap<string, CompiledModel>): CompiledClass {
  const defaults = CLASS_DEFAULTS[c.criticality];
  const route = c.route.map((m) => models.get(m)!);
  const downgradeRoute = (c.downgradeRoute ?? []).map((m) => models.get(m)!);
  const attemptTimeoutMs = c.attemptTimeoutMs ?? defaults.attemptTimeoutMs;
  const deadlineMs = c.deadlineMs ?? defaults.deadlineMs;
  const backoff = c.backoff ?? defaults.backoff;

  const fallback = c.fallback ?? defaults.fallback;
  const premiumFirst = defaults.premiumFirst;
  // Stable sort: the user's order is kept within a tier.
  const ordered = premiumFirst ? [...route].sort((a, b) => a.tierRank - b.tierRank) : route;
  // A class without fallback has one target, on its cheaper route too.
  const cutToFallback = (models: CompiledModel[], allowed: boolean) => (allowed ? models : models.slice(0, 1));
  return {
    name,
    criticality: c.criticality,
    description: c.description,
    route: cutToFallback(ordered, fallback),
    qualityFloor: c.qualityFloor,
    retriesPerTarget: c.retriesPerTarget ?? defaults.retriesPerTarget,
    maxAttempts: c.maxAttempts ?? defaults.maxAttempts,
    fallback,
    equivalentQualityOnly: c.equivalentQualityOnly ?? defaults.equivalentQualityOnly,
    switchOnContentFilter: c.switchOnContentFilter ?? defaults.switchOnContentFilter,
    attemptTimeoutMs: Math.min(attemptTimeoutMs, deadlineMs),
    firstByteTimeoutMs: Math.min(c.firstByteTimeoutMs ?? defaults.firstByteTimeoutMs, attemptTimeoutMs),
    deadlineMs,
    maxCostPerRequestUsd: c.maxCostPerRequestUsd,
    backoff,
    onExhausted: c.onExhausted ?? defaults.onExhausted,
    deferDeadlineMs: c.deferDeadlineMs ?? defaults.deferDeadlineMs,
    deferBackoff: c.deferBackoff ?? defaults.deferBackoff,
    // By default the cheaper route is the same models, cheapest first (stable).
    downgradeRoute: cutToFallback(c.downgradeRoute ? downgradeRoute : [...route].sort((a, b) => blendedPrice(a) - blendedPrice(b)), fallback),
    onBudgetStoreUnavailable: c.onBudgetStoreUnavailable ?? 'fail_closed',
    session: {
      affinity: c.session?.affinity ?? defaults.sessionAffinity,
      returnToOriginal: c.session?.returnToOriginal ?? 'next_session',
      onContextOverflow: c.session?.onContextOverflow ?? 'refuse',
    },
  };
}

/** Input plus output price per million tokens: the order of 'cheaper'. */
export function blendedPrice(m: CompiledModel): number {
  return m.price.inputPerMTok + m.price.outputPerMTok;
}
