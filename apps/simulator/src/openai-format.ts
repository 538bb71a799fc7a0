/**
 * The OpenAI chat-completions wire format: request validation, JSON and SSE
 * replies, and the real error bodies OpenAI (and Azure OpenAI) send.
 */
import { STATUS_CODES } from 'node:http';
import type {
  ChatCompletion,
  ChatMessage,
  ToolCall,
  ToolCallDelta,
  Usage,
} from '@llm-router/nestjs';
import type { ErrorKind } from './fault-rules.js';
import {
  estimateTokens,
  isRecord,
  reportedUsage,
  simulatedText,
  splitChunks,
  toolPlan,
  toolSaidText,
  typeName,
  type ErrorReply,
  type ParseResult,
  type ReplyPlan,
  type SimRequest,
  type StreamScript,
  type WireFormat,
} from './wire-format.js';

export interface OpenAIErrorBody {
  error: { message: string; type: string | null; param: string | null; code: string | number | null; [extra: string]: unknown };
}

function body(message: string, type: string | null, code: string | number | null = null, param: string | null = null): OpenAIErrorBody {
  return { error: { message, type, param, code } };
}

function invalid(message: string, param: string | null = null, code: string | null = null): ErrorReply {
  return { status: 400, body: body(message, 'invalid_request_error', code, param) };
}

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool', 'function']);

const INVALID_JSON =
  "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. " +
  'The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, ' +
  'please contact us through our help center at help.openai.com.)';

/** Text of a message's content: a string, or its text parts joined by newlines. */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let out = '';
  let first = true;
  for (const part of content) {
    if (isRecord(part) && part.type === 'text' && typeof part.text === 'string') {
      out = first ? part.text : `${out}\n${part.text}`;
      first = false;
    }
  }
  return out;
}

/** A tool's (or a named tool choice's) name and whether it is a custom tool. */
function namedTool(tool: unknown): { name: string; custom: boolean } | undefined {
  if (!isRecord(tool)) return undefined;
  const spec = tool.type === 'custom' ? tool.custom : tool.function;
  return isRecord(spec) && typeof spec.name === 'string' ? { name: spec.name, custom: tool.type === 'custom' } : undefined;
}

/** The tool the simulated model calls: the one `tool_choice` names, the first `allowed_tools` allows, or the first tool. */
function chosenTool(tools: unknown[], choice: unknown): { name: string; custom: boolean } {
  const named = isRecord(choice) && choice.type === 'allowed_tools' && isRecord(choice.allowed_tools) && Array.isArray(choice.allowed_tools.tools)
    ? namedTool(choice.allowed_tools.tools[0])
    : namedTool(choice);
  return named ?? namedTool(tools[0]) ?? { name: 'tool', custom: false };
}

function planFor(model: string, messages: ChatMessage[], texts: string[], raw: Record<string, unknown>): ReplyPlan {
  const last = messages[messages.length - 1]!;
  let plan: ReplyPlan | undefined;
  if (last.role === 'tool') {
    plan = { kind: 'text', text: toolSaidText(texts[texts.length - 1] ?? '') };
  } else if (last.role === 'user' && Array.isArray(raw.tools) && raw.tools.length > 0 && raw.tool_choice !== 'none') {
    const tool = chosenTool(raw.tools, raw.tool_choice);
    const query = contentText(last.content);
    plan = tool.custom ? { kind: 'tool', toolName: tool.name, arguments: query, input: { query }, custom: true } : toolPlan(tool.name, query);
  }
  if (plan === undefined) {
    let userText = '';
    for (let i = messages.length - 1; i >= 0; i--) {
      if (messages[i]!.role === 'user') {
        userText = contentText(messages[i]!.content);
        break;
      }
    }
    plan = { kind: 'text', text: simulatedText(model, userText) };
  }
  const format = raw.response_format;
  if (plan.kind === 'text' && isRecord(format) && (format.type === 'json_object' || format.type === 'json_schema')) {
    plan = { kind: 'text', text: JSON.stringify({ reply: plan.text }) };
  }
  return plan;
}

