import type { ChatCompletionChunk, FinishReason, Usage } from '../../chat/chat-completion.types.js';
import { isObject, safeJsonParse, type JsonObject } from '../http-errors.js';
import type { AdapterTarget, StreamDecoder } from '../provider-adapter.interface.js';
import { brokenStreamProtocol } from '../sse/broken-stream-protocol.js';
import type { SseEvent } from '../sse/sse-decoder.js';
import { anthropicInBandFailure } from './anthropic.errors.js';
import { finishReason, promptTokens } from './anthropic.response.js';
import type { AnthropicUsage } from './anthropic.types.js';

type Delta = ChatCompletionChunk['choices'][number]['delta'];

/**
 * Translates Messages API stream events (message_start, content_block_*,
 * message_delta, message_stop, ping, error) into OpenAI chunks.
 *
 * Usage is known from message_start on (prompt tokens) and updated by
 * message_delta, so an interrupted stream still reports what was consumed.
 */
export class AnthropicStreamDecoder implements StreamDecoder {
  private id = '';
  private readonly created = Math.floor(Date.now() / 1000);
  private prompt = 0;
  private completion = 0;
  private reported: Usage | undefined;
  private done = false;
  private toolCount = 0;
  /** Anthropic content-block index → OpenAI tool_calls index. */
  private readonly toolIndex = new Map<number, number>();

  constructor(private readonly target: AdapterTarget) {}

  get finished(): boolean {
    return this.done;
  }

  get usage(): Usage | undefined {
    return this.reported;
  }

  decode(event: SseEvent): ChatCompletionChunk[] {
    if (event.data.length === 0) return [];
    const parsed = safeJsonParse(event.data);
    if (!isObject(parsed)) throw brokenStreamProtocol('an event that is not JSON');
    const type = typeof parsed.type === 'string' ? parsed.type : event.event;
    if (type === 'error' || event.event === 'error') throw anthropicInBandFailure(parsed);
    // Unknown event types are skipped (Anthropic adds them); an event with no type at all is no Messages event.
    if (type === undefined) throw brokenStreamProtocol('an event without a type');
    switch (type) {
      case 'message_start':
        return this.messageStart(parsed);
      case 'content_block_start':
        return this.blockStart(parsed);
      case 'content_block_delta':
        return this.blockDelta(parsed);
      case 'message_delta':
        return this.messageDelta(parsed);
      case 'message_stop':
        return this.messageStop();
      default:
        // ping, content_block_stop, and event types added later: nothing to emit.
        return [];
    }
  }

  private messageStart(event: JsonObject): ChatCompletionChunk[] {
    const message = isObject(event.message) ? event.message : {};
    if (typeof message.id === 'string') this.id = message.id;
    if (isObject(message.usage)) this.updateUsage(message.usage as AnthropicUsage);
    return [this.chunk({ role: 'assistant', content: '' }, null)];
  }

  private blockStart(event: JsonObject): ChatCompletionChunk[] {
    const block = event.content_block;
    if (!isObject(block)) return [];
    if (block.type === 'text') {
      return typeof block.text === 'string' && block.text.length > 0 ? [this.chunk({ content: block.text }, null)] : [];
    }
    if (block.type === 'tool_use') {
      const index = this.toolCount++;
      if (typeof event.index === 'number') this.toolIndex.set(event.index, index);
      return [
        this.chunk(
          {
            tool_calls: [
              {
                index,
                id: typeof block.id === 'string' ? block.id : '',
                type: 'function',
                function: { name: typeof block.name === 'string' ? block.name : '', arguments: '' },
              },
            ],
          },
          null,
        ),
      ];
    }
    return [];
  }

  private blockDelta(event: JsonObject): ChatCompletionChunk[] {
    const delta = event.delta;
    // Dropped, a delta would lose part of the answer without a word.
    if (!isObject(delta)) throw brokenStreamProtocol('a content_block_delta without a delta');
    if (delta.type === 'text_delta') {
      if (typeof delta.text !== 'string') throw brokenStreamProtocol('a text_delta without text');
      return delta.text.length > 0 ? [this.chunk({ content: delta.text }, null)] : [];
    }
    if (delta.type === 'input_json_delta') {
      const json = delta.partial_json;
      const index = typeof event.index === 'number' ? this.toolIndex.get(event.index) : undefined;
      if (typeof json !== 'string' || json.length === 0 || index === undefined) return [];
      return [this.chunk({ tool_calls: [{ index, function: { arguments: json } }] }, null)];
    }
    // thinking_delta, signature_delta, citations_delta: not part of the OpenAI shape.
    return [];
  }

  private messageDelta(event: JsonObject): ChatCompletionChunk[] {
    if (isObject(event.usage)) this.updateUsage(event.usage as AnthropicUsage);
    const delta = isObject(event.delta) ? event.delta : {};
    const reason = finishReason(typeof delta.stop_reason === 'string' ? delta.stop_reason : null);
    return reason === null ? [] : [this.chunk({}, reason)];
  }

  private messageStop(): ChatCompletionChunk[] {
    this.done = true;
    const usage = this.reported ?? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
    this.reported = usage;
    return [{ id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.target.model, choices: [], usage }];
  }

  /** message_start carries input tokens; message_delta carries cumulative output (and, lately, input) tokens. */
  private updateUsage(usage: AnthropicUsage): void {
    // Counts are cumulative: never let a later, partial usage object lower them.
    if (typeof usage.input_tokens === 'number') this.prompt = Math.max(this.prompt, promptTokens(usage));
    if (typeof usage.output_tokens === 'number') this.completion = usage.output_tokens;
    this.reported = { prompt_tokens: this.prompt, completion_tokens: this.completion, total_tokens: this.prompt + this.completion };
  }

  private chunk(delta: Delta, finish: FinishReason): ChatCompletionChunk {
    return { id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.target.model, choices: [{ index: 0, delta, finish_reason: finish }] };
  }
}
