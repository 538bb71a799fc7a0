/**
 * What the simulator needs from a provider wire format (OpenAI, Anthropic):
 * parse and validate a request, render a reply as JSON or SSE, and render the
 * provider's real error bodies. The server stays format-agnostic.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { ErrorKind, SimFormat } from './fault-rules.js';

/** What the simulated model is going to say. */
export type ReplyPlan =
  | { kind: 'text'; text: string }
  | {
      kind: 'tool';
      toolName: string;
      /** JSON text; a custom tool's (OpenAI) free-form input. */
      arguments: string;
      input: Record<string, unknown>;
      /** An OpenAI custom tool: the call is `{"type":"custom","custom":{"name","input"}}`. */
      custom?: boolean;
    };

/** A validated chat request, reduced to what the simulator acts on. */
export interface SimRequest {
  model: string;
  stream: boolean;
  /** OpenAI `stream_options.include_usage`. */
  includeUsage: boolean;
  /** Every text found in the request (system, messages, tool results): scanned for `[[sim ...]]`. */
  texts: string[];
  promptTokens: number;
  plan: ReplyPlan;
  /** The fault's `usageScale`: reported usage is this many times the tokens counted. */
  usageScale?: number;
}

export interface ErrorReply {
  status: number;
  body: unknown;
}

export type ParseResult = { ok: true; request: SimRequest } | { ok: false; error: ErrorReply; model?: string };

/** An SSE reply cut into what comes before, during and after the content. */
export interface StreamScript {
  /** Frames before the first content fragment (role chunk, message_start ...). */
  head: string;
  /** One frame per content fragment: what `streamCutAfter` / `streamErrorAfter` count. */
  chunks: string[];
  /** Closing frames (finish chunk, usage, [DONE] / message_stop ...). */
  tail: string;
}

export interface WireFormat {
  readonly name: SimFormat;
  /** Header carrying the request id (`x-request-id` / `request-id`). */
  readonly requestIdHeader: string;
  parse(raw: string, headers: IncomingHttpHeaders): ParseResult;
  /** The non-streaming reply, as JSON text. */
  reply(req: SimRequest, seq: number): string;
  stream(req: SimRequest, seq: number, chunks: number): StreamScript;
  /** The provider's real status and body for a failure kind. */
  errorReply(kind: ErrorKind, model: string): ErrorReply;
  /** The provider's generic body for a bare status. */
  statusReply(status: number, model: string): ErrorReply;
  /** A 400 invalid-request body carrying `message`. */
  invalidRequest(message: string): ErrorReply;
  /** The SSE frame(s) that report an error inside a 200 stream. */
  streamError(kind: ErrorKind | undefined, model: string): string;
  /** One SSE event the format's client cannot read: `data` as its data, or the format's own default. */
  malformedEvent(data: string | undefined): string;
  notFound(method: string, path: string): ErrorReply;
}

/** Default number of content fragments in a streamed reply. */
export const DEFAULT_CHUNKS = 8;

/** ceil(chars / 4): the simulator's token estimate. */
export function estimateTokens(chars: number): number {
  return Math.ceil(chars / 4);
}

/** The usage a reply reports: the tokens counted, scaled by the fault's `usageScale` (rounded up). */
export function reportedUsage(req: SimRequest): { promptTokens: number; completionTokens: number } {
  const plan = req.plan;
  const completion = estimateTokens(plan.kind === 'text' ? plan.text.length : plan.arguments.length);
  const scale = req.usageScale ?? 1;
  return { promptTokens: Math.ceil(req.promptTokens * scale), completionTokens: Math.ceil(completion * scale) };
}

/** Split `text` into at most `n` fragments of nearly equal length (never empty ones). */
export function splitChunks(text: string, n: number): string[] {
  if (text.length === 0) return [];
  const count = Math.max(1, Math.min(Math.floor(n) || 1, text.length));
  const size = Math.ceil(text.length / count);
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    let end = Math.min(i + size, text.length);
    // Never split a surrogate pair.
    if (end < text.length && isHighSurrogate(text.charCodeAt(end - 1))) end++;
    out.push(text.slice(i, end));
    i = end;
  }
  return out;
}

/** The first `n` UTF-16 units of `text`, without a dangling high surrogate. */
export function head(text: string, n: number): string {
  if (text.length <= n) return text;
  const cut = text.slice(0, n);
  return isHighSurrogate(cut.charCodeAt(n - 1)) ? cut.slice(0, n - 1) : cut;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

export function simulatedText(model: string, lastUserText: string): string {
  return `Simulated reply from ${model}: ${head(lastUserText, 60)}`;
}

export function toolSaidText(result: string): string {
  return `Tool said: ${result}`;
}

export function toolPlan(toolName: string, query: string): ReplyPlan {
  const input = { query };
  return { kind: 'tool', toolName, arguments: JSON.stringify(input), input };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** JSON-ish type name for error messages. */
export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}
