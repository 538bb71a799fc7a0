import { CLASS_DEFAULTS } from './class-defaults.js';
import type { CompiledClass, CompiledModel, CompiledPolicy, CompiledProvider } from './compiled-policy.js';
import { policySchema, type ParsedPolicy, type PolicyDocument, type ProviderConfig } from './policy.schema.js';
import { PolicyValidationError, type PolicyIssue } from './policy-validation.error.js';
import { tokenizerEncoding } from './tokenizer-encoding.js';

function formatPath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(root)' : path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.');
}

/**
 * Validate a policy document and resolve it into the immutable form the router
 * runs on. Every problem is reported with its path, all at once.
 */
export function compilePolicy(document: PolicyDocument | unknown, source = 'policy'): CompiledPolicy {
  const parsed = policySchema.safeParse(document);
  if (!parsed.success) {
    throw new PolicyValidationError(
      parsed.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })),
      source,
    );
  }
  const policy = parsed.data;
  const issues: PolicyIssue[] = [];
  const tierRank = new Map(policy.tiers.map((t, i) => [t, i]));
  if (tierRank.size !== policy.tiers.length) issues.push({ path: 'tiers', message: 'tiers must be unique' });

  const providers = new Map<string, CompiledProvider>();
  for (const [name, p] of Object.entries(policy.providers)) providers.set(name, compileProvider(name, p));

  const models = new Map<string, CompiledModel>();
  for (const [name, m] of Object.entries(policy.models)) {
    const provider = providers.get(m.provider);
    if (!provider) {
      issues.push({ path: `models.${name}.provider`, message: `unknown provider "${m.provider}" (known: ${[...providers.keys()].join(', ') || 'none'})` });
      continue;
    }
    const rank = tierRank.get(m.tier);
    if (rank === undefined) {
      issues.push({ path: `models.${name}.tier`, message: `unknown tier "${m.tier}" (tiers: ${policy.tiers.join(' > ')})` });
      continue;
    }
    models.set(name, {
      name,
      provider,
      upstreamModel: m.upstreamModel,
      tier: m.tier,
      tierRank: rank,
      capabilities: new Set(m.capabilities),
      contextWindow: m.contextWindow,
      maxOutputTokens: m.maxOutputTokens,
      price: m.price,
      tokenizer: tokenizerEncoding(provider.kind, m.upstreamModel, m.tokenizer),
    });
  }

  const classes = new Map<string, CompiledClass>();
  for (const [name, c] of Object.entries(policy.classes)) {
    const compiled = compileClass(name, c, models, tierRank, policy, issues);
    if (compiled) classes.set(name, compiled);
  }

  const defaultClass = policy.defaultClass ?? Object.keys(policy.classes)[0];
  if (defaultClass === undefined) issues.push({ path: 'classes', message: 'at least one traffic class is required' });
  else if (!(defaultClass in policy.classes)) {
    issues.push({ path: 'defaultClass', message: `unknown traffic class "${defaultClass}"` });
  }
  if (issues.length > 0) throw new PolicyValidationError(issues, source);

  return { tiers: policy.tiers, providers, models, classes, defaultClass: defaultClass!, circuit: policy.circuit, budgets: policy.budgets, batches: policy.batches };
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

function compileClass(
  name: string,
  c: ParsedPolicy['classes'][string],
  models: ReadonlyMap<string, CompiledModel>,
  tierRank: ReadonlyMap<string, number>,
  policy: ParsedPolicy,
  issues: PolicyIssue[],
): CompiledClass | undefined {
  const defaults = CLASS_DEFAULTS[c.criticality];
  const route: CompiledModel[] = [];
  c.route.forEach((m, i) => {
    const model = models.get(m);
    if (model) route.push(model);
    else if (!(m in policy.models)) {
      issues.push({ path: `classes.${name}.route[${i}]`, message: `unknown model "${m}" (catalog: ${Object.keys(policy.models).join(', ') || 'empty'})` });
    }
  });
  if (new Set(c.route).size !== c.route.length) {
    issues.push({ path: `classes.${name}.route`, message: 'a model may appear only once in a route' });
  }
  if (c.qualityFloor?.tier !== undefined && !tierRank.has(c.qualityFloor.tier)) {
    issues.push({ path: `classes.${name}.qualityFloor.tier`, message: `unknown tier "${c.qualityFloor.tier}" (tiers: ${policy.tiers.join(' > ')})` });
  }
  const attemptTimeoutMs = c.attemptTimeoutMs ?? defaults.attemptTimeoutMs;
  const deadlineMs = c.deadlineMs ?? defaults.deadlineMs;
  if (attemptTimeoutMs > deadlineMs && c.attemptTimeoutMs !== undefined && c.deadlineMs !== undefined) {
    issues.push({ path: `classes.${name}.attemptTimeoutMs`, message: `exceeds the class deadline (${deadlineMs} ms)` });
  }
  const backoff = c.backoff ?? defaults.backoff;
  if (backoff.maxMs < backoff.baseMs) {
    issues.push({ path: `classes.${name}.backoff.maxMs`, message: 'must be at least baseMs' });
  }
  const downgradeRoute: CompiledModel[] = [];
  (c.downgradeRoute ?? []).forEach((m, i) => {
    const model = models.get(m);
    if (model) downgradeRoute.push(model);
    else if (!(m in policy.models)) issues.push({ path: `classes.${name}.downgradeRoute[${i}]`, message: `unknown model "${m}"` });
  });
  if (route.length !== c.route.length) return undefined;

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
  };
}

/** Input plus output price per million tokens: the order of 'cheaper'. */
export function blendedPrice(m: CompiledModel): number {
  return m.price.inputPerMTok + m.price.outputPerMTok;
}
