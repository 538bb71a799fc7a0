import { isoTime, type RoutingRecord } from '@llm-router/nestjs';
import { redactOptional } from './redact.js';

export type LineSink = (chunk: string) => void;

/**
 * One JSON line per routed request, built from its routing record, with the
 * fields of every gateway log line (time, level, context, requestId, msg). Lines are
 * joined and written every `flushMs` (or at 64 KiB), not one syscall per
 * request. Nothing secret is in a record; free text is redacted anyway.
 */
export class RequestLog {
  private buffer = '';
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly sink: LineSink = (chunk) => void process.stdout.write(chunk),
    private readonly flushMs = 100,
  ) {}

  write(record: RoutingRecord, keyId: string | undefined): void {
    this.buffer += `${requestLogLine(record, keyId, isoTime(Date.now()))}\n`;
    if (this.buffer.length >= 65_536) this.flush();
    else if (this.timer === undefined) {
      this.timer = setTimeout(() => this.flush(), this.flushMs);
      this.timer.unref();
    }
  }

  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.buffer === '') return;
    const chunk = this.buffer;
    this.buffer = '';
    this.sink(chunk);
  }
}

const str = JSON.stringify as (value: string) => string;

/**
 * JSON text of the strings that recur from line to line (models, providers, the class, the outcome, the tenant,
 * its key), each quoted once: a JSON.stringify call costs about six times a lookup here (callgrind), and a line
 * has a dozen of them. Bounded: a caller's many features cannot grow it. Not kept: a session (seldom on many lines),
 * an error's text and a budget action (their figures vary from call to call: they would only churn the map).
 */
const quotedValues = new Map<string, string>();
const MAX_QUOTED = 1024;

/** Longer values are quoted per line: with API keys off, a tenant or feature header can be kilobytes long. */
const MAX_QUOTED_LENGTH = 256;

function quoted(value: string): string {
  if (value.length > MAX_QUOTED_LENGTH) return str(value);
  let text = quotedValues.get(value);
  if (text === undefined) {
    text = str(value);
    if (quotedValues.size >= MAX_QUOTED) quotedValues.clear();
    quotedValues.set(value, text);
  }
  return text;
}

/** A recurring string, or null for absent. */
const optional = (value: string | null | undefined): string => (value === undefined || value === null ? 'null' : quoted(value));
/** A string seldom on many lines (a session, an error's text), or null for absent. */
const optionalOnce = (value: string | null | undefined): string => (value === undefined || value === null ? 'null' : str(value));
/** As JSON.stringify writes a number: null for NaN and infinities. */
const num = (value: number): string => (Number.isFinite(value) ? String(value) : 'null');

/**
 * The line for one record, as JSON text. Written field by field rather than
 * through an intermediate object and JSON.stringify: this runs for every
 * routed call, and it costs a third as much (about 2 µs against 6 µs, with
 * the time formatting, on the benchmark machine). Every string from the record is
 * JSON-escaped; the spec parses the lines it writes.
 */
export function requestLogLine(record: RoutingRecord, keyId: string | undefined, time: string): string {
  let route = '';
  for (const model of record.plannedRoute) route += (route === '' ? '' : ',') + quoted(model);
  let attempts = '';
  for (const a of record.attempts) {
    attempts +=
      `${attempts === '' ? '' : ','}{"model":${quoted(a.model)},"outcome":${quoted(a.outcome)}` +
      (a.category ? `,"category":${quoted(a.category)}` : '') +
      (a.status !== undefined ? `,"status":${num(a.status)}` : '') +
      `,"latencyMs":${num(Math.round(a.latencyMs))}}`;
  }
  const budget = record.budget;
  return (
    `{"time":${str(time)},"level":"${record.outcome === 'success' ? 'info' : 'warn'}","context":"Request"` +
    `,"requestId":${str(record.requestId)},"msg":"llm.request","tenant":${optional(record.tenant)},"keyId":${optional(keyId)}` +
    `,"feature":${optional(record.feature)},"session":${optionalOnce(record.session)},"class":${quoted(record.trafficClass)}` +
    `,"stream":${record.stream},"outcome":${quoted(record.outcome)}` +
    `,"model":${optional(record.servedBy?.model)},"provider":${optional(record.servedBy?.provider)},"fallback":${record.fallback}` +
    `,"plannedRoute":[${route}],"attempts":[${attempts}]` +
    `,"errorCategory":${optional(record.errorCategory)},"error":${optionalOnce(redactOptional(record.errorMessage, 500))}` +
    `,"promptTokens":${num(record.promptTokens)},"completionTokens":${num(record.completionTokens)},"costUsd":${num(record.costUsd)}` +
    `,"latencyMs":${num(Math.round(record.latencyMs))}` +
    (record.firstChunkMs !== undefined ? `,"firstChunkMs":${num(Math.round(record.firstChunkMs))}` : '') +
    (budget
      ? `,"budget":{"tier":${quoted(budget.tier)},"shareUsed":${num(budget.shareUsed)}${budget.action ? `,"action":${str(budget.action)}` : ''}}`
      : '') +
    '}'
  );
}
