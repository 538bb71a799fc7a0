import type {
  ChatCompletionRequest,
  ChatMessage,
  ContentPart,
  ResponseFormat,
  ToolChoice,
  ToolDefinition,
} from '../../chat/chat-completion.types.js';
import { toolName } from '../../chat/tool-calls.js';
import { isObject, safeJsonParse } from '../http-errors.js';
import type { AdapterTarget, UpstreamRequest } from '../provider-adapter.interface.js';
import {
  ANTHROPIC_VERSION,
  type AnthropicContentBlock,
  type AnthropicImageBlock,
  type AnthropicMessage,
  type AnthropicMessagesRequest,
  type AnthropicTextBlock,
  type AnthropicTool,
  type AnthropicToolChoice,
  type AnthropicToolResultBlock,
  type AnthropicToolUseBlock,
} from './anthropic.types.js';

/** Anthropic requires max_tokens; this is used when the caller sets neither limit. */
export const DEFAULT_MAX_TOKENS = 4096;

export function buildAnthropicRequest(request: ChatCompletionRequest, target: AdapterTarget, stream: boolean): UpstreamRequest {
  return {
    path: `${target.basePath}/messages`,
    headers: anthropicHeaders(target),
    body: JSON.stringify(toAnthropicRequest(request, target.upstreamModel, stream)),
  };
}

export function anthropicHeaders(target: AdapterTarget): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'anthropic-version': ANTHROPIC_VERSION };
  if (target.apiKey) headers['x-api-key'] = target.apiKey;
  return Object.assign(headers, target.headers);
}

/** Translates an OpenAI chat request into a Messages API request. */
export function toAnthropicRequest(request: ChatCompletionRequest, model: string, stream: boolean): AnthropicMessagesRequest {
  const system: string[] = [];
  const turns: Array<{ role: 'user' | 'assistant'; content: AnthropicContentBlock[] }> = [];

  for (const message of request.messages) {
    let role: 'user' | 'assistant';
    let blocks: AnthropicContentBlock[];
    switch (message.role) {
      case 'system':
      case 'developer': {
        const text = plainText(message.content);
        if (text.length > 0) system.push(text);
        continue;
      }
      case 'tool':
        role = 'user';
        blocks = [toolResultBlock(message)];
        break;
      case 'assistant':
        role = 'assistant';
        blocks = assistantBlocks(message);
        break;
      default:
        role = 'user';
        blocks = contentBlocks(message.content, true);
    }
    if (blocks.length === 0) continue;
    // Anthropic requires alternating roles: fold consecutive same-role turns together
    // (this also gathers consecutive tool results into one user message).
    const last = turns.length > 0 ? turns[turns.length - 1] : undefined;
    if (last !== undefined && last.role === role) {
      for (const block of blocks) last.content.push(block);
    } else {
      turns.push({ role, content: blocks });
    }
  }

  const messages: AnthropicMessage[] = turns.map((turn) =>
    turn.content.length === 1 && turn.content[0].type === 'text' ? { role: turn.role, content: turn.content[0].text } : turn,
  );

  const jsonInstruction = request.response_format ? jsonFormatInstruction(request.response_format) : undefined;
  if (jsonInstruction !== undefined) system.push(jsonInstruction);

  const body: AnthropicMessagesRequest = {
    model,
    max_tokens: request.max_completion_tokens ?? request.max_tokens ?? DEFAULT_MAX_TOKENS,
    messages,
  };
  if (system.length > 0) body.system = system.join('\n\n');
  // Optional fields may be null (OpenAI takes null as absent, and so does this translation).
  // Anthropic accepts 0..1 where OpenAI accepts 0..2: clamp rather than fail a fallback with a 400.
  if (request.temperature != null) body.temperature = Math.min(1, Math.max(0, request.temperature));
  if (request.top_p != null) body.top_p = request.top_p;
  if (request.stop != null) {
    const stops = typeof request.stop === 'string' ? [request.stop] : request.stop;
    if (stops.length > 0) body.stop_sequences = stops;
  }
  const tools = request.tools != null ? anthropicTools(request.tools, request.tool_choice) : [];
  if (tools.length > 0) {
    body.tools = tools;
    if (request.tool_choice != null) body.tool_choice = toAnthropicToolChoice(request.tool_choice);
    // With 'none' no tool is called at all: there is nothing to limit.
    if (request.parallel_tool_calls === false && body.tool_choice?.type !== 'none') {
      body.tool_choice = { ...(body.tool_choice ?? { type: 'auto' }), disable_parallel_tool_use: true };
    }
  }
  if (request.user != null) body.metadata = { user_id: request.user };
  if (stream) body.stream = true;
  return body;
}

function plainText(content: ChatMessage['content']): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let text = '';
  for (const part of content) {
    if (part.type === 'text' && part.text.length > 0) text = text.length > 0 ? `${text}\n${part.text}` : part.text;
  }
  return text;
}

