import type { ChatCompletionChunk } from './chat-completion.types.js';

/** Content, a tool call, or a finish reason: from such a chunk on, the caller holds this model's answer. */
export function carriesContent(chunk: ChatCompletionChunk): boolean {
  for (const choice of chunk.choices) {
    if (choice.delta.content || choice.delta.tool_calls || choice.finish_reason) return true;
  }
  return false;
}
