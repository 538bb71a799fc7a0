import type { RoutingContext } from '../context/routing-context.js';
import type { LlmRouterError } from '../errors/llm-router.error.js';
import type { CompiledPolicy } from '../policy/compiled-policy.js';
import type { RecordedNeeds } from '../planning/request-with-needs.js';
import type { RoutingRecord } from './routing-record.js';

export interface UnplannedRecordInput {
  readonly requestId: string;
  /** Tenant, feature, session, class and floor of the call; the policy's default class when it names none. */
  readonly context: RoutingContext;
  readonly stream: boolean;
  readonly outcome: 'failure' | 'aborted';
  /** Why the call was refused; absent when the caller left first. */
  readonly error?: LlmRouterError;
  /** The policy version the call was refused under. */
  readonly policyVersion?: string;
  /** What routing read of the request, when it got that far. */
  readonly needs?: RecordedNeeds;
}

/**
 * The routing record of a call that ended before any route was planned or
 * tried: refused by planning, by a budget (the router's or an app's own,
 * such as a gateway's per-key budget), or abandoned while the budget store
 * answered. No attempts, no tokens, no cost.
 */
export function unplannedRecord(policy: CompiledPolicy, { requestId, context, stream, outcome, error, policyVersion, needs }: UnplannedRecordInput): RoutingRecord {
  const trafficClass = context.trafficClass ?? policy.defaultClass;
  const startedAtMs = Date.now();
  return {
    requestId,
    startedAt: new Date(startedAtMs).toISOString(),
    startedAtMs,
    tenant: context.tenant,
    feature: context.feature,
    session: context.session,
    labels: context.labels,
    trafficClass,
    criticality: policy.classes.get(trafficClass)?.criticality,
    qualityFloor: context.qualityFloor,
    stream,
    plannedRoute: [],
    excluded: error?.excluded ?? [],
    attempts: [],
    fallback: false,
    outcome,
    errorCategory: error?.category,
    errorMessage: error?.message,
    promptTokens: 0,
    completionTokens: 0,
    usageEstimated: false,
    costUsd: 0,
    latencyMs: 0,
    ...(policyVersion !== undefined ? { policyVersion } : {}),
    ...(needs !== undefined ? { needs } : {}),
  };
}
