import type { CompiledPolicy } from '@llm-router/nestjs';
import { decideRoute, type Scope, type ScopeDecision } from '../auth/key-scope.js';

/** The metadata key a batch names its traffic class with. */
export const CLASS_METADATA_KEY = 'traffic_class';

/**
 * The traffic class a batch runs under: one of batch criticality the key may
 * use, named in its metadata, else the key's default class when that is a
 * batch class, else the first batch class the key may use.
 */
export function decideBatchClass(policy: CompiledPolicy, scope: Scope, named: string | undefined): ScopeDecision {
  const isBatch = (name: string) => policy.classes.get(name)?.criticality === 'batch';
  if (named !== undefined) {
    const decision = decideRoute(policy, scope, named, undefined);
    if (!decision.ok) return { ...decision, param: `metadata.${CLASS_METADATA_KEY}` };
    if (!isBatch(named)) {
      return { ok: false, status: 400, code: 'not_a_batch_class', param: `metadata.${CLASS_METADATA_KEY}`, message: `The traffic class "${named}" is not of batch criticality: a batch runs under a batch class.` };
    }
    return decision;
  }
  const chosen = scope.defaultClass !== undefined && isBatch(scope.defaultClass) ? scope.defaultClass : [...scope.classes].find(isBatch);
  if (chosen === undefined) {
    return { ok: false, status: 403, code: 'traffic_class_not_allowed', param: `metadata.${CLASS_METADATA_KEY}`, message: 'This API key may use no traffic class of batch criticality, so it cannot run batches.' };
  }
  return { ok: true, trafficClass: chosen };
}