function contentBlocks(content: ChatMessage['content'], allowImages: boolean): AnthropicContentBlock[] {
  if (typeof content === 'string') return content.length > 0 ? [{ type: 'text', text: content }] : [];
  if (!Array.isArray(content)) return [];
  const blocks: AnthropicContentBlock[] = [];
  for (const part of content as ContentPart[]) {
    if (part.type === 'text') {
      if (part.text.length > 0) blocks.push({ type: 'text', text: part.text });
    } else if (part.type === 'image_url' && allowImages) {
      blocks.push(imageBlock(part.image_url.url));
    }
  }
  return blocks;
}

function assistantBlocks(message: ChatMessage): AnthropicContentBlock[] {
  const blocks = contentBlocks(message.content, false);
  if (message.tool_calls != null) {
    for (const call of message.tool_calls) {
      // A custom tool's free-form input has no Anthropic form (such requests need the custom_tools capability): kept as text.
      const input = call.type === 'custom' ? { input: call.custom.input } : toolInput(call.function.arguments);
      const block: AnthropicToolUseBlock = { type: 'tool_use', id: call.id, name: toolName(call), input };
      blocks.push(block);
    }
  }
  return blocks;
}

/** Tool arguments are a JSON string in OpenAI and an object in Anthropic; invalid JSON is kept, wrapped. */
export function toolInput(args: string | undefined): Record<string, unknown> {
  if (args === undefined || args.trim().length === 0) return {};
  const parsed = safeJsonParse(args);
  return isObject(parsed) ? parsed : { raw_arguments: args };
}

function toolResultBlock(message: ChatMessage): AnthropicToolResultBlock {
  const block: AnthropicToolResultBlock = { type: 'tool_result', tool_use_id: message.tool_call_id ?? '' };
  if (typeof message.content === 'string') {
    if (message.content.length > 0) block.content = message.content;
  } else if (Array.isArray(message.content)) {
    const texts = contentBlocks(message.content, false) as AnthropicTextBlock[];
    if (texts.length > 0) block.content = texts;
  }
  return block;
}

/** `data:` URLs become base64 sources; anything else is passed as a URL source. */
export function imageBlock(url: string): AnthropicImageBlock {
  if (url.startsWith('data:')) {
    const comma = url.indexOf(',');
    if (comma > 5) {
      const header = url.slice(5, comma);
      const semi = header.indexOf(';');
      const mediaType = semi < 0 ? header : header.slice(0, semi);
      const payload = url.slice(comma + 1);
      const base64 = header.slice(-7).toLowerCase() === ';base64';
      return { type: 'image', source: { type: 'base64', media_type: mediaType, data: base64 ? payload : percentDecodedBase64(payload) } };
    }
  }
  return { type: 'image', source: { type: 'url', url } };
}

function percentDecodedBase64(payload: string): string {
  let text = payload;
  try {
    text = decodeURIComponent(payload);
  } catch {
    // keep it as it came
  }
  return Buffer.from(text, 'utf8').toString('base64');
}

/**
 * The function tools, as Anthropic tools. An `allowed_tools` choice keeps only
 * the tools it allows: Anthropic has no list apart from `tools`. Custom tools
 * have no Anthropic form; a request with one is routed only to models with the
 * `custom_tools` capability, which an Anthropic model cannot declare.
 */
function anthropicTools(tools: readonly ToolDefinition[], choice: ToolChoice | undefined): AnthropicTool[] {
  const allowed = typeof choice === 'object' && choice.type === 'allowed_tools' ? new Set(choice.allowed_tools.tools.map(toolName)) : undefined;
  const out: AnthropicTool[] = [];
  for (const tool of tools) {
    if (tool.type !== 'function' || (allowed !== undefined && !allowed.has(tool.function.name))) continue;
    const fn = tool.function;
    const converted: AnthropicTool = { name: fn.name, input_schema: fn.parameters ?? { type: 'object' } };
    if (fn.description !== undefined) converted.description = fn.description;
    out.push(converted);
  }
  return out;
}

export function toAnthropicToolChoice(choice: ToolChoice): AnthropicToolChoice {
  if (choice === 'auto') return { type: 'auto' };
  if (choice === 'required') return { type: 'any' };
  if (choice === 'none') return { type: 'none' };
  if (choice.type === 'allowed_tools') return { type: choice.allowed_tools.mode === 'required' ? 'any' : 'auto' };
  return { type: 'tool', name: toolName(choice) };
}

const JSON_OBJECT_ONLY = 'Respond only with a single valid JSON object. Do not include any text, explanation or code fences outside the JSON.';
const JSON_SCHEMA_ONLY = 'Respond only with valid JSON that conforms to the JSON schema below. Do not include any text, explanation or code fences outside the JSON.';

function jsonFormatInstruction(format: ResponseFormat): string | undefined {
  if (format.type === 'json_object') return JSON_OBJECT_ONLY;
  if (format.type === 'json_schema') {
    const schema = format.json_schema.schema;
    return schema === undefined ? JSON_OBJECT_ONLY : `${JSON_SCHEMA_ONLY}\n${JSON.stringify(schema)}`;
  }
  return undefined;
}