function usageOf(req: SimRequest): Usage {
  const { promptTokens, completionTokens } = reportedUsage(req);
  return { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
}

function parse(raw: string): ParseResult {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, error: invalid(INVALID_JSON) };
  }
  if (!isRecord(json)) return { ok: false, error: invalid(`Invalid type for request body: expected an object, but got ${typeName(json)} instead.`, null, 'invalid_type') };
  const model = json.model;
  if (typeof model !== 'string' || model.length === 0) {
    return { ok: false, error: invalid('you must provide a model parameter') };
  }
  const messages = json.messages;
  if (messages === undefined) {
    return { ok: false, model, error: invalid("Missing required parameter: 'messages'.", 'messages', 'missing_required_parameter') };
  }
  if (!Array.isArray(messages)) {
    return { ok: false, model, error: invalid(`Invalid type for 'messages': expected an array of objects, but got ${typeName(messages)} instead.`, 'messages', 'invalid_type') };
  }
  if (messages.length === 0) {
    return {
      ok: false,
      model,
      error: invalid("Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.", 'messages', 'empty_array'),
    };
  }
  const texts: string[] = [];
  let chars = 0;
  for (let i = 0; i < messages.length; i++) {
    const m: unknown = messages[i];
    if (!isRecord(m)) {
      return { ok: false, model, error: invalid(`Invalid type for 'messages[${i}]': expected an object, but got ${typeName(m)} instead.`, `messages[${i}]`, 'invalid_type') };
    }
    if (m.role === undefined) {
      return { ok: false, model, error: invalid(`Missing required parameter: 'messages[${i}].role'.`, `messages[${i}].role`, 'missing_required_parameter') };
    }
    if (typeof m.role !== 'string' || !ROLES.has(m.role)) {
      return {
        ok: false,
        model,
        error: invalid(
          `Invalid value: '${String(m.role)}'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.`,
          `messages[${i}].role`,
          'invalid_value',
        ),
      };
    }
    const text = contentText(m.content);
    texts.push(text);
    chars += text.length;
  }
  if (json.stream !== undefined && json.stream !== null && typeof json.stream !== 'boolean') {
    return { ok: false, model, error: invalid(`Invalid type for 'stream': expected a boolean, but got ${typeName(json.stream)} instead.`, 'stream', 'invalid_type') };
  }
  const stream = json.stream === true;
  const options = json.stream_options;
  const request: SimRequest = {
    model,
    stream,
    includeUsage: stream && isRecord(options) && options.include_usage === true,
    texts,
    promptTokens: estimateTokens(chars),
    plan: planFor(model, messages as ChatMessage[], texts, json),
  };
  return { ok: true, request };
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

type OpenAICompletion = ChatCompletion & { system_fingerprint: string };

function reply(req: SimRequest, seq: number): string {
  const plan = req.plan;
  const completion: OpenAICompletion = {
    id: `chatcmpl-sim-${seq}`,
    object: 'chat.completion',
    created: nowSeconds(),
    model: req.model,
    choices: [
      plan.kind === 'text'
        ? { index: 0, message: { role: 'assistant', content: plan.text, refusal: null }, finish_reason: 'stop' }
        : {
            index: 0,
            message: {
              role: 'assistant',
              content: null,
              tool_calls: [
                (plan.custom
                  ? { id: `call_sim_${seq}`, type: 'custom', custom: { name: plan.toolName, input: plan.arguments } }
                  : { id: `call_sim_${seq}`, type: 'function', function: { name: plan.toolName, arguments: plan.arguments } }) satisfies ToolCall,
              ],
              refusal: null,
            },
            finish_reason: 'tool_calls',
          },
    ],
    usage: usageOf(req),
    system_fingerprint: 'fp_sim',
  };
  return JSON.stringify(completion);
}

function stream(req: SimRequest, seq: number, chunks: number): StreamScript {
  const plan = req.plan;
  const usageField = req.includeUsage ? ',"usage":null' : '';
  // Every chunk shares this prefix; only the delta and finish_reason differ.
  const prefix = `data: {"id":"chatcmpl-sim-${seq}","object":"chat.completion.chunk","created":${nowSeconds()},"model":${JSON.stringify(req.model)},"system_fingerprint":"fp_sim","choices":[{"index":0,"delta":`;
  const frame = (delta: string, finish: string | null = null) =>
    `${prefix}${delta},"logprobs":null,"finish_reason":${finish === null ? 'null' : `"${finish}"`}}]${usageField}}\n\n`;

  let head: string;
  let parts: string[];
  let finish: string;
  if (plan.kind === 'text') {
    head = frame('{"role":"assistant","content":"","refusal":null}');
    parts = splitChunks(plan.text, chunks).map((c) => frame(`{"content":${JSON.stringify(c)}}`));
    finish = 'stop';
  } else {
    const field = plan.custom ? 'custom' : 'function';
    const text = plan.custom ? 'input' : 'arguments';
    const first: ToolCallDelta = { index: 0, id: `call_sim_${seq}`, type: field, [field]: { name: plan.toolName, [text]: '' } };
    head = frame(`{"role":"assistant","content":null,"tool_calls":[${JSON.stringify(first)}]}`);
    parts = splitChunks(plan.arguments, chunks).map((c) => frame(`{"tool_calls":[{"index":0,"${field}":{"${text}":${JSON.stringify(c)}}}]}`));
    finish = 'tool_calls';
  }
  let tail = frame('{}', finish);
  if (req.includeUsage) {
    tail += `data: {"id":"chatcmpl-sim-${seq}","object":"chat.completion.chunk","created":${nowSeconds()},"model":${JSON.stringify(req.model)},"system_fingerprint":"fp_sim","choices":[],"usage":${JSON.stringify(usageOf(req))}}\n\n`;
  }
  tail += 'data: [DONE]\n\n';
  return { head, chunks: parts, tail };
}

