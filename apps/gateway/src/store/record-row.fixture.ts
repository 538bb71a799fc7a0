import type { RecordRow } from './gateway-store.js';

/** A routing-record row for store and writer specs: one successful attempt, $0.001. */
export function row(i: number, tenant = 't'): RecordRow {
  return {
    recordId: `rec-${i}`,
    requestId: `r${i}`,
    startedAt: Date.now(),
    tenant,
    keyId: null,
    feature: null,
    session: null,
    trafficClass: 'general',
    criticality: 'standard',
    stream: false,
    outcome: 'success',
    errorCategory: null,
    errorMessage: null,
    primaryModel: 'a',
    primaryProvider: 'p',
    servedModel: 'a',
    servedProvider: 'p',
    upstreamModel: 'a',
    fallback: false,
    upstreamCalls: 1,
    promptTokens: 1,
    completionTokens: 2,
    usageEstimated: false,
    costUsd: 0.001,
    latencyMs: 5,
    firstChunkMs: null,
    budgetTier: null,
    budgetShare: null,
    budgetAction: null,
    detail: '{}',
    attempts: [{ seq: 0, model: 'a', provider: 'p', outcome: 'success', category: null, status: 200, code: null, latencyMs: 5, waitedMs: null }],
  };
}
