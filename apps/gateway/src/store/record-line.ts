import type { AttemptRow, LineValues, RecordRow } from './gateway-store.js';
import { ATTEMPT_COLUMNS, attemptParams, RECORD_COLUMNS, recordParams } from './sql-gateway-store.js';
import { storableParams } from './storable-text.js';

/**
 * A routing record's one serialized form: `[version, record values,
 * attempts' values]`, each in the order of the store's insert columns (the
 * very parameters the store binds, their text storable), not an object: no
 * key names to write, half the bytes and about 40 % less time to serialize
 * than `JSON.stringify(row)`. Made once per record on the main thread (by the
 * journal, or by the record thread's sender when there is no journal) and
 * kept on the row: the journal writes it, the record thread is posted it (a
 * string's bytes are copied, a row object would be cloned field by field) and
 * parses it there. A row is not changed once made: what is kept stays its
 * true form. Bump the version when the columns change.
 */
const VERSION = 1;

/** The row's insert parameters, as a line holds them: made on first need and kept on the row (a store inserting on the main thread binds them). */
export function lineValues(r: RecordRow): LineValues {
  return (r.values ??= storable([VERSION, recordParams(r), attemptParams(r)]));
}

/**
 * The row's line, made on first need and kept on the row; the values it is
 * made of are not kept (a row waiting for its batch holds its line only).
 */
export function recordLine(r: RecordRow): string {
  if (r.line !== undefined) return r.line;
  if (r.values !== undefined) return (r.line = JSON.stringify(r.values));
  const values: LineValues = [VERSION, recordParams(r), attemptParams(r)];
  const line = JSON.stringify(values);
  // JSON writes U+0000 as `\u0000` and half a surrogate pair as `\udXXX`: only a line with such text (rarely, a literal backslash-u
  // in the text) needs its values made storable, instead of a scan of every text value of every record. A line without any
  // `\u` (nearly all) is scanned once.
  return (r.line = line.includes('\\u') && (line.includes('\\u0000') || line.includes('\\ud')) ? JSON.stringify(storable(values)) : line);
}

/** Half of a surrogate pair without its other half (text cut between the two): not a character, and not UTF-8. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * The values with every text made storable (storable-text.ts), in place; and
 * half a surrogate pair made U+FFFD, as a driver's UTF-8 writes it: a line
 * keeps it as an escape that PostgreSQL's JSON functions refuse.
 */
function storable(values: LineValues): LineValues {
  for (const params of [values[1], ...values[2]]) {
    storableParams(params);
    for (let i = 0; i < params.length; i++) {
      const p = params[i];
      if (typeof p === 'string' && p.search(LONE_SURROGATE) !== -1) params[i] = p.replace(LONE_SURROGATE, '\uFFFD');
    }
  }
  return values;
}

/**
 * Drops the kept forms (about 1.1 KB for a two-attempt record): a row held
 * long, while the store fails, keeps only its fields; they are made again
 * when the store is tried next.
 */
export function forgetLine(r: RecordRow): void {
  r.values = undefined;
  r.line = undefined;
}

/** The values of a line; undefined for a line that is not one (torn by a crash, or another version). */
export function valuesOfLine(text: string): LineValues | undefined {
  let line: LineValues;
  try {
    line = JSON.parse(text) as LineValues;
  } catch {
    return undefined;
  }
  if (!Array.isArray(line) || line[0] !== VERSION || !Array.isArray(line[1]) || line[1].length !== RECORD_COLUMNS.length || !Array.isArray(line[2])) return undefined;
  return line;
}

const col = Object.fromEntries(RECORD_COLUMNS.map((c, i) => [c, i])) as Record<(typeof RECORD_COLUMNS)[number], number>;
const att = Object.fromEntries(ATTEMPT_COLUMNS.map((c, i) => [c, i])) as Record<(typeof ATTEMPT_COLUMNS)[number], number>;

/** The row of a journal line (carrying the line itself); undefined for a line that is not one. */
export function rowOfLine(text: string): RecordRow | undefined {
  const line = valuesOfLine(text);
  if (line === undefined) return undefined;
  const v = line[1];
  const s = (c: keyof typeof col) => v[col[c]] as string;
  const n = (c: keyof typeof col) => v[col[c]] as number;
  const sn = (c: keyof typeof col) => v[col[c]] as string | null;
  const nn = (c: keyof typeof col) => v[col[c]] as number | null;
  return {
    recordId: s('record_id'),
    requestId: s('request_id'),
    startedAt: n('started_at'),
    tenant: sn('tenant'),
    keyId: sn('key_id'),
    feature: sn('feature'),
    session: sn('session_id'),
    trafficClass: s('traffic_class'),
    criticality: sn('criticality'),
    stream: n('stream') === 1,
    outcome: s('outcome'),
    errorCategory: sn('error_category'),
    errorMessage: sn('error_message'),
    primaryModel: sn('primary_model'),
    primaryProvider: sn('primary_provider'),
    servedModel: sn('served_model'),
    servedProvider: sn('served_provider'),
    upstreamModel: sn('upstream_model'),
    fallback: n('fallback') === 1,
    upstreamCalls: n('upstream_calls'),
    promptTokens: n('prompt_tokens'),
    completionTokens: n('completion_tokens'),
    usageEstimated: n('usage_estimated') === 1,
    costUsd: n('cost_usd'),
    latencyMs: n('latency_ms'),
    firstChunkMs: nn('first_chunk_ms'),
    budgetTier: sn('budget_tier'),
    budgetShare: nn('budget_share'),
    budgetAction: sn('budget_action'),
    detail: s('detail'),
    attempts: line[2].map(
      (a): AttemptRow => ({
        seq: a[att.seq] as number,
        model: a[att.model] as string,
        provider: a[att.provider] as string,
        outcome: a[att.outcome] as string,
        category: a[att.category] as string | null,
        status: a[att.status] as number | null,
        code: a[att.code] as string | null,
        latencyMs: a[att.latency_ms] as number,
        waitedMs: a[att.waited_ms] as number | null,
      }),
    ),
    // A line made before half surrogate pairs were made storable is made again from the fields (recordLine).
    line: text.includes('\\ud') ? undefined : text,
  };
}