const SERVER_ERROR = 'The server had an error while processing your request. Sorry about that!';

function errorReply(kind: ErrorKind, model: string): ErrorReply {
  switch (kind) {
    case 'rate_limit':
      return {
        status: 429,
        body: body(
          `Rate limit reached for ${model} in organization org-sim on requests per min (RPM): Limit 3, Used 3, Requested 1. ` +
            'Please try again in 20s. Visit https://platform.openai.com/account/rate-limits to learn more.',
          'requests',
          'rate_limit_exceeded',
        ),
      };
    case 'quota':
      return {
        status: 429,
        body: body(
          'You exceeded your current quota, please check your plan and billing details. ' +
            'For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.',
          'insufficient_quota',
          'insufficient_quota',
        ),
      };
    case 'overloaded':
      return { status: 503, body: body('The engine is currently overloaded, please try again later', 'server_error') };
    case 'server_error':
      return { status: 500, body: body(SERVER_ERROR, 'server_error') };
    case 'bad_gateway':
      return { status: 502, body: body('Bad gateway.', 'cf_bad_gateway', 502) };
    case 'auth':
      return {
        status: 401,
        body: body(
          'Incorrect API key provided: sk-sim***. You can find your API key at https://platform.openai.com/account/api-keys.',
          'invalid_request_error',
          'invalid_api_key',
        ),
      };
    case 'forbidden':
      return { status: 403, body: body('Country, region, or territory not supported', 'request_forbidden', 'unsupported_country_region_territory') };
    case 'model_not_found':
      return {
        status: 404,
        body: body(`The model \`${model}\` does not exist or you do not have access to it.`, 'invalid_request_error', 'model_not_found'),
      };
    case 'context_length':
      return {
        status: 400,
        body: body(
          "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens. Please reduce the length of the messages.",
          'invalid_request_error',
          'context_length_exceeded',
          'messages',
        ),
      };
    case 'content_filter':
      return {
        status: 400,
        body: {
          error: {
            message:
              "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry. " +
              'To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766',
            type: null,
            param: 'prompt',
            code: 'content_filter',
            status: 400,
            innererror: {
              code: 'ResponsibleAIPolicyViolation',
              content_filter_result: {
                hate: { filtered: false, severity: 'safe' },
                jailbreak: { filtered: false, detected: false },
                self_harm: { filtered: false, severity: 'safe' },
                sexual: { filtered: false, severity: 'safe' },
                violence: { filtered: true, severity: 'medium' },
              },
            },
          },
        } satisfies OpenAIErrorBody,
      };
    case 'invalid_request':
      return {
        status: 400,
        body: body("Invalid value for 'temperature': expected a number between 0 and 2, but got 3 instead.", 'invalid_request_error', null, 'temperature'),
      };
  }
}

function statusReply(status: number, _model: string): ErrorReply {
  if (status === 429) return { status, body: body('Rate limit exceeded. Please try again later.', 'requests', 'rate_limit_exceeded') };
  if (status >= 500) return { status, body: body(status === 500 ? SERVER_ERROR : `${STATUS_CODES[status] ?? 'Server error'}.`, 'server_error') };
  return { status, body: body(`${STATUS_CODES[status] ?? 'Error'}.`, 'invalid_request_error') };
}

function streamError(kind: ErrorKind | undefined, model: string): string {
  const err = kind === undefined ? body(SERVER_ERROR, 'server_error') : errorReply(kind, model).body;
  return `data: ${JSON.stringify(err)}\n\n`;
}

/** By default a JSON object that is no chunk: no `choices` (what a proxy's own notice or an error in another shape looks like). */
function malformedEvent(data: string | undefined): string {
  return `data: ${data ?? '{"id":"chatcmpl-sim-malformed","object":"chat.completion.chunk","notice":"no choices in this chunk"}'}\n\n`;
}

export const openaiFormat: WireFormat = {
  name: 'openai',
  requestIdHeader: 'x-request-id',
  parse,
  reply,
  stream,
  errorReply,
  statusReply,
  invalidRequest: (message) => invalid(message),
  streamError,
  malformedEvent,
  notFound: (method, path) => ({ status: 404, body: body(`Invalid URL (${method} ${path})`, 'invalid_request_error') }),
};
