import { randomBytes } from 'node:crypto';
import type { CompiledPolicy, RoutingRecord } from '@llm-router/nestjs';
import { redactOptional } from '../logging/redact.js';
import { json, jsonStrings } from './json-text.js';
import type { RecordRow } from '../store/gateway-store.js';

let lastIso = '';
let lastMs = Number.NaN;

/** Date.parse, remembered for the last text: records that start within the same millisecond carry the same text. */
function parseIso(iso: string): number {
  if (iso !== lastIso) {
    lastMs = Date.parse(iso);
    lastIso = iso;
  }
  return lastMs;
}

/** Record ids: unique per process (a random prefix) and per record (a counter). */
const RECORD_ID_PREFIX = randomBytes(9).toString('base64url');
let recordSeq = 0;

/** A routing record as a store row; free text is redacted, the key id attached, a unique record id given. */
export function toRecordRow(record: RoutingRecord, keyId: string | undefined, policy: CompiledPolicy): RecordRow {
  const primaryModel = record.plannedRoute[0] ?? null;
  const startedAt = parseIso(record.startedAt);
  return {
    recordId: `${RECORD_ID_PREFIX}.${(++recordSeq).toString(36)}`,
    requestId: record.requestId,
    startedAt: Number.isFinite(startedAt) ? startedAt : Date.now(),
    tenant: record.tenant ?? null,
    keyId: keyId ?? null,
    feature: record.feature ?? null,
    session: record.session ?? null,
    trafficClass: record.trafficClass,
    criticality: record.criticality ?? null,
    stream: record.stream,
    outcome: record.outcome,
    errorCategory: record.errorCategory ?? null,
    errorMessage: redactOptional(record.errorMessage),
    primaryModel,
    primaryProvider: primaryModel ? (policy.models.get(primaryModel)?.provider.name ?? null) : null,
    servedModel: record.servedBy?.model ?? null,
    servedProvider: record.servedBy?.provider ?? null,
    upstreamModel: record.servedBy?.upstreamModel ?? null,
    fallback: record.fallback,
    upstreamCalls: upstreamCalls(record),
    promptTokens: record.promptTokens,
    completionTokens: record.completionTokens,
    usageEstimated: record.usageEstimated,
    costUsd: record.costUsd,
    latencyMs: record.latencyMs,
    firstChunkMs: record.firstChunkMs ?? null,
    budgetTier: record.budget?.tier ?? null,
    budgetShare: record.budget?.shareUsed ?? null,
    budgetAction: record.budget?.action ?? null,
    detail: detailOf(record),
    attempts: record.attempts.map((a, seq) => ({
      seq,
      model: a.model,
      provider: a.provider,
      outcome: a.outcome,
      category: a.category ?? null,
      status: a.status ?? null,
      code: a.code ?? null,
      latencyMs: a.latencyMs,
      waitedMs: a.waitedMs ?? null,
    })),
  };
}

/** Attempts that reached a provider (a counting loop: no array per record). */
function upstreamCalls(record: RoutingRecord): number {
  let n = 0;
  for (const a of record.attempts) if (a.outcome !== 'skipped') n++;
  return n;
}

/**
 * The record's detail as JSON text, in the order the text has always had its
 * fields: concatenated, its keys written as they are and its text and numbers
 * by json-text.ts, JSON.stringify only for the objects routing passes through
 * (exclusions, needs, a session move, notes), which no object is built to hold.
 */
function detailOf(record: RoutingRecord): string {
  let text = `{"plannedRoute":${jsonStrings(record.plannedRoute)},"excluded":${record.excluded.length === 0 ? '[]' : JSON.stringify(record.excluded)}`;
  if (record.qualityFloor) text += `,"qualityFloor":${JSON.stringify(record.qualityFloor)}`;
  if (record.requestedModel !== undefined) text += `,"requestedModel":${json(record.requestedModel)}`;
  if (record.policyVersion !== undefined) text += `,"policyVersion":${json(record.policyVersion)}`;
  // What routing read of the request: POST /admin/policy/simulate plans it again from this.
  if (record.needs !== undefined) text += `,"needs":${JSON.stringify(record.needs)}`;
  // What the serving attempt reserved, its overshoot and the budget left (issue #13, item 4).
  const budget = record.budget;
  if (budget?.reservedUsd !== undefined) {
    text += `,"budget":{"reservedUsd":${json(budget.reservedUsd)},"overshootUsd":${json(budget.overshootUsd ?? 0)},"remainingUsd":${json(budget.remainingUsd ?? null)}}`;
  }
  // A session turn: the session's previous target and, on the turn it moved, from where, to where and why (issue #15).
  if (record.sessionTarget !== undefined) text += `,"sessionTarget":${json(record.sessionTarget)}`;
  if (record.sessionMove) text += `,"sessionMove":${JSON.stringify(record.sessionMove)}`;
  // What the router changed in the conversation per attempt (trimmed turns, dropped provider state), by attempt number.
  let notes: Array<{ seq: number; model: string; notes: readonly string[] }> | undefined;
  for (let seq = 0; seq < record.attempts.length; seq++) {
    const a = record.attempts[seq]!;
    if (a.notes) (notes ??= []).push({ seq, model: a.model, notes: a.notes });
  }
  if (notes) text += `,"attemptNotes":${JSON.stringify(notes)}`;
  return `${text}}`;
}
