import type { Scope } from '../auth/key-scope.js';

type Described = Record<string, unknown> & {
  providers: Record<string, Record<string, unknown>>;
  models: Record<string, { provider: string } & Record<string, unknown>>;
  classes: Record<string, Record<string, unknown>>;
  budgets: { defaults: unknown };
};

/**
 * The effective policy as one API key may see it: the classes and models in
 * its scope, the providers behind those models by name, kind and timeouts.
 * Where providers live (base URLs), which variables hold their keys, other
 * tenants' budgets and the budget webhook are the operator's business: the
 * whole policy is at `GET /admin/policy`.
 */
export function tenantPolicyView(described: Record<string, unknown>, scope: Scope): Record<string, unknown> {
  const policy = described as Described;
  const models = Object.fromEntries(Object.entries(policy.models).filter(([name]) => scope.models.has(name)));
  const providerNames = new Set(Object.values(models).map((m) => m.provider));
  const providers = Object.fromEntries(
    Object.entries(policy.providers)
      .filter(([name]) => providerNames.has(name))
      .map(([name, p]) => [name, { kind: p.kind, timeouts: p.timeouts }]),
  );
  const classes = Object.fromEntries(Object.entries(policy.classes).filter(([name]) => scope.classes.has(name)));
  return { ...policy, defaultClass: scope.defaultClass ?? null, budgets: { defaults: policy.budgets.defaults }, providers, models, classes };
}
