import { isoTime, type RoutingRecord } from '@llm-router/nestjs';
import { redactOptional } from './redact.js';

export type LineSink = (chunk: string) => void;

/** The buffer's size: a flush when the next line might not fit. */
const CAPACITY = 65_536;

/**
 * One JSON line per routed request, built from its routing record, with the
 * fields of every gateway log line (time, level, context, requestId, msg). Lines are
 * joined and written every `flushMs` (or when the buffer is full), not one syscall per
 * request. Nothing secret is in a record; free text is redacted anyway.
 *
 * Each line is encoded into one reused byte buffer as it is written, not kept as
 * a string until the flush: a line (a rope of ~40 pieces, ~2 kB of heap) held
 * up to 100 ms was alive at every young collection, ~50 kB a collection at
 * 32 connections, copied by the scavenger each time; bytes outside the heap are not.
 */
export class RequestLog {
  private bytes?: Buffer;
  private used = 0;
  private timer?: NodeJS.Timeout;

  /** A `sink` gets the joined lines as one string; without one they go to the standard output as bytes. */
  constructor(
    private readonly sink?: LineSink,
    private readonly flushMs = 100,
    private readonly capacity = CAPACITY,
  ) {}

  write(record: RoutingRecord, keyId: string | undefined): void {
    const line = requestLogLine(record, keyId, isoTime(Date.now()));
    // UTF-8 takes at most 3 bytes per UTF-16 unit (a surrogate pair: 4 for 2), and 1 more for the newline.
    const most = line.length * 3 + 1;
    if (most > this.capacity - this.used) {
      this.flush();
      // A line longer than the buffer could hold (a header kilobytes long with API keys off) goes out alone.
      if (most > this.capacity) return this.out(`${line}\n`);
    }
    const bytes = (this.bytes ??= Buffer.allocUnsafeSlow(this.capacity));
    this.used += bytes.write(line, this.used);
    bytes[this.used++] = 0x0a;
    if (this.timer === undefined) {
      this.timer = setTimeout(() => this.flush(), this.flushMs);
      this.timer.unref();
    }
  }

  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.used === 0) return;
    const used = this.used;
    this.used = 0;
    // A copy to the standard output: a pipe may still hold it when the buffer is written again.
    this.out(this.sink ? this.bytes!.toString('utf8', 0, used) : Buffer.from(this.bytes!.subarray(0, used)));
  }

  private out(chunk: string | Buffer): void {
    if (this.sink) this.sink(chunk.toString());
    else process.stdout.write(chunk);
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
