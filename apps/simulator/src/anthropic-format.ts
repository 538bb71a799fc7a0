/**
 * The Anthropic Messages wire format: request validation (anthropic-version,
 * max_tokens ...), JSON and SSE replies with the real event sequence, and the
 * real error bodies.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { ErrorKind } from './fault-rules.js';
import {
  estimateTokens,
  isRecord,
  reportedUsage,
  simulatedText,
  splitChunks,
  toolPlan,
  toolSaidText,
  type ErrorReply,
  type ParseResult,
  type ReplyPlan,
  type SimRequest,
  type StreamScript,
  type WireFormat,
} from './wire-format.js';

export type AnthropicErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'billing_error'
  | 'permission_error'
  | 'not_found_error'
  | 'request_too_large'
  | 'rate_limit_error'
  | 'api_error'
  | 'timeout_error'
  | 'overloaded_error';

export interface AnthropicErrorBody {
  type: 'error';
  error: { type: AnthropicErrorType; message: string };
}

export type AnthropicContentBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

export interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

export interface AnthropicMessage {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: AnthropicContentBlock[];
  stop_reason: 'end_turn' | 'tool_use' | 'max_tokens' | 'stop_sequence' | null;
  stop_sequence: string | null;
  usage: AnthropicUsage;
}

function body(type: AnthropicErrorType, message: string): AnthropicErrorBody {
  return { type: 'error', error: { type, message } };
}

function invalid(message: string): ErrorReply {
  return { status: 400, body: body('invalid_request_error', message) };
}

/** Text of a content value (string or blocks); tool_result blocks count only when `toolResults` is set. */
function blocksText(content: unknown, toolResults: boolean): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let out = '';
  let first = true;
  for (const block of content) {
    if (!isRecord(block)) continue;
    let text: string | undefined;
    if (block.type === 'text' && typeof block.text === 'string') text = block.text;
    else if (toolResults && block.type === 'tool_result') text = blocksText(block.content, false);
    if (text === undefined) continue;
    out = first ? text : `${out}\n${text}`;
    first = false;
  }
  return out;
}

/** Text of the last tool_result block of a message, or undefined if it has none. */
function lastToolResult(content: unknown): string | undefined {
  if (!Array.isArray(content)) return undefined;
  for (let i = content.length - 1; i >= 0; i--) {
    const block: unknown = content[i];
    if (isRecord(block) && block.type === 'tool_result') return blocksText(block.content, false);
  }
  return undefined;
}

function planFor(model: string, messages: Array<Record<string, unknown>>, raw: Record<string, unknown>): ReplyPlan {
  const last = messages[messages.length - 1]!;
  if (last.role === 'user') {
    const result = lastToolResult(last.content);
    if (result !== undefined) return { kind: 'text', text: toolSaidText(result) };
    const tools = raw.tools;
    const choice = isRecord(raw.tool_choice) ? raw.tool_choice : undefined;
    if (Array.isArray(tools) && tools.length > 0 && choice?.type !== 'none') {
      const first: unknown = tools[0];
      const name =
        choice?.type === 'tool' && typeof choice.name === 'string'
          ? choice.name
          : isRecord(first) && typeof first.name === 'string'
            ? first.name
            : 'tool';
      return toolPlan(name, blocksText(last.content, false));
    }
  }
  let userText = '';
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i]!.role === 'user') {
      userText = blocksText(messages[i]!.content, false);
      break;
    }
  }
  return { kind: 'text', text: simulatedText(model, userText) };
}

