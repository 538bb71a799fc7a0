import { HttpException } from '@nestjs/common';
import type { CallerBudget, CompiledPolicy } from '@llm-router/nestjs';
import { openAiError } from '../errors/openai-error.js';
import { PolicyRefusal } from '../errors/policy-refusal.exception.js';
import type { StoredApiKey } from '../store/gateway-store.js';

/** What a caller may do, resolved once per key against the policy. */
export interface Scope {
  /** Classes the caller may route under. */
  readonly classes: ReadonlySet<string>;
  /** Models the caller may name or be served by. */
  readonly models: ReadonlySet<string>;
  /** The class used when the request names none; undefined when no class is usable. */
  readonly defaultClass: string | undefined;
}

/** An authenticated caller. */
export interface Principal {
  /** null when authentication is disabled. */
  readonly keyId: string | null;
  readonly tenant: string | undefined;
  readonly scope: Scope;
  /** The key's own budget, as the router reserves it with the tenant's. */
  readonly budget?: CallerBudget;
}

/** A key held in memory: the stored fields plus its resolved scope and hash. */
export interface ActiveKey {
  readonly stored: StoredApiKey;
  /** Lower-case hex SHA-256 of the whole key. */
  readonly hash: string;
  readonly principal: Principal;
}

/**
 * A key's scope under a policy:
 * - classes: the allowed classes (all when unrestricted) that exist, and, when
 *   the key restricts models, only those whose whole route stays inside the
 *   allowed models: a fallback never serves a key from a model it may not use;
 * - models: every model on a usable class's route, within the allowed models;
 * - default class: the key's own, else the policy's, else the first usable.
 */
export function resolveScope(
  policy: CompiledPolicy,
  allowedClasses: readonly string[] | null,
  allowedModels: readonly string[] | null,
  preferredDefault: string | null,
): Scope {
  const modelAllowed = (m: string) => allowedModels === null || allowedModels.includes(m);
  const classes = new Set<string>();
  const models = new Set<string>();
  for (const [name, cls] of policy.classes) {
    if (allowedClasses !== null && !allowedClasses.includes(name)) continue;
    if (!cls.route.every((m) => modelAllowed(m.name))) continue;
    classes.add(name);
    for (const m of cls.route) models.add(m.name);
  }
  const defaultClass = [preferredDefault, policy.defaultClass, ...classes].find((c): c is string => c !== null && c !== undefined && classes.has(c));
  return { classes, models, defaultClass };
}

/** The scope of an unauthenticated caller when authentication is disabled: everything. */
export function unrestrictedScope(policy: CompiledPolicy): Scope {
  return { classes: new Set(policy.classes.keys()), models: new Set(policy.models.keys()), defaultClass: policy.defaultClass };
}

/** Why a requested class or model is refused, if it is. */
export type ScopeDecision =
  | { readonly ok: true; readonly trafficClass: string }
  | { readonly ok: false; readonly status: 400 | 403 | 404; readonly code: string; readonly param: string; readonly message: string };

/**
 * The class a call routes under and whether the caller may use it and the
 * model it names. `model` may be `auto`, absent, a catalog model, or a class
 * name (the class's route, for clients that cannot set headers).
 */
export function decideRoute(policy: CompiledPolicy, scope: Scope, headerClass: string | undefined, model: string | undefined): ScopeDecision {
  let trafficClass = headerClass;
  let pinned: string | undefined;
  if (model !== undefined && model !== '' && model !== 'auto') {
    if (policy.classes.has(model) && !policy.models.has(model)) {
      if (trafficClass === undefined) trafficClass = model;
      else if (trafficClass !== model) {
        return refuse(400, 'model_class_mismatch', 'model', `The model "${model}" names a traffic class other than x-traffic-class "${trafficClass}".`);
      }
    } else pinned = model;
  }
  if (trafficClass !== undefined) {
    if (!policy.classes.has(trafficClass)) {
      return refuse(
        400,
        'unknown_traffic_class',
        'x-traffic-class',
        `Unknown traffic class "${trafficClass}". Classes this key may use: ${[...scope.classes].join(', ') || '(none)'}.`,
      );
    }
    if (!scope.classes.has(trafficClass)) {
      return refuse(
        403,
        'traffic_class_not_allowed',
        'x-traffic-class',
        `This API key may not use the traffic class "${trafficClass}". Classes this key may use: ${[...scope.classes].join(', ') || '(none)'}.`,
      );
    }
  } else {
    if (scope.defaultClass === undefined) {
      return refuse(403, 'traffic_class_not_allowed', 'x-traffic-class', 'This API key may not use any traffic class of the current policy.');
    }
    trafficClass = scope.defaultClass;
  }
  if (pinned !== undefined) {
    if (!policy.models.has(pinned)) {
      return refuse(404, 'model_not_found', 'model', `The model "${pinned}" does not exist. GET /v1/models lists the models this key may use.`);
    }
    if (!scope.models.has(pinned)) {
      return refuse(403, 'model_not_allowed', 'model', `This API key may not use the model "${pinned}". GET /v1/models lists the models this key may use.`);
    }
  }
  return { ok: true, trafficClass };
}

/** A refused decision as the 4xx it answers (403: permission_error); `param` when the class did not come from a header. */
export function scopeRefusal(decision: Extract<ScopeDecision, { ok: false }>, policyVersion: string, param: string | null = decision.param): HttpException {
  const type = decision.status === 403 ? 'permission_error' : 'invalid_request_error';
  return new PolicyRefusal(openAiError(decision.message, type, decision.code, param), decision.status, policyVersion);
}

function refuse(status: 400 | 403 | 404, code: string, param: string, message: string): ScopeDecision {
  return { ok: false, status, code, param, message };
}
