import type { ChatCompletionRequest } from '../chat/chat-completion.types.js';
import type { Capability } from '../policy/policy.schema.js';

/** What a request demands of any model that serves it. */
export interface RequestNeeds {
  readonly capabilities: readonly Capability[];
  /** Rough prompt size: characters / 4, plus per-message and per-image overheads. */
  readonly estimatedPromptTokens: number;
  /** The output the caller allows (max_completion_tokens or max_tokens), if stated. */
  readonly requestedMaxOutputTokens?: number;
}

const TOKENS_PER_MESSAGE = 4;
const TOKENS_PER_IMAGE = 765;

/** Derived in one pass over the messages; cheap enough for every request. */
export function deriveRequestNeeds(request: ChatCompletionRequest): RequestNeeds {
  let chars = 0;
  let images = 0;
  for (const m of request.messages) {
    const content = m.content;
    if (typeof content === 'string') chars += content.length;
    else if (Array.isArray(content)) {
      for (const part of content) {
        if (part.type === 'text') chars += part.text.length;
        else if (part.type === 'image_url') images++;
      }
    }
    if (m.tool_calls) for (const call of m.tool_calls) chars += call.function.name.length + call.function.arguments.length;
  }
  if (request.tools) chars += JSON.stringify(request.tools).length;

  const capabilities: Capability[] = [];
  if (request.tools && request.tools.length > 0) capabilities.push('tools');
  if (images > 0) capabilities.push('vision');
  const format = request.response_format?.type;
  if (format === 'json_object' || format === 'json_schema') capabilities.push('json');
  if (request.stream) capabilities.push('streaming');

  return {
    capabilities,
    estimatedPromptTokens: Math.ceil(chars / 4) + request.messages.length * TOKENS_PER_MESSAGE + images * TOKENS_PER_IMAGE,
    requestedMaxOutputTokens: request.max_completion_tokens ?? request.max_tokens,
  };
}