function parse(raw: string, headers: IncomingHttpHeaders): ParseResult {
  if (!headers['anthropic-version']) return { ok: false, error: invalid('anthropic-version: header is required') };
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, error: invalid('There was an error parsing the body of your request. Please make sure it is valid JSON.') };
  }
  if (!isRecord(json)) return { ok: false, error: invalid('Input should be a valid dictionary') };
  const model = json.model;
  if (model === undefined) return { ok: false, error: invalid('model: Field required') };
  if (typeof model !== 'string' || model.length === 0) return { ok: false, error: invalid('model: Input should be a valid string') };
  const fail = (message: string): ParseResult => ({ ok: false, model, error: invalid(message) });
  const maxTokens = json.max_tokens;
  if (maxTokens === undefined) return fail('max_tokens: Field required');
  if (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens)) return fail('max_tokens: Input should be a valid integer');
  if (maxTokens < 1) return fail('max_tokens: Input should be greater than or equal to 1');
  const messages = json.messages;
  if (messages === undefined) return fail('messages: Field required');
  if (!Array.isArray(messages)) return fail('messages: Input should be a valid list');
  if (messages.length === 0) return fail('messages: at least one message is required');

  const texts: string[] = [];
  let chars = 0;
  const system = blocksText(json.system, false);
  if (system.length > 0) {
    texts.push(system);
    chars += system.length;
  }
  for (let i = 0; i < messages.length; i++) {
    const m: unknown = messages[i];
    if (!isRecord(m)) return fail(`messages.${i}: Input should be a valid dictionary`);
    if (m.role !== 'user' && m.role !== 'assistant') return fail(`messages.${i}.role: Input should be 'user' or 'assistant'`);
    if (m.content === undefined) return fail(`messages.${i}.content: Field required`);
    if (typeof m.content !== 'string' && !Array.isArray(m.content)) return fail(`messages.${i}.content: Input should be a valid list`);
    const text = blocksText(m.content, true);
    texts.push(text);
    chars += text.length;
  }
  if (json.stream !== undefined && typeof json.stream !== 'boolean') return fail('stream: Input should be a valid boolean');
  return {
    ok: true,
    request: {
      model,
      stream: json.stream === true,
      includeUsage: false,
      texts,
      promptTokens: estimateTokens(chars),
      plan: planFor(model, messages as Array<Record<string, unknown>>, json),
    },
  };
}


