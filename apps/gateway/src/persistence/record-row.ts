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
    lastMs = utcOfIso(iso);
    lastIso = iso;
  }
  return lastMs;
}

/** The decimal number the digits at [from, from + count) make; NaN when one is not a digit. */
function digits(text: string, from: number, count: number): number {
  let n = 0;
  for (let i = from; i < from + count; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return Number.NaN;
    n = n * 10 + d;
  }
  return n;
}

/**
 * `Date.parse(iso)`, read digit by digit (3.5k instructions fewer a record)
 * for the text `Date#toISOString` writes, `YYYY-MM-DDTHH:mm:ss.sssZ`, with
 * every field in a range where both agree (a day past its month's end is
 * carried into the next month by both); leap seconds, years before 1000 (Date.UTC
 * reads 0-99 as 19xx) and any other text go to Date.parse.
 */
function utcOfIso(iso: string): number {
  if (iso.length !== 24 || iso.charCodeAt(4) !== 45 || iso.charCodeAt(7) !== 45 || iso.charCodeAt(10) !== 84 || iso.charCodeAt(13) !== 58 || iso.charCodeAt(16) !== 58 || iso.charCodeAt(19) !== 46 || iso.charCodeAt(23) !== 90) {
    return Date.parse(iso);
  }
  const year = digits(iso, 0, 4);
  const month = digits(iso, 5, 2);
  const day = digits(iso, 8, 2);
  const hour = digits(iso, 11, 2);
  const minute = digits(iso, 14, 2);
  const second = digits(iso, 17, 2);
  const ms = digits(iso, 20, 3);
  // A comparison with NaN is false: a field that is not digits goes to Date.parse too.
  if (!(year >= 1000 && month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour <= 23 && minute <= 59 && second <= 59 && ms >= 0)) return Date.parse(iso);
  return Date.UTC(year, month - 1, day, hour, minute, second, ms);
}

/** Record ids: unique per process (a random prefix) and per record (a counter). */
const RECORD_ID_PREFIX = randomBytes(9).toString('base64url');
let recordSeq = 0;

/** A routing record as a store row; free text is redacted, the key id attached, a unique record id given. */
export function toRecordRow(record: RoutingRecord, keyId: string | undefined, policy: CompiledPolicy): RecordRow {
  const primaryModel = record.plannedRoute[0] ?? null;
  // The router's records carry the start as a number too (the text's parse was ~1.8k instructions a record); a
  // record without it (an app's own, an older library's) has its text parsed. A fraction (a virtual clock) is left to
  // the text, which holds whole milliseconds.
  const startedAtMs = record.startedAtMs;
  const startedAt = startedAtMs !== undefined && Number.isSafeInteger(startedAtMs) ? startedAtMs : parseIso(record.startedAt);
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
