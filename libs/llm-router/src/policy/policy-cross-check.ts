import { CLASS_DEFAULTS } from './class-defaults.js';
import { CRITICALITIES, DEFAULT_TIERS, type Criticality } from './policy.schema.js';
import type { PolicyIssue } from './policy-validation.error.js';

type Loose = Record<string, unknown>;

const objectOr = (value: unknown): Loose => (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Loose) : {});
const numberOr = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);

/**
 * The checks a schema cannot make (references between sections, and values
 * that must agree), run on the raw document even when the schema found
 * errors: every problem of a policy is listed in one pass. Defensive about
 * shapes: a value the schema rejects is simply not cross-checked.
 */
export function crossCheckPolicy(document: unknown): PolicyIssue[] {
  const doc = objectOr(document);
  const issues: PolicyIssue[] = [];
  const tiers = Array.isArray(doc['tiers']) ? doc['tiers'].filter((t): t is string => typeof t === 'string') : [...DEFAULT_TIERS];
  if (new Set(tiers).size !== tiers.length) issues.push({ path: 'tiers', message: 'tiers must be unique' });
  const providers = objectOr(doc['providers']);
  const models = objectOr(doc['models']);
  const classes = objectOr(doc['classes']);

  for (const [name, raw] of Object.entries(models)) {
    const m = objectOr(raw);
    if (typeof m['provider'] === 'string' && !(m['provider'] in providers)) {
      issues.push({ path: `models.${name}.provider`, message: `unknown provider "${m['provider']}" (known: ${Object.keys(providers).join(', ') || 'none'})` });
    }
    if (typeof m['tier'] === 'string' && !tiers.includes(m['tier'])) {
      issues.push({ path: `models.${name}.tier`, message: `unknown tier "${m['tier']}" (tiers: ${tiers.join(' > ')})` });
    }
    const kind = typeof m['provider'] === 'string' ? objectOr(providers[m['provider']])['kind'] : undefined;
    if (kind === 'anthropic' && Array.isArray(m['capabilities']) && m['capabilities'].includes('custom_tools')) {
      // The Messages API has no free-form tool: a request with one could not be translated.
      issues.push({ path: `models.${name}.capabilities`, message: 'an anthropic model cannot have "custom_tools" (the Messages API has no custom tools)' });
    }
  }
  for (const [name, raw] of Object.entries(classes)) checkClass(name, objectOr(raw), models, tiers, issues);

  const defaultClass = typeof doc['defaultClass'] === 'string' ? doc['defaultClass'] : undefined;
  if (Object.keys(classes).length === 0) issues.push({ path: 'classes', message: 'at least one traffic class is required' });
  else if (defaultClass !== undefined && !(defaultClass in classes)) {
    issues.push({ path: 'defaultClass', message: `unknown traffic class "${defaultClass}"` });
  }
  return issues;
}

function checkClass(name: string, c: Loose, models: Loose, tiers: readonly string[], issues: PolicyIssue[]): void {
  const catalog = Object.keys(models).join(', ') || 'empty';
  const checkRoute = (field: 'route' | 'downgradeRoute') => {
    const route = c[field];
    if (!Array.isArray(route)) return;
    route.forEach((m, i) => {
      if (typeof m === 'string' && !(m in models)) issues.push({ path: `classes.${name}.${field}[${i}]`, message: `unknown model "${m}" (catalog: ${catalog})` });
    });
    if (field === 'route' && new Set(route).size !== route.length) {
      issues.push({ path: `classes.${name}.route`, message: 'a model may appear only once in a route' });
    }
  };
  checkRoute('route');
  checkRoute('downgradeRoute');
  const floorTier = objectOr(c['qualityFloor'])['tier'];
  if (typeof floorTier === 'string' && !tiers.includes(floorTier)) {
    issues.push({ path: `classes.${name}.qualityFloor.tier`, message: `unknown tier "${floorTier}" (tiers: ${tiers.join(' > ')})` });
  }
  const criticality = CRITICALITIES.includes(c['criticality'] as Criticality) ? (c['criticality'] as Criticality) : undefined;
  const defaults = criticality ? CLASS_DEFAULTS[criticality] : undefined;
  const attemptTimeoutMs = numberOr(c['attemptTimeoutMs']);
  const deadlineMs = numberOr(c['deadlineMs']);
  if (attemptTimeoutMs !== undefined && deadlineMs !== undefined && attemptTimeoutMs > deadlineMs) {
    issues.push({ path: `classes.${name}.attemptTimeoutMs`, message: `exceeds the class deadline (${deadlineMs} ms)` });
  }
  const backoff = c['backoff'] === undefined ? defaults?.backoff : objectOr(c['backoff']);
  const baseMs = numberOr(backoff?.['baseMs' as never]);
  const maxMs = numberOr(backoff?.['maxMs' as never]);
  if (baseMs !== undefined && maxMs !== undefined && maxMs < baseMs) {
    issues.push({ path: `classes.${name}.backoff.maxMs`, message: 'must be at least baseMs' });
  }
}
