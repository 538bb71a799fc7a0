/**
 * What each failed stream of the open-stream run was, kept so that a run's
 * errors can be explained afterwards: an HTTP error's status and OpenAI error
 * body, a socket error's code and whether the response head had come, a
 * stream's own error event; each with the time since its request. Counted by
 * kind, and, for an llm-router gateway, its routing records of the failed
 * calls: each call's attempts and their failure codes.
 */
import { httpJson } from './processes.js';

export type StreamFailure =
  | { readonly kind: 'http'; readonly status: number; readonly code?: string; readonly type?: string; readonly message?: string; readonly atMs: number }
  | { readonly kind: 'socket'; readonly code: string; readonly afterHead: boolean; readonly atMs: number }
  /** An error event in a 200 stream, or a stream that ended without what it should carry. */
  | { readonly kind: 'stream'; readonly code?: string; readonly message: string; readonly atMs: number };

/** Failures of one kind, counted, with their times (ms: least, median, most) and one message of the kind, as the server wrote it. */
export interface FailureGroup {
  readonly what: string;
  readonly count: number;
  readonly minMs: number;
  readonly medianMs: number;
  readonly maxMs: number;
  readonly message?: string;
}

/** The failed calls of a gateway as its routing records tell them (the call's category and each attempt's code); times are the calls' latency in the gateway. */
export type RecordGroup = FailureGroup;

/** The longest part of a message kept (OpenAI's messages name the request and the target, and some are long). */
const MESSAGE_CHARS = 200;
/** Distinct kinds kept per target. */
const GROUPS = 8;

/** An HTTP error answer: its status and, when the body is an OpenAI error, its code, type and message. */
export function httpFailure(status: number, body: string, atMs: number): StreamFailure {
  let error: { code?: unknown; type?: unknown; message?: unknown } | undefined;
  try {
    error = (JSON.parse(body) as { error?: typeof error }).error;
  } catch {
    // Not JSON (a proxy's own page, or nothing): the status alone.
  }
  const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const message = text(error?.message) ?? (body.trim() ? body.trim().slice(0, MESSAGE_CHARS) : undefined);
  return { kind: 'http', status, code: text(error?.code), type: text(error?.type), message: message?.slice(0, MESSAGE_CHARS), atMs };
}

/** A socket error: its code (ECONNRESET, ...) and whether the response head had come. */
export function socketFailure(err: NodeJS.ErrnoException, afterHead: boolean, atMs: number): StreamFailure {
  return { kind: 'socket', code: err.code ?? err.message, afterHead, atMs };
}

/** An SSE event carrying an OpenAI error (`data: {"error":{...}}`), or undefined. */
export function streamErrorEvent(event: string, atMs: number): StreamFailure | undefined {
  const at = event.indexOf('data: {"error"');
  if (at < 0) return undefined;
  const f = httpFailure(200, event.slice(at + 6), atMs);
  return f.kind === 'http' ? { kind: 'stream', code: f.code, message: f.message ?? 'error event', atMs } : undefined;
}

/** The name a failure is counted under: what it was, without what differs from one request to the next. */
export function failureKind(f: StreamFailure): string {
  switch (f.kind) {
    case 'http':
      return `HTTP ${f.status}${f.code ? ` ${f.code}` : ''}${f.type ? ` (${f.type})` : ''}`;
    case 'socket':
      return `${f.code} ${f.afterHead ? 'after' : 'before'} the response head`;
    case 'stream':
      return `error event${f.code ? ` ${f.code}` : ''} in the stream`;
  }
}

/** Counts `items` by `kind`, most first, the first few kinds, each with its times and its first message. */
function countKinds<T>(items: readonly T[], kind: (item: T) => string, ms: (item: T) => number, message: (item: T) => string | undefined): FailureGroup[] {
  const byKind = new Map<string, T[]>();
  for (const item of items) {
    const k = kind(item);
    const list = byKind.get(k);
    if (list) list.push(item);
    else byKind.set(k, [item]);
  }
  return [...byKind]
    .sort((a, b) => b[1].length - a[1].length)
    .slice(0, GROUPS)
    .map(([what, list]) => {
      const times = list.map(ms).sort((a, b) => a - b);
      return { what, count: list.length, minMs: times[0]!, medianMs: times[times.length >> 1]!, maxMs: times[times.length - 1]!, message: list.map(message).find((m) => m !== undefined) };
    });
}

/** Counts failures by kind (failureKind), the time being the one since the request. */
export const groupFailures = (failures: readonly StreamFailure[]): FailureGroup[] =>
  countKinds(failures, failureKind, (f) => f.atMs, (f) => (f.kind === 'socket' ? undefined : f.message));

/** The short form for a table cell: each kind and its count. */
export const failuresCell = (groups: readonly FailureGroup[]): string => groups.map((g) => `${g.what}: ${g.count}`).join('; ');

interface RecordView {
  startedAt: string;
  outcome: string;
  errorCategory: string | null;
  errorMessage: string | null;
  latencyMs: number;
  attempts: { code: string | null; outcome: string; status: number | null }[];
}

/**
 * The gateway's routing records of the failed calls of one traffic class
 * since `since` (GET /admin/records, newest first, every page), counted by the
 * call's category and its attempts' codes in order.
 */
export async function failedCallRecords(gatewayUrl: string, adminHeaders: Record<string, string>, trafficClass: string, since: number): Promise<RecordGroup[]> {
  const records: RecordView[] = [];
  let cursor: string | null = null;
  for (;;) {
    const q: string = `outcome=failure&class=${encodeURIComponent(trafficClass)}&limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const r = await httpJson(`${gatewayUrl}/admin/records?${q}`, 'GET', undefined, adminHeaders);
    if (r.status !== 200) throw new Error(`GET /admin/records: HTTP ${r.status} ${r.text.slice(0, 200)}`);
    const page = r.json() as { data: RecordView[]; next_cursor: string | null };
    const recent = page.data.filter((rec) => Date.parse(rec.startedAt) >= since);
    records.push(...recent);
    // Newest first: a page reaching back before `since` is the last one needed.
    if (!page.next_cursor || recent.length < page.data.length) break;
    cursor = page.next_cursor;
  }
  return countKinds(
    records,
    (rec) => `${rec.errorCategory ?? rec.outcome}: ${rec.attempts.map((a) => a.code ?? (a.status !== null ? `HTTP ${a.status}` : a.outcome)).join(' → ') || 'no attempt'}`,
    (rec) => rec.latencyMs,
    (rec) => rec.errorMessage?.slice(0, MESSAGE_CHARS) ?? undefined,
  );
}

const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(0) : '–');

/** The lines of the results file's failure breakdown for one target: the client's view, then the gateway's records. */
export function failureLines(label: string, failures: readonly FailureGroup[], records: readonly RecordGroup[] | undefined): string[] {
  if (failures.length === 0) return [];
  const quote = (m?: string) => (m ? ` ("${m.replace(/\|/g, '\\|').replace(/\s+/g, ' ')}")` : '');
  return [
    `- ${label}:`,
    ...failures.map((g) => `  - ${g.count} × ${g.what}, ${ms(g.minMs)}/${ms(g.medianMs)}/${ms(g.maxMs)} ms after the request (least/median/most)${quote(g.message)}`),
    ...(records ?? []).map((g) => `  - gateway records: ${g.count} × ${g.what}, ${ms(g.minMs)}/${ms(g.medianMs)}/${ms(g.maxMs)} ms in the gateway${quote(g.message)}`),
  ];
}
