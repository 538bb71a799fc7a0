import type { ChatCompletionRequest } from '../chat/chat-completion.types.js';
import { toolCallInput, toolName } from '../chat/tool-calls.js';
import type { Capability } from '../policy/policy.schema.js';
import { textTokens } from '../chat/text-tokens.js';

/** What a request demands of any model that serves it. */
export interface RequestNeeds {
  readonly capabilities: readonly Capability[];
  /** Rough prompt size: text by script (see textTokens), plus per-message and per-image overheads. */
  readonly estimatedPromptTokens: number;
  /** The output the caller allows (max_completion_tokens or max_tokens), if stated. */
  readonly requestedMaxOutputTokens?: number;
}

/** What each message adds to the prompt beyond its text (role and separators), and each image. */
export const TOKENS_PER_MESSAGE = 4;
export const TOKENS_PER_IMAGE = 765;

/**
 * Calls `visit` with every text of the prompt a model reads: message
 * contents, the tool calls in them, and the tools' JSON. Returns the number of
 * images, which count by the image.
 */
export function visitPromptTexts(request: ChatCompletionRequest, visit: (text: string) => void): number {
  let images = 0;
  for (const m of request.messages) {
    const content = m.content;
    if (typeof content === 'string') visit(content);
    else if (Array.isArray(content)) {
      for (const part of content) {
        if (part.type === 'text') visit(part.text);
        else if (part.type === 'image_url') images++;
      }
    }
    if (m.tool_calls) {
      for (const call of m.tool_calls) {
        visit(toolName(call));
        visit(toolCallInput(call));
      }
    }
  }
  if (request.tools) visit(JSON.stringify(request.tools));
  return images;
}

/** Derived in one pass over the messages; cheap enough for every request. */
export function deriveRequestNeeds(request: ChatCompletionRequest): RequestNeeds {
  let tokens = 0;
  const images = visitPromptTexts(request, (text) => {
    tokens += textTokens(text);
  });
  let needed = 0;
  if (request.tools && request.tools.length > 0) needed |= 1;
  if (usesCustomTools(request)) needed |= 2;
  if (images > 0) needed |= 4;
  const format = request.response_format?.type;
  if (format === 'json_object' || format === 'json_schema') needed |= 8;
  if (request.stream) needed |= 16;
  return {
    capabilities: capabilityList(needed),
    estimatedPromptTokens: Math.ceil(tokens) + request.messages.length * TOKENS_PER_MESSAGE + images * TOKENS_PER_IMAGE,
    requestedMaxOutputTokens: request.max_completion_tokens ?? request.max_tokens,
  };
}

/** The capabilities a request can need, in the order of capabilityList's bits. */
const NEEDED_CAPABILITIES: readonly Capability[] = ['tools', 'custom_tools', 'vision', 'json', 'streaming'];
const CAPABILITY_LISTS: (readonly Capability[] | undefined)[] = [];

/**
 * One shared, frozen list per combination of needs: a stream's plan holds its
 * list for the stream's life, and a list pushed onto from empty kept 17 slots
 * (152 B) for its one or two.
 */
function capabilityList(needed: number): readonly Capability[] {
  return (CAPABILITY_LISTS[needed] ??= Object.freeze(NEEDED_CAPABILITIES.filter((_, bit) => (needed & (1 << bit)) !== 0)));
}

/** A custom tool offered, named in tool_choice, or called earlier in the conversation: only a model that has them can read it. */
function usesCustomTools(request: ChatCompletionRequest): boolean {
  if (request.tools) for (const tool of request.tools) if (tool.type === 'custom') return true;
  const choice = request.tool_choice;
  if (typeof choice === 'object') {
    if (choice.type === 'custom') return true;
    if (choice.type === 'allowed_tools') for (const tool of choice.allowed_tools.tools) if (tool.type === 'custom') return true;
  }
  for (const m of request.messages) if (m.tool_calls) for (const call of m.tool_calls) if (call.type === 'custom') return true;
  return false;
}
