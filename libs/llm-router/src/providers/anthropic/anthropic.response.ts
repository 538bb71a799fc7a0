import type { ChatCompletion, FinishReason, ToolCall, Usage } from '../../chat/chat-completion.types.js';
import { UpstreamFailure } from '../../errors/upstream-failure.js';
import { isObject, safeJsonParse } from '../http-errors.js';
import type { AdapterTarget } from '../provider-adapter.interface.js';
import { anthropicInBandFailure } from './anthropic.errors.js';
import type { AnthropicMessageResponse, AnthropicUsage } from './anthropic.types.js';

/** Parses a 2xx Messages API body into an OpenAI chat completion. */
export function parseAnthropicCompletion(body: string, target: AdapterTarget): ChatCompletion {
  const parsed = safeJsonParse(body);
  if (!isObject(parsed)) {
    throw new UpstreamFailure({ category: 'transient', status: 200, code: 'invalid_response', message: 'upstream answered 200 with a body that is not JSON' });
  }
  if (parsed.type === 'error' || isObject(parsed.error)) throw anthropicInBandFailure(parsed);
  if (!Array.isArray(parsed.content)) {
    throw new UpstreamFailure({ category: 'transient', status: 200, code: 'invalid_response', message: 'upstream answered 200 with no content' });
  }
  return toChatCompletion(parsed as unknown as AnthropicMessageResponse, target.model, Math.floor(Date.now() / 1000));
}

export function toChatCompletion(message: AnthropicMessageResponse, model: string, created: number): ChatCompletion {
  let content: string | null = null;
  let toolCalls: ToolCall[] | undefined;
  for (const block of message.content) {
    if (block.type === 'text' && typeof block.text === 'string') {
      content = content === null ? block.text : content + block.text;
    } else if (block.type === 'tool_use') {
      (toolCalls ??= []).push({
        id: block.id ?? '',
        type: 'function',
        function: { name: block.name ?? '', arguments: JSON.stringify(block.input ?? {}) },
      });
    }
  }
  const completion: ChatCompletion = {
    id: message.id,
    object: 'chat.completion',
    created,
    model,
    choices: [
      {
        index: 0,
        message: toolCalls === undefined ? { role: 'assistant', content } : { role: 'assistant', content, tool_calls: toolCalls },
        finish_reason: finishReason(message.stop_reason),
      },
    ],
  };
  if (message.usage !== undefined) completion.usage = toUsage(message.usage);
  return completion;
}

export function finishReason(stopReason: string | null | undefined): FinishReason {
  switch (stopReason) {
    case undefined:
    case null:
      return null;
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default:
      // end_turn, stop_sequence, pause_turn and anything newer
      return 'stop';
  }
}

/** Anthropic reports cached input apart from input_tokens; OpenAI's prompt_tokens includes it. */
export function promptTokens(usage: AnthropicUsage): number {
  return (usage.input_tokens ?? 0) + (usage.cache_creation_input_tokens ?? 0) + (usage.cache_read_input_tokens ?? 0);
}

export function toUsage(usage: AnthropicUsage): Usage {
  const prompt = promptTokens(usage);
  const completion = usage.output_tokens ?? 0;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}