function reply(req: SimRequest, seq: number): string {
  const plan = req.plan;
  const usage = reportedUsage(req);
  const message: AnthropicMessage = {
    id: `msg_sim_${seq}`,
    type: 'message',
    role: 'assistant',
    model: req.model,
    content: plan.kind === 'text' ? [{ type: 'text', text: plan.text }] : [{ type: 'tool_use', id: `toolu_sim_${seq}`, name: plan.toolName, input: plan.input }],
    stop_reason: plan.kind === 'text' ? 'end_turn' : 'tool_use',
    stop_sequence: null,
    usage: { input_tokens: usage.promptTokens, output_tokens: usage.completionTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
  };
  return JSON.stringify(message);
}

function event(name: string, data: string): string {
  return `event: ${name}\ndata: ${data}\n\n`;
}

function stream(req: SimRequest, seq: number, chunks: number): StreamScript {
  const plan = req.plan;
  const start = {
    type: 'message_start',
    message: {
      id: `msg_sim_${seq}`,
      type: 'message',
      role: 'assistant',
      model: req.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: reportedUsage(req).promptTokens, output_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    },
  };
  const block = plan.kind === 'text' ? { type: 'text', text: '' } : { type: 'tool_use', id: `toolu_sim_${seq}`, name: plan.toolName, input: {} };
  const head =
    event('message_start', JSON.stringify(start)) +
    event('content_block_start', JSON.stringify({ type: 'content_block_start', index: 0, content_block: block })) +
    event('ping', '{"type":"ping"}');
  const parts =
    plan.kind === 'text'
      ? splitChunks(plan.text, chunks).map((c) =>
          event('content_block_delta', `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":${JSON.stringify(c)}}}`),
        )
      : splitChunks(plan.arguments, chunks).map((c) =>
          event('content_block_delta', `{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":${JSON.stringify(c)}}}`),
        );
  const stopReason = plan.kind === 'text' ? 'end_turn' : 'tool_use';
  const tail =
    event('content_block_stop', '{"type":"content_block_stop","index":0}') +
    event(
      'message_delta',
      `{"type":"message_delta","delta":{"stop_reason":"${stopReason}","stop_sequence":null},"usage":{"output_tokens":${reportedUsage(req).completionTokens}}}`,
    ) +
    event('message_stop', '{"type":"message_stop"}');
  return { head, chunks: parts, tail };
}

function errorReply(kind: ErrorKind, model: string): ErrorReply {
  switch (kind) {
    case 'rate_limit':
      return {
        status: 429,
        body: body(
          'rate_limit_error',
          'This request would exceed the rate limit for your organization (org-sim) of 50 input tokens per minute. ' +
            'For details, refer to: https://docs.claude.com/en/api/rate-limits. You can see the response headers for current usage. ' +
            'Please reduce the prompt length or the maximum tokens requested, or try again later. ' +
            'You may also contact sales at https://www.anthropic.com/contact-sales to discuss your options for a rate limit increase.',
        ),
      };
    case 'quota':
      return {
        status: 400,
        body: body(
          'invalid_request_error',
          'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.',
        ),
      };
    case 'overloaded':
      return { status: 529, body: body('overloaded_error', 'Overloaded') };
    case 'server_error':
      return { status: 500, body: body('api_error', 'Internal server error') };
    case 'bad_gateway':
      return { status: 502, body: body('api_error', 'Bad gateway') };
    case 'auth':
      return { status: 401, body: body('authentication_error', 'invalid x-api-key') };
    case 'forbidden':
      return { status: 403, body: body('permission_error', 'Your API key does not have permission to use the specified resource.') };
    case 'model_not_found':
      return { status: 404, body: body('not_found_error', `model: ${model}`) };
    case 'context_length':
      return { status: 400, body: body('invalid_request_error', 'prompt is too long: 208310 tokens > 200000 maximum') };
    case 'content_filter':
      return { status: 400, body: body('invalid_request_error', 'Output blocked by content filtering policy') };
    case 'invalid_request':
      return { status: 400, body: body('invalid_request_error', 'temperature: Input should be less than or equal to 1') };
  }
}

const BY_STATUS: Record<number, [AnthropicErrorType, string]> = {
  400: ['invalid_request_error', 'Invalid request'],
  401: ['authentication_error', 'invalid x-api-key'],
  402: ['billing_error', 'Billing error'],
  403: ['permission_error', 'Your API key does not have permission to use the specified resource.'],
  404: ['not_found_error', 'Not found'],
  413: ['request_too_large', 'Request exceeds the maximum allowed number of bytes.'],
  429: ['rate_limit_error', 'Number of requests has exceeded your rate limit.'],
  500: ['api_error', 'Internal server error'],
  504: ['timeout_error', 'Request timed out'],
  529: ['overloaded_error', 'Overloaded'],
};

function statusReply(status: number, _model: string): ErrorReply {
  const known = BY_STATUS[status];
  if (known) return { status, body: body(known[0], known[1]) };
  return { status, body: status >= 500 ? body('api_error', 'Internal server error') : body('invalid_request_error', 'Invalid request') };
}

function streamError(kind: ErrorKind | undefined, model: string): string {
  const err = kind === undefined ? body('overloaded_error', 'Overloaded') : (errorReply(kind, model).body as AnthropicErrorBody);
  return event('error', JSON.stringify(err));
}

/** By default a content delta cut short: not JSON. */
function malformedEvent(data: string | undefined): string {
  return event('content_block_delta', data ?? '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":');
}

export const anthropicFormat: WireFormat = {
  name: 'anthropic',
  requestIdHeader: 'request-id',
  parse,
  reply,
  stream,
  errorReply,
  statusReply,
  invalidRequest: invalid,
  streamError,
  malformedEvent,
  notFound: (method, path) => ({ status: 404, body: body('not_found_error', `Not found: ${method} ${path}`) }),
};
